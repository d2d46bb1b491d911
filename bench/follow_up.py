"""A follow-up on the same thread, right after the previous answer: `make run-aws` against `make run`.

Both servers run as the commands start them, the same offline agent. Per path, after one warm-up turn:
10 messages on one thread, each sent as soon as the previous one's `message_complete` arrived, timed from
sending it to its first frame (against the first message of 10 fresh threads, which waits behind nothing);
and 5 bursts of three messages sent at once on a fresh thread (queued behind each other, `enqueue`), timed
from the first send to the third `message_complete`. On `run-aws` the thread's
turns are one SQS FIFO group: the next message becomes visible when the worker deletes the previous one.

Run: `python -m bench.follow_up [--quick]` (`--quick`: 2 follow-ups and 1 burst per path, a smoke run).
"""

from __future__ import annotations

import json
import statistics
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from typing import Any

from websockets.sync.client import ClientConnection, connect

from bench.common import quick, table
from tests.support.subprocess_server import aws_emulator_process, local_server_process

FOLLOW_UPS, BURSTS = 10, 5
QUESTION = "What is the status of order 1042?"


def _send(ws: ClientConnection, thread: str) -> None:
    ws.send(json.dumps({"type": "message", "thread_id": thread, "content": QUESTION}))


def _frame(ws: ClientConnection) -> dict[str, Any]:
    frame: dict[str, Any] = json.loads(ws.recv(timeout=60))
    assert frame["type"] != "error", frame
    return frame


def follow_ups(ws: ClientConnection, count: int) -> list[float]:
    """Seconds from sending each follow-up (right after the previous answer) to its first frame."""
    thread = f"f-{uuid.uuid4().hex[:10]}"
    waits = []
    for index in range(count + 1):
        sent = time.perf_counter()
        _send(ws, thread)
        first = None
        while _frame(ws)["type"] != "message_complete":
            first = first or time.perf_counter() - sent
        if index:  # the thread's first message is no follow-up
            waits.append(first or time.perf_counter() - sent)
    return waits


def first_frame(ws: ClientConnection) -> float:
    """Seconds from sending a thread's first message to its first frame (nothing queued before it)."""
    sent = time.perf_counter()
    _send(ws, f"n-{uuid.uuid4().hex[:10]}")
    first = None
    while _frame(ws)["type"] != "message_complete":
        first = first or time.perf_counter() - sent
    return first or time.perf_counter() - sent


def burst(ws: ClientConnection) -> float:
    """Seconds from sending three messages at once on a fresh thread to the third answer's end."""
    thread = f"b-{uuid.uuid4().hex[:10]}"
    sent = time.perf_counter()
    for _ in range(3):
        _send(ws, thread)
    for _ in range(3):
        while _frame(ws)["type"] != "message_complete":
            pass
    return time.perf_counter() - sent


@contextmanager
def aws() -> Iterator[str]:
    with aws_emulator_process() as emulator:
        yield emulator.signed_in_url


def measure(start: Callable[[], AbstractContextManager[str]], count: int, bursts: int) -> list[object]:
    with start() as url:
        with connect(url) as ws:  # a connection per part: each stays under the per-connection rate limit
            follow_ups(ws, 0)  # warm: the first turn builds clients and the graph
            waits = follow_ups(ws, count)
        with connect(url) as ws:
            fresh = [first_frame(ws) for _ in range(count)]
        totals = []
        for _ in range(bursts):
            with connect(url) as ws:
                totals.append(burst(ws))
    return [
        f"{statistics.median(fresh) * 1000:.0f}",
        f"{statistics.median(waits) * 1000:.0f}",
        f"{max(waits) * 1000:.0f}",
        f"{statistics.median(totals) * 1000:.0f}",
    ]


def main() -> None:
    count, bursts = (2, 1) if quick() else (FOLLOW_UPS, BURSTS)
    rows = [
        [name, *measure(start, count, bursts)]
        for name, start in (("run", local_server_process), ("run-aws", aws))
    ]
    print(
        table(
            f"Follow-ups on one thread: {count} right after each answer, {bursts} bursts of three",
            [
                "path",
                "fresh thread: first frame p50 (ms)",
                "follow-up: first frame p50 (ms)",
                "follow-up max (ms)",
                "three at once, to the last end p50 (ms)",
            ],
            rows,
        )
    )


if __name__ == "__main__":
    main()
