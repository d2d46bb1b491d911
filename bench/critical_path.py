"""The AWS path's critical path: every AWS call of one simple turn, in order, and what comes before the model.

One turn ("What is the status of order 1042?": a tool call and a streamed answer) through the real `$default`
route handler and the worker under moto (each under its own IAM role), on a new thread and then on the same
thread again. Every AWS call is recorded at botocore's `_make_api_call` with who made it (route handler,
worker, or the SQS event source that hands the job over), its table, and when it started and ended; the
model's calls are marked where LangChain's callback manager starts them, and each DynamoDB read of a
checkpoint where one is read (`tests.support.aws_calls`: the saver's query for the latest or `GetItem`
by id, the worker's `BatchGetItem` of a named one).

Each of a turn on a new thread, a follow-up on it, and a follow-up on a worker that never saw the thread
(another Lambda container: its remembered checkpoints dropped) runs five times. Printed per kind of turn:
the call sequence of its first run; the sequential round trips before the model's first call (calls that
overlap in time count once); DynamoDB requests (route handler + worker); checkpoint reads; and whether a
frame-log write precedes the worker's first `PostToConnection`. Each figure is printed next to the figure
measured before issue 19's changes and the target (median, and range, of the runs).
Run: `python -m bench.critical_path [--quick]` (`--quick`: one run of each).
"""

from __future__ import annotations

import contextlib
import io
import os
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import boto3
import botocore.client
from moto import mock_aws

from bench.common import quick, table
from bench.handlers import ENVIRONMENT, handler_stack
from chat_runtime.aws import worker
from tests.support.aws_calls import checkpoint_read
from tests.support.lambdas import REGION, Deployment

QUESTION = "What is the status of order 1042?"
WORKER = "worker"
ROUTE = "route handler"
EVENT_SOURCE = "event source"
MODEL = "model call"
CHECKPOINT_READ = "checkpoint read"
WRITE_OPS = {"PutItem", "UpdateItem", "DeleteItem", "BatchWriteItem", "TransactWriteItems"}
# Measured by this benchmark on the code before issue 19's changes (main at 08d6d10: one more session read
# than the listing), per turn: new thread, existing thread; and the targets.
BEFORE = {
    "round_trips": (10, 11),
    "dynamodb": (21, 22),
    "checkpoint_reads": (2, 2),
    "log_first": ("yes", "yes"),
}
TARGETS = {"round_trips": "<= 5", "dynamodb": "<= 10", "checkpoint_reads": "<= 1", "log_first": "no"}


@dataclass
class Event:
    """One AWS call (or a marker: the model's call, a checkpoint read), as the benchmark saw it."""

    actor: str
    name: str
    table: str
    started: float
    ended: float

    @property
    def is_call(self) -> bool:
        return self.name not in (MODEL, CHECKPOINT_READ)


class Recorder:
    """Records every AWS call, model call and checkpoint read while it is installed."""

    def __init__(self, tables: dict[str, str]) -> None:
        self.tables = tables
        self.actor = EVENT_SOURCE
        self.events: list[Event] = []

    def mark(self, name: str) -> None:
        now = time.perf_counter()
        self.events.append(Event(self.actor, name, "", now, now))

    @contextlib.contextmanager
    def installed(self) -> Iterator[None]:
        from langchain_core.callbacks import manager

        original_call = botocore.client.BaseClient._make_api_call
        originals = {
            cls: cls.on_chat_model_start for cls in (manager.CallbackManager, manager.AsyncCallbackManager)
        }
        recorder = self

        def call(client: Any, operation: str, params: dict[str, Any]) -> Any:
            if client.meta.service_model.service_name == "dynamodb" and checkpoint_read(operation, params):
                recorder.mark(CHECKPOINT_READ)
            started = time.perf_counter()
            actor = recorder.actor
            try:
                return original_call(client, operation, params)
            finally:
                service = client.meta.service_model.service_name
                recorder.events.append(
                    Event(
                        actor,
                        f"{service}:{operation}",
                        recorder.table_of(params),
                        started,
                        time.perf_counter(),
                    )
                )

        def model_start(original: Any) -> Any:
            def started(self: Any, *args: Any, **kwargs: Any) -> Any:
                recorder.mark(MODEL)
                return original(self, *args, **kwargs)

            return started

        botocore.client.BaseClient._make_api_call = call
        for cls, original in originals.items():
            cls.on_chat_model_start = model_start(original)  # type: ignore[method-assign]
        try:
            yield
        finally:
            botocore.client.BaseClient._make_api_call = original_call
            for cls, original in originals.items():
                cls.on_chat_model_start = original  # type: ignore[method-assign]

    def table_of(self, params: dict[str, Any]) -> str:
        name = params.get("TableName") or next(iter(params.get("RequestItems") or {}), "")
        if not name and params.get("TransactItems"):
            first = params["TransactItems"][0]
            name = next(iter(first.values())).get("TableName", "")
        return self.tables.get(name, name)


def sequential_round_trips(calls: list[Event]) -> int:
    """How many round trips one after the other: calls that overlap in time count as one."""
    trips, busy_until = 0, float("-inf")
    for event in sorted(calls, key=lambda e: e.started):
        if event.started >= busy_until:
            trips += 1
            busy_until = event.ended
        else:
            busy_until = max(busy_until, event.ended)
    return trips


@dataclass
class TurnFigures:
    """What one turn's recording says."""

    round_trips: int
    route_trips: int
    worker_trips: int
    dynamodb: int
    checkpoint_reads: int
    log_first: str
    writes_before_post: list[str]


def figures(events: list[Event]) -> TurnFigures:
    """The counts of one turn's recording."""
    model_at = next((e.started for e in events if e.name == MODEL), float("inf"))
    counted = [e for e in events if e.is_call and e.actor != EVENT_SOURCE]
    before_model = [e for e in counted if e.ended <= model_at]
    route = [e for e in before_model if e.actor == ROUTE]
    worker = [e for e in before_model if e.actor == WORKER]
    first_post = next(
        (e.started for e in counted if e.actor == WORKER and e.name.endswith("PostToConnection")),
        float("inf"),
    )
    writes = [
        f"{e.table} {e.name.split(':')[1]}"
        for e in counted
        if e.actor == WORKER
        and e.name.startswith("dynamodb:")
        and e.name.split(":")[1] in WRITE_OPS
        and e.ended <= first_post
    ]
    return TurnFigures(
        round_trips=sequential_round_trips(route) + sequential_round_trips(worker),
        route_trips=sequential_round_trips(route),
        worker_trips=sequential_round_trips(worker),
        dynamodb=sum(1 for e in counted if e.name.startswith("dynamodb:")),
        checkpoint_reads=sum(1 for e in events if e.name == CHECKPOINT_READ),
        log_first="yes" if any(w.startswith("frames ") for w in writes) else "no",
        writes_before_post=writes,
    )


def sequence_table(title: str, events: list[Event]) -> str:
    """The turn's calls in order, with the markers, times relative to its first call."""
    start = events[0].started if events else 0.0
    rows = []
    for index, event in enumerate(events, 1):
        overlap = any(
            other is not event
            and other.is_call
            and event.is_call
            and other.started < event.ended
            and event.started < other.ended
            for other in events
        )
        rows.append(
            [
                index,
                event.actor,
                event.name if event.is_call else f"-- {event.name} --",
                event.table,
                f"{(event.started - start) * 1000:.1f}",
                f"{(event.ended - event.started) * 1000:.1f}" if event.is_call else "",
                "concurrent" if overlap else "",
            ]
        )
    return table(title, ["#", "by", "call", "table", "at (ms)", "took (ms)", ""], rows)


SCENARIOS = ("new thread", "existing thread", "existing thread, another worker")
REPEATS = 5


def run(repeats: int) -> dict[str, list[list[Event]]]:
    """Turns on new threads, follow-ups on one thread, and follow-ups that find a worker which never saw
    the thread (its remembered checkpoints dropped, as in another Lambda container), each recorded."""
    os.environ.update(ENVIRONMENT)
    recorded: dict[str, list[list[Event]]] = {name: [] for name in SCENARIOS}
    with mock_aws():
        session = boto3.Session(region_name=REGION)
        stack = handler_stack(session, "critpath")
        tables = {name: logical.removesuffix("Table").lower() for logical, name in stack.names.items()}
        recorder = Recorder(tables)
        deployment = Deployment(stack, session)
        invoke = deployment.invoke

        def invoke_as(folder: str, payload: dict[str, Any]) -> dict[str, Any]:
            recorder.actor = WORKER if folder == "worker" else ROUTE
            try:
                return invoke(folder, payload)
            finally:
                recorder.actor = EVENT_SOURCE

        deployment.invoke = invoke_as  # type: ignore[method-assign]
        with contextlib.redirect_stdout(io.StringIO()), recorder.installed():
            connection = deployment.connect()
            warm = deployment.turn(connection, {"type": "message", "thread_id": "warm", "content": "hello"})
            assert warm[-1]["type"] == "message_complete", warm[-1]
            for index in range(repeats):
                for name in SCENARIOS:
                    if name.endswith("another worker"):
                        latest = worker.default_worker_deps().latest
                        assert latest is not None
                        latest.release(f"user-123#critical-{index}")
                        latest.trust(f"user-123#critical-{index}", None)  # forgets it
                    recorder.events = []
                    frames = deployment.turn(
                        connection,
                        {"type": "message", "thread_id": f"critical-{index}", "content": QUESTION},
                    )
                    assert frames[-1]["type"] == "message_complete", frames[-1]
                    recorded[name].append(recorder.events)
    return recorded


def spread(values: list[Any]) -> str:
    """The median, and the range when the runs differ."""
    if isinstance(values[0], str):
        return "/".join(sorted(set(values)))
    low, high, middle = min(values), max(values), sorted(values)[len(values) // 2]
    return str(middle) if low == high else f"{middle} ({low}-{high})"


def main() -> None:
    repeats = 1 if quick() else REPEATS
    recorded = run(repeats)
    for name, runs in recorded.items():
        print(sequence_table(f"AWS calls of one simple turn, {name} (in order)", runs[0]))
        counted = figures(runs[0])
        print(
            f"{name}: {counted.round_trips} sequential round trips before the model "
            f"({counted.route_trips} route handler, {counted.worker_trips} worker); DynamoDB writes by the "
            f"worker before its first post: {', '.join(counted.writes_before_post) or 'none'}\n"
        )
    rows = []
    labels = {
        "round_trips": "sequential AWS round trips before the model's first call",
        "dynamodb": "DynamoDB requests per turn (route handler + worker)",
        "checkpoint_reads": "checkpoint reads per turn",
        "log_first": "a frame-log write before the first PostToConnection",
    }
    per_run = {name: [figures(events) for events in runs] for name, runs in recorded.items()}
    for key, label in labels.items():
        before_new, before_existing = BEFORE[key]
        now = [spread([getattr(f, key) for f in per_run[name]]) for name in SCENARIOS]
        rows.append(
            [
                label,
                f"{before_new} -> {now[0]}",
                f"{before_existing} -> {now[1]}",
                f"{before_existing} -> {now[2]}",
                TARGETS[key],
            ]
        )
    print(
        table(
            f"Critical path, before -> now (median of {repeats}, range)",
            ["figure", "new thread", "existing thread", "existing thread, another worker", "target"],
            rows,
        )
    )


if __name__ == "__main__":
    main()
