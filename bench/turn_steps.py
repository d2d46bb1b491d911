"""One `make run-aws` turn split into its steps, read from what the emulator process writes to its log.

The emulator logs one `REPORT` line per invocation (function and duration, as Lambda does) and one line per
SQS message it delivers (its time in the queue since `SendMessage`); the worker prints its Powertools
metrics (CloudWatch's embedded metric format): `SetupLatency` (the job's start until the turn's first
frame), `RunSeconds` (its first frame until its last: model and tools), `PostSeconds` and `FrameLogSeconds`
(time in `post_to_connection` and in frame-log writes, which run alongside the model).
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from typing import Any

from local_server.emulator.event_source import DELIVERY_LINE
from local_server.emulator.functions import REPORT_LINE
from tests.support.subprocess_server import EmulatorProcess

ROUTE_FUNCTION = "MessageFunction"
WORKER_FUNCTION = "AgentWorkerFunction"
STEPS = ("route handler", "queue hand-off", "worker set-up", "model + tools", "rest")
"""The steps of a turn, in order; they add up to the turn as the client measures it."""


@dataclass(frozen=True)
class TurnSteps:
    """One turn's steps, in milliseconds."""

    route_ms: float
    """The `$default` route handler's invocation (it sends the job to SQS before it returns)."""
    queue_ms: float
    """From the route handler's `SendMessage` until the worker's invocation starts."""
    worker_ms: float
    """The worker's whole invocation."""
    setup_ms: float
    """The worker's job start until the turn's first frame (session and checkpoint reads, graph start)."""
    run_ms: float
    """The turn's first frame until its last (model and tools)."""
    posts_ms: float
    """Time in `post_to_connection` and frame-log writes (alongside the model, not after it)."""
    total_ms: float
    """The turn as the client measured it (message sent until `message_complete` received)."""

    @property
    def after_ms(self) -> float:
        """The worker's invocation after the turn's last frame: posting it, then (while the client already
        has it) the job's end and the metrics; and its invocation's start before the job's."""
        return self.worker_ms - self.setup_ms - self.run_ms

    def row(self) -> tuple[float, ...]:
        """The steps in `STEPS`' order. The rest is what the others leave of the turn: the last frame's post
        and its way through the gateway to the client, the client's frame to the route handler, and the
        worker's invocation before the job starts (less the route handler's time after `SendMessage`,
        which the queue hand-off counts too)."""
        rest = self.total_ms - self.route_ms - self.queue_ms - self.setup_ms - self.run_ms
        return (self.route_ms, self.queue_ms, self.setup_ms, self.run_ms, rest)


def worker_metrics(log: str) -> dict[str, Any]:
    """The worker's metrics document (EMF) for the turn. Lines of the emulator's threads may run into one
    another (another line's text before or after it), so the document is decoded where it starts, alone."""
    decoder = json.JSONDecoder()
    for line in log.splitlines():
        start = line.find('{"_aws"')
        if start < 0:
            continue
        try:
            document, _ = decoder.raw_decode(line, start)
        except ValueError:
            continue
        if isinstance(document, dict) and "SetupLatency" in document:
            return document
    raise ValueError("no worker metrics with SetupLatency in the log")


def _value(metrics: dict[str, Any], name: str) -> float:
    value = metrics[name]
    return float(value[0] if isinstance(value, list) else value)


def turn_steps(log: str, total_seconds: float) -> TurnSteps:
    """The steps of the one turn whose lines `log` (a part of the emulator's log) holds.

    Raises:
        ValueError: `log` lacks one of the turn's lines (route handler, delivery, worker, metrics).
    """
    durations: dict[str, float] = {}
    for found in REPORT_LINE.finditer(log):
        durations.setdefault(found["function"], float(found["ms"]))
    deliveries = [m for m in DELIVERY_LINE.finditer(log) if m["function"] == WORKER_FUNCTION]
    missing = {ROUTE_FUNCTION, WORKER_FUNCTION} - durations.keys()
    if missing or not deliveries:
        raise ValueError(f"the turn's lines are missing from the log ({sorted(missing) or 'delivery'})")
    metrics = worker_metrics(log)
    return TurnSteps(
        route_ms=durations[ROUTE_FUNCTION],
        queue_ms=float(deliveries[0]["ms"]),
        worker_ms=durations[WORKER_FUNCTION],
        setup_ms=_value(metrics, "SetupLatency") * 1000,
        run_ms=_value(metrics, "RunSeconds") * 1000,
        posts_ms=(_value(metrics, "PostSeconds") + _value(metrics, "FrameLogSeconds")) * 1000,
        total_ms=total_seconds * 1000,
    )


def log_after(emulator: EmulatorProcess, offset: int, seconds: float = 30) -> str:
    """The emulator's log from `offset` on, once the worker's invocation there has ended (its `REPORT`).

    A worker's invocation may end after the client got the turn's last frame (it then writes the session).

    Raises:
        TimeoutError: no worker invocation ended within `seconds`.
    """
    deadline = time.monotonic() + seconds
    while True:
        log = emulator.log()[offset:]
        if any(m["function"] == WORKER_FUNCTION for m in REPORT_LINE.finditer(log)):
            return log
        if time.monotonic() > deadline:
            raise TimeoutError(f"no {WORKER_FUNCTION} invocation ended within {seconds:.0f} s")
        time.sleep(0.02)
