"""A turn through `make run-aws` against the same turn through `make run`, side by side, same agent.

Both servers run as the commands start them (`python -m local_server`, `python -m local_server.emulator`).
Per path: the time from starting the process until `/api/health` answers, and for 20 turns on fresh threads
("What is the status of order 1042?", the offline agent, a tool call and a streamed answer) the time to the
first token and to `message_complete`. On `run-aws` a turn crosses the route handler, SQS (moto's server),
the worker, DynamoDB checkpoints and one HTTP post per frame batch, each Lambda with its IAM role checked.
Each run-aws turn is also split into its steps (`bench.turn_steps`: route handler, queue hand-off, worker
set-up, model + tools, and the rest, which add up to the turn; besides, the time spent posting frames and
writing the frame log, alongside the model, and the worker's time after the turn's last frame), read from
the emulator's own log lines and the worker's metrics; printed as the median of each.

Run: `python -m bench.run_aws [--quick]` (`--quick`: 2 turns per path, a smoke run).
"""

from __future__ import annotations

import json
import statistics
import time
import uuid
from collections.abc import Callable
from contextlib import AbstractContextManager

from websockets.sync.client import connect

from bench.common import percentile, quick, table
from bench.turn_steps import STEPS, TurnSteps, log_after, turn_steps
from tests.support.subprocess_server import aws_emulator_process, local_server_process

TURNS = 20
QUICK_TURNS = 2
QUESTION = "What is the status of order 1042?"


def one_turn(url: str) -> tuple[float, float]:
    """(seconds to the first token, seconds to message_complete) of one turn on a fresh thread."""
    with connect(url) as ws:
        started = time.perf_counter()
        ws.send(
            json.dumps({"type": "message", "thread_id": f"b-{uuid.uuid4().hex[:10]}", "content": QUESTION})
        )
        first = None
        while True:
            frame = json.loads(ws.recv(timeout=60))
            if frame["type"] == "token" and first is None:
                first = time.perf_counter() - started
            if frame["type"] in ("message_complete", "error"):
                assert frame["type"] == "message_complete", frame
                return first or 0.0, time.perf_counter() - started


def measure(
    start: Callable[[], AbstractContextManager[str]], turns: int = TURNS
) -> tuple[float, list[tuple[float, float]]]:
    began = time.perf_counter()
    with start() as url:
        ready = time.perf_counter() - began
        one_turn(url)  # warm: the first turn builds clients and the graph
        return ready, [one_turn(url) for _ in range(turns)]


def local() -> AbstractContextManager[str]:
    return local_server_process()


def measure_aws(turns: int = TURNS) -> tuple[float, list[tuple[float, float]], list[TurnSteps]]:
    """As `measure`, on `make run-aws`, with each turn's steps (the next turn starts once the worker's
    invocation has ended)."""
    began = time.perf_counter()
    with aws_emulator_process() as emulator:
        ready = time.perf_counter() - began
        offset = len(emulator.log())
        one_turn(emulator.signed_in_url)  # warm: the first turn builds clients and the graph
        log_after(emulator, offset)
        results, steps = [], []
        for _ in range(turns):
            offset = len(emulator.log())
            results.append(one_turn(emulator.signed_in_url))
            steps.append(turn_steps(log_after(emulator, offset), results[-1][1]))
        return ready, results, steps


def steps_table(steps: list[TurnSteps]) -> str:
    """The median and p95 of each step (ms); then the time spent posting and writing the frame log, and the
    worker's time after the turn's last frame (neither adds to the steps: both overlap them)."""
    columns: list[tuple[str, list[float]]] = [
        (name, [s.row()[i] for s in steps]) for i, name in enumerate(STEPS)
    ]
    columns += [
        ("(turn)", [s.total_ms for s in steps]),
        ("posts + frame log, during the above", [s.posts_ms for s in steps]),
        ("worker after the last frame", [s.after_ms for s in steps]),
    ]
    rows = [[name, f"{statistics.median(v):.0f}", f"{percentile(v, 95):.0f}"] for name, v in columns]
    return table(f"run-aws turn by step, {len(steps)} turns", ["step", "p50 (ms)", "p95 (ms)"], rows)


def main() -> None:
    count = QUICK_TURNS if quick() else TURNS
    run = measure(local, count)
    aws_ready, aws_turns, steps = measure_aws(count)
    results = {"run": run, "run-aws": (aws_ready, aws_turns)}
    rows = []
    for name, (ready, turns) in results.items():
        firsts, totals = [t[0] for t in turns], [t[1] for t in turns]
        rows.append(
            [
                name,
                f"{ready:.1f}",
                f"{statistics.median(firsts) * 1000:.0f}",
                f"{statistics.median(totals) * 1000:.0f}",
                f"{percentile(totals, 95) * 1000:.0f}",
            ]
        )
    print(
        table(
            f"{count} turns per path",
            ["path", "start (s)", "first token p50 (ms)", "turn p50 (ms)", "turn p95 (ms)"],
            rows,
        )
    )
    run_total = statistics.median(t[1] for t in results["run"][1])
    aws_total = statistics.median(t[1] for t in results["run-aws"][1])
    print(f"run-aws / run, median turn: {aws_total / run_total:.1f}x")
    print(steps_table(steps))


if __name__ == "__main__":
    main()
