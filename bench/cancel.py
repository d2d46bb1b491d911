"""How long a cancel takes to stop a running turn: `make run` against `make run-aws`, side by side.

Both servers run as the commands start them, serving `examples/langgraph_features`' `essay` graph (a model
streaming a word every 200 ms for about twenty seconds). Per trial: a message on a fresh thread, three tokens,
then `{"type": "cancel"}`; measured from sending the cancel: the last token frame that still arrived, and the
turn's terminal frame (`message_complete` with `status` `cancelled`). On `run-aws` the route handler marks
the session and the worker, which polls the mark every 0.4 s while its turn runs, stops the graph.

Run: `python -m bench.cancel [--quick]` (`--quick`: one trial per path, a smoke run).
"""

from __future__ import annotations

import json
import os
import statistics
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path

from websockets.sync.client import connect

from bench.common import quick, table
from tests.support.subprocess_server import aws_emulator_process, local_server_process

TRIALS = 10
CONFIG = Path(__file__).resolve().parents[1] / "examples" / "langgraph_features" / "langgraph.json"
ENV = {**os.environ, "LANGGRAPH_CONFIG": str(CONFIG), "GRAPH": "essay"}


def one_cancel(url: str) -> tuple[float, float]:
    """(seconds from the cancel to the last token frame after it, seconds to the terminal frame)."""
    thread = f"c-{uuid.uuid4().hex[:10]}"
    with connect(url) as ws:
        ws.send(json.dumps({"type": "message", "thread_id": thread, "content": "an essay, please"}))
        tokens = 0
        while tokens < 3:
            frame = json.loads(ws.recv(timeout=60))
            tokens += frame["type"] == "token"
        ws.send(json.dumps({"type": "cancel", "thread_id": thread}))
        sent = time.perf_counter()
        last_token = 0.0
        while True:
            frame = json.loads(ws.recv(timeout=60))
            if frame["type"] == "token":
                last_token = time.perf_counter() - sent
            elif frame["type"] in ("message_complete", "error"):
                assert frame.get("status") == "cancelled", frame
                return last_token, time.perf_counter() - sent


@contextmanager
def local() -> Iterator[str]:
    with local_server_process(env=ENV) as url:
        yield url


@contextmanager
def aws() -> Iterator[str]:
    with aws_emulator_process(env=ENV) as emulator:
        yield emulator.signed_in_url


def measure(start: Callable[[], AbstractContextManager[str]], trials: int) -> list[tuple[float, float]]:
    with start() as url:
        return [one_cancel(url) for _ in range(trials)]


def main() -> None:
    trials = 1 if quick() else TRIALS
    rows = []
    for name, start in (("run", local), ("run-aws", aws)):
        results = measure(start, trials)
        tokens, ends = [r[0] for r in results], [r[1] for r in results]
        rows.append(
            [
                name,
                trials,
                f"{statistics.median(tokens) * 1000:.0f}",
                f"{max(tokens) * 1000:.0f}",
                f"{statistics.median(ends) * 1000:.0f}",
                f"{max(ends) * 1000:.0f}",
            ]
        )
    headers = ["path", "trials", "last token p50 (ms)", "last token max (ms)", "end p50 (ms)", "end max (ms)"]
    print(table("Cancel: from sending it to the last token and to the turn's end", headers, rows))


if __name__ == "__main__":
    main()
