"""DynamoDB cost per turn through the real handlers under moto, and the dollar cost of 1,000 conversations.

Turns 1..50 of one thread go through the `$default` route handler and the worker (the real agent on the
offline model, checkpoints in DynamoDB). Every AWS call is counted at botocore's `_make_api_call`, which
sees every client (the saver's and Powertools' own sessions included). Per turn: DynamoDB requests,
moto's `ConsumedCapacity` (moto reports a flat unit per request, so size-based request units are computed
too, from the bytes of every item written or read), and bytes written.

Then the price of 1,000 three-turn conversations from the counted calls and published us-east-1 prices,
ours against the naive design (the agent runs inside the route handler and posts every token).
Run: `python -m bench.dynamodb_cost [--quick]` (`--quick`: 3 turns, a smoke run).
"""

from __future__ import annotations

import contextlib
import io
import json
import math
import os
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import boto3
import botocore.client
from moto import mock_aws

from bench.common import quick, table
from bench.handlers import ENVIRONMENT, handler_stack
from chat_runtime.aws import job_runner, worker
from tests.support.lambdas import REGION, Deployment

TURNS = 50
QUICK_TURNS = 3
SHOWN = (1, 2, 3, 5, 10, 20, 30, 40, 50)
QUESTIONS = (
    "What is the status of order 1042?",
    "When will it arrive?",
    "Can you track it?",
    "List my orders",
)
CAPACITY_OPS = {
    "GetItem",
    "PutItem",
    "UpdateItem",
    "DeleteItem",
    "Query",
    "BatchWriteItem",
    "BatchGetItem",
    "Scan",
}
WRITE_OPS = {"PutItem", "UpdateItem", "DeleteItem", "BatchWriteItem", "TransactWriteItems"}

# Published us-east-1 prices (USD).
API_GATEWAY_PER_MESSAGE = 1.00 / 1e6
API_GATEWAY_PER_CONNECTION_MINUTE = 0.25 / 1e6
LAMBDA_PER_GB_SECOND = 0.0000166667
LAMBDA_PER_REQUEST = 0.20 / 1e6
DYNAMODB_PER_WRU = 0.625 / 1e6
DYNAMODB_PER_RRU = 0.125 / 1e6
SQS_FIFO_PER_REQUEST = 0.50 / 1e6
# Assumptions of the cost model (stated in the output).
CONNECTION_MINUTES = 3
ROUTE_SECONDS = 0.05
ROUTE_GB = 0.25
WORKER_GB = 1.0
POST_LATENCY = 0.020


@dataclass
class Counts:
    calls: Counter[str] = field(default_factory=Counter)
    moto_capacity: float = 0.0
    write_units: int = 0
    read_units: float = 0.0
    bytes_written: int = 0
    checkpoint_bytes: int = 0


COUNTS = Counts()
CHECKPOINTS_TABLE: list[str] = []
"""The checkpoints table's name, once the stack is made."""


def _item_units(item: Any, unit: int) -> int:
    return max(1, math.ceil(len(json.dumps(item, default=str)) / unit))


@contextlib.contextmanager
def counting() -> Iterator[None]:
    """Count every AWS call while the block runs."""
    original = botocore.client.BaseClient._make_api_call

    def counted(client: Any, operation: str, params: dict[str, Any]) -> Any:
        service = client.meta.service_model.service_name
        COUNTS.calls[f"{service}:{operation}"] += 1
        if service == "dynamodb" and operation in CAPACITY_OPS:
            params = {**params, "ReturnConsumedCapacity": "TOTAL"}
        if service == "dynamodb" and operation in WRITE_OPS:
            items = [params.get("Item") or params.get("ExpressionAttributeValues") or params.get("Key")]
            if operation == "BatchWriteItem":
                items = [
                    next(iter(r.values())).get("Item") or r
                    for rs in params["RequestItems"].values()
                    for r in rs
                ]
            table_name = params.get("TableName") or next(iter(params.get("RequestItems", {})), "")
            for item in items:
                COUNTS.bytes_written += len(json.dumps(item, default=str))
                COUNTS.write_units += _item_units(item, 1024)
                if table_name in CHECKPOINTS_TABLE:
                    COUNTS.checkpoint_bytes += len(json.dumps(item, default=str))
        response = original(client, operation, params)
        if service == "dynamodb":
            capacity = response.get("ConsumedCapacity")
            for entry in capacity if isinstance(capacity, list) else [capacity] if capacity else []:
                COUNTS.moto_capacity += float(entry.get("CapacityUnits", 0))
            found = [response["Item"]] if "Item" in response else response.get("Items", [])
            factor = 1.0 if params.get("ConsistentRead") else 0.5
            COUNTS.read_units += sum(_item_units(item, 4096) * factor for item in found)
        return response

    botocore.client.BaseClient._make_api_call = counted
    try:
        yield
    finally:
        botocore.client.BaseClient._make_api_call = original


def checkpoint_growth(per_turn: list[int]) -> str:
    """Checkpoint bytes at the last turn against the first: that turn's, the median of the last ten turns, and
    the mean of the last ten (which takes in the turns that write a `DeltaChannel` snapshot)."""
    first = per_turn[0]
    last_ten = per_turn[-10:]
    median = sorted(last_ten)[len(last_ten) // 2]
    mean = sum(last_ten) / len(last_ten)
    snapshots = [number + 1 for number, size in enumerate(per_turn) if size > 2 * median]
    return (
        f"checkpoint KB per turn against turn 1 ({first / 1024:.1f} KB): turn {len(per_turn)} "
        f"{per_turn[-1] / first:.2f}x, median of the last ten {median / first:.2f}x, mean of the last ten "
        f"{mean / first:.2f}x; turns writing a snapshot: {snapshots or 'none'}"
    )


def dynamodb_requests(calls: Counter[str]) -> int:
    return sum(n for name, n in calls.items() if name.startswith("dynamodb:"))


def main() -> None:
    os.environ.update(ENVIRONMENT)
    turns = QUICK_TURNS if quick() else TURNS
    shown = [number for number in SHOWN if number <= turns]
    reports: list[worker.TurnReport] = []
    per_turn: list[tuple[Counts, float]] = []
    with mock_aws(), counting():
        session = boto3.Session(region_name=REGION)
        stack = handler_stack(session, "bench")
        CHECKPOINTS_TABLE[:] = [stack.names["CheckpointsTable"]]
        publish = job_runner.publish_metrics

        def capture(report: worker.TurnReport, metrics: Any) -> None:
            reports.append(report)
            publish(report, metrics)

        job_runner.publish_metrics = capture
        deployment = Deployment(stack, session)
        with contextlib.redirect_stdout(io.StringIO()):
            connection = deployment.connect()
            deployment.turn(connection, {"type": "message", "thread_id": "warm", "content": "hello"})
            reports.clear()
            for turn in range(turns):
                COUNTS.__init__()  # type: ignore[misc]
                started = time.perf_counter()
                frames = deployment.turn(
                    connection,
                    {"type": "message", "thread_id": "cost", "content": QUESTIONS[turn % len(QUESTIONS)]},
                )
                assert frames[-1]["type"] == "message_complete", frames[-1]
                per_turn.append(
                    (
                        Counts(
                            Counter(COUNTS.calls),
                            COUNTS.moto_capacity,
                            COUNTS.write_units,
                            COUNTS.read_units,
                            COUNTS.bytes_written,
                            COUNTS.checkpoint_bytes,
                        ),
                        time.perf_counter() - started,
                    )
                )
    rows = []
    for number in shown:
        counts, _ = per_turn[number - 1]
        rows.append(
            [
                number,
                dynamodb_requests(counts.calls),
                counts.moto_capacity,
                counts.write_units,
                counts.read_units,
                counts.bytes_written / 1024,
                counts.checkpoint_bytes / 1024,
            ]
        )
    print(
        table(
            f"DynamoDB per turn, one thread, turns 1..{turns} (route handler + worker)",
            ["turn", "requests", "moto capacity", "WRU (size)", "RRU (size)", "KB written", "KB checkpoints"],
            rows,
        )
    )
    first, last = per_turn[0][0], per_turn[-1][0]
    print(
        f"growth turn 1 -> {turns}: requests "
        f"{dynamodb_requests(first.calls)} -> {dynamodb_requests(last.calls)}, "
        f"KB written {first.bytes_written / 1024:.1f} -> {last.bytes_written / 1024:.1f}, "
        f"KB of checkpoints {first.checkpoint_bytes / 1024:.1f} -> {last.checkpoint_bytes / 1024:.1f}"
    )
    print(checkpoint_growth([counts.checkpoint_bytes for counts, _ in per_turn]), "\n")
    print(
        "calls in turn 3:", ", ".join(f"{name} {n}" for name, n in sorted(per_turn[2][0].calls.items())), "\n"
    )
    print(cost_table(per_turn[:3], reports[:3]))


def cost_table(turns: list[tuple[Counts, float]], reports: list[worker.TurnReport]) -> str:
    """Dollars for 1,000 three-turn conversations: ours against the naive per-token design."""
    conversations = 1000
    frames_produced = sum(r.sender.frames_queued for r in reports)
    posts = sum(r.sender.calls for r in reports)
    worker_seconds = sum(r.seconds for r in reports)
    wru = sum(c.write_units for c, _ in turns)
    rru = sum(c.read_units for c, _ in turns)
    sqs = sum(n for c, _ in turns for name, n in c.calls.items() if name.startswith("sqs:"))
    turn_count = len(turns)
    designs = {
        "ours": {
            "API Gateway messages": (turn_count + posts) * API_GATEWAY_PER_MESSAGE,
            "API Gateway connection minutes": CONNECTION_MINUTES * API_GATEWAY_PER_CONNECTION_MINUTE,
            "Lambda": (turn_count + 2 + turn_count) * LAMBDA_PER_REQUEST
            + ((turn_count + 2) * ROUTE_SECONDS * ROUTE_GB + worker_seconds * WORKER_GB)
            * LAMBDA_PER_GB_SECOND,
            "DynamoDB": wru * DYNAMODB_PER_WRU + rru * DYNAMODB_PER_RRU,
            "SQS FIFO": sqs * SQS_FIFO_PER_REQUEST,
        },
        "naive": {
            "API Gateway messages": (turn_count + frames_produced) * API_GATEWAY_PER_MESSAGE,
            "API Gateway connection minutes": CONNECTION_MINUTES * API_GATEWAY_PER_CONNECTION_MINUTE,
            "Lambda": (turn_count + 2) * LAMBDA_PER_REQUEST
            + (2 * ROUTE_SECONDS * ROUTE_GB + (worker_seconds + frames_produced * POST_LATENCY) * WORKER_GB)
            * LAMBDA_PER_GB_SECOND,
            "DynamoDB": wru * DYNAMODB_PER_WRU + rru * DYNAMODB_PER_RRU,
            "SQS FIFO": 0.0,
        },
    }
    rows = [
        [item, designs["ours"][item] * conversations, designs["naive"][item] * conversations]
        for item in designs["ours"]
    ]
    ours_total = sum(designs["ours"].values()) * conversations
    naive_total = sum(designs["naive"].values()) * conversations
    rows.append(["total", ours_total, naive_total])
    notes = (
        f"per conversation (measured): {posts} posts for {frames_produced} frames produced, "
        f"worker {worker_seconds:.2f} s, {wru} WRU, {rru:.1f} RRU, {sqs} SQS requests.\n"
        f"assumed: {CONNECTION_MINUTES} connection minutes, route handlers {ROUTE_SECONDS * 1000:.0f} ms at "
        f"{ROUTE_GB} GB, worker {WORKER_GB} GB, naive posts block the model {POST_LATENCY * 1000:.0f} ms "
        "each; "
        "us-east-1 list prices."
    )
    return table("USD for 1,000 three-turn conversations", ["item", "ours", "naive"], rows) + notes + "\n"


if __name__ == "__main__":
    main()
