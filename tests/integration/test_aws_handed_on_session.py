"""A job's first delivery starts from the session its route handler read (issue 19's critical path).

The worker then reads no session, no checkpoint for a new thread, and a named checkpoint by id with its delta
history in one query. What must hold besides: a session that changed after the route handler read it is read
again before anything is decided (the approval clicked twice, a new thread's second message), and a
redelivery never starts from the job's copy.
"""

from __future__ import annotations

import copy
import logging
from collections.abc import Iterator
from typing import Any

import boto3
import pytest

from chat_runtime.auth import thread_key
from chat_runtime.aws import worker
from chat_runtime.aws.jobs import TurnJob
from chat_runtime.aws.settings import AwsSettings
from tests.integration.test_aws_redelivery import (
    Fault,
    WorkerKilled,
    deliver,
    ends_turn,
    queued_record,
    terminal,
)
from tests.support.aws_calls import is_dynamodb, watching_calls
from tests.support.lambdas import Deployment

pytestmark = pytest.mark.integration
ASK = {"type": "message", "thread_id": "t", "content": "What is the status of order 1042?"}


class WorkerCalls:
    """The DynamoDB calls (operation, table) the worker makes while `recording`."""

    def __init__(self, deployment: Deployment) -> None:
        self.names = {value: key for key, value in deployment.stack.names.items()}
        self.seen: list[tuple[str, str]] = []
        self.recording = False

    def of(self, table: str) -> list[str]:
        return [operation for operation, name in self.seen if name == table]


@pytest.fixture
def worker_calls(deployment: Deployment) -> Iterator[WorkerCalls]:
    calls = WorkerCalls(deployment)

    def recorded(client: Any, operation: str, params: dict[str, Any]) -> None:
        if calls.recording and is_dynamodb(client):
            table = params.get("TableName") or next(iter(params.get("RequestItems", {})), "")
            calls.seen.append((operation, calls.names.get(str(table), "?")))

    with watching_calls(recorded):
        yield calls


def run_worker(deployment: Deployment, calls: WorkerCalls) -> None:
    calls.recording = True
    try:
        assert deployment.deliver() >= 1
    finally:
        calls.recording = False


def approval_of_a_cancel(deployment: Deployment, connection: str, thread_id: str) -> dict[str, Any]:
    """The customer asks to cancel order 1043; the approval that answers the agent's question."""
    interrupt = deployment.turn(
        connection, {"type": "message", "thread_id": thread_id, "content": "Cancel order 1043"}
    )[-1]
    assert interrupt["type"] == "interrupt", interrupt
    return {
        "type": "interrupt_response",
        "thread_id": thread_id,
        "approved": True,
        "interrupt_id": interrupt["interrupt_id"],
    }


def cancels_of_1043(deployment: Deployment) -> int:
    table = deployment.stack.names["OrdersTable"]
    item = boto3.client("dynamodb").get_item(TableName=table, Key={"order_id": {"S": "1043"}})["Item"]
    return len(item["applied_actions"]["SS"])


def test_a_new_thread_s_worker_reads_neither_its_session_nor_a_checkpoint(
    deployment: Deployment, worker_calls: WorkerCalls
) -> None:
    connection = deployment.connect()
    assert deployment.send(connection, ASK) == {"statusCode": 200}
    run_worker(deployment, worker_calls)
    assert terminal(deployment.new_frames(connection))[-1]["type"] == "message_complete"
    assert "GetItem" not in worker_calls.of("SessionsTable"), worker_calls.seen
    # Writes only: the first checkpoint with the writes stored against it (one batch), then the run's last.
    assert worker_calls.of("CheckpointsTable") == ["BatchWriteItem", "PutItem"], worker_calls.seen


def test_another_worker_reads_the_named_checkpoint_by_id_without_its_writes(
    deployment: Deployment, worker_calls: WorkerCalls
) -> None:
    connection = deployment.connect()
    assert deployment.turn(connection, ASK)[-1]["type"] == "message_complete"
    worker_a = worker.default_worker_deps()
    worker._default_deps = worker.WorkerDeps.from_settings(AwsSettings.from_environment())
    try:
        assert deployment.send(connection, {**ASK, "content": "When will it arrive?"}) == {"statusCode": 200}
        run_worker(deployment, worker_calls)
    finally:
        worker._default_deps = worker_a
    assert terminal(deployment.new_frames(connection))[-1]["type"] == "message_complete"
    assert "GetItem" not in worker_calls.of("SessionsTable")
    # The named checkpoint with its delta history: one query; then the turn's writes and its checkpoint.
    assert worker_calls.of("CheckpointsTable") == ["Query", "BatchWriteItem", "PutItem"], worker_calls.seen


def test_the_read_with_history_is_what_get_tuple_and_the_parent_walk_read(deployment: Deployment) -> None:
    """One query answers what LangGraph's default would read checkpoint by checkpoint."""
    from langgraph.checkpoint.base import BaseCheckpointSaver

    connection = deployment.connect()
    for question in ("What is the status of order 1042?", "When will it arrive?", "And order 1043?"):
        assert deployment.turn(connection, {**ASK, "content": question})[-1]["type"] == "message_complete"
    saver = worker.default_worker_deps().checkpointer.inner
    key = thread_key("t", "user-123")
    latest = saver.get_tuple({"configurable": {"thread_id": key, "checkpoint_ns": ""}})
    assert latest is not None and latest.pending_writes == []
    assert "messages" not in latest.checkpoint["channel_values"]  # a delta checkpoint: the history holds them
    read, history = saver.read_with_history(latest.config, ["messages"])
    assert read == latest
    walked = BaseCheckpointSaver.get_delta_channel_history(saver, config=latest.config, channels=["messages"])
    assert history == walked
    messages = [write[2] for write in history["messages"]["writes"]]
    assert sum(1 for batch in messages for m in batch if m.type == "human") == 3
    unknown = {
        "configurable": {
            "thread_id": key,
            "checkpoint_ns": "",
            "checkpoint_id": "1f000000-0000-6000-8000-000000000000",
        }
    }
    assert saver.read_with_history(unknown, ["messages"]) == (None, {})


def test_an_approval_clicked_twice_runs_the_action_once(
    deployment: Deployment, caplog: pytest.LogCaptureFixture
) -> None:
    """Both answers are read by their route handlers while the approval is pending, so both jobs carry a
    session that says so; the second job's claim finds the session moved on, and its worker reads it again
    and refuses it (no approval pending), numbered after the first answer's frames."""
    connection = deployment.connect()
    answer = approval_of_a_cancel(deployment, connection, "twice")
    assert deployment.send(connection, answer) == {"statusCode": 200}
    assert deployment.send(connection, answer) == {"statusCode": 200}
    assert deployment.queued() == 2  # the route handlers both admitted it
    with caplog.at_level(logging.INFO, logger="chat_runtime.aws.worker"):
        assert deployment.deliver() == 2
    frames = deployment.new_frames(connection)
    endings = [f for f in frames if f["type"] in ("message_complete", "error")]
    assert [f.get("code", f["type"]) for f in endings] == ["message_complete", "no_pending_approval"], frames
    seqs = [f["seq"] for f in frames]
    assert seqs == sorted(seqs) and len(set(seqs)) == len(seqs)
    assert "the session changed since the route handler read it" in caplog.text
    assert cancels_of_1043(deployment) == 1  # the cancel ran once


def test_a_new_thread_s_second_message_is_not_counted_as_a_new_thread(deployment: Deployment) -> None:
    """Both messages were read as a new thread's; when the second runs, the thread exists. Counted against
    the owner's thread limit on the route handler's read, it would be refused as one thread too many."""
    connection = deployment.connect()
    deps = worker.default_worker_deps()
    limit = deps.runner.max_threads_per_owner
    deps.runner.max_threads_per_owner = 1
    try:
        assert deployment.send(connection, {**ASK, "thread_id": "only"}) == {"statusCode": 200}
        assert deployment.send(connection, {**ASK, "thread_id": "only", "content": "Thanks"}) == {
            "statusCode": 200
        }
        assert deployment.deliver() == 2
    finally:
        deps.runner.max_threads_per_owner = limit
    frames = deployment.new_frames(connection)
    assert [f["type"] for f in frames if f["type"] in ("message_complete", "error")] == [
        "message_complete"
    ] * 2, frames


def test_a_redelivery_reads_the_session_instead_of_the_job_s_copy(deployment: Deployment) -> None:
    """The first attempt dies after the approved cancel ran and its checkpoint was written; the redelivery
    (`ApproximateReceiveCount` 2) carries the session as it was before that attempt. Started from that copy
    it would run the cancel again; it reads the session, finds the run finished, and reports it."""
    connection = deployment.connect()
    answer = approval_of_a_cancel(deployment, connection, "again")
    assert deployment.send(connection, answer) == {"statusCode": 200}
    record = queued_record(deployment)
    assert TurnJob.model_validate_json(record["body"]).session_seen
    deps = worker.default_worker_deps()
    killed = Fault(deps.sessions.client, "UpdateItem", ends_turn, WorkerKilled)
    with pytest.raises(WorkerKilled):
        deliver(deployment, record)
    killed.active = False
    first_attempt = deployment.new_frames(connection)
    boto3.client("dynamodb").update_item(  # the first invocation's deadline (its lease) has passed
        TableName=deployment.stack.names["SessionsTable"],
        Key={"thread_id": {"S": thread_key("again", "user-123")}},
        UpdateExpression="SET lease_until = :past",
        ExpressionAttributeValues={":past": {"N": "1"}},
    )
    redelivered = copy.deepcopy(record)
    redelivered["attributes"]["ApproximateReceiveCount"] = "2"
    assert deliver(deployment, redelivered)
    reported = deployment.new_frames(connection)
    assert [f["type"] for f in terminal(reported)] == ["message_complete"]
    seqs = [f["seq"] for f in first_attempt + reported]
    assert first_attempt and len(seqs) == len(set(seqs)), seqs  # no number handed out twice
    assert cancels_of_1043(deployment) == 1  # the cancel ran once


def test_a_job_s_first_delivery_is_told_by_its_receive_count(
    deployment: Deployment, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen: list[bool] = []
    original = worker.process_job

    async def spy(
        job: TurnJob, deps: Any, lease_until: float | None = None, first_delivery: bool = False
    ) -> Any:
        seen.append(first_delivery)
        return await original(job, deps, lease_until=lease_until, first_delivery=first_delivery)

    from chat_runtime.aws import job_runner

    monkeypatch.setattr(job_runner, "process_job", spy)
    connection = deployment.connect()
    assert deployment.send(connection, {**ASK, "thread_id": "count"}) == {"statusCode": 200}
    record = queued_record(deployment)
    assert deliver(deployment, record)
    again = copy.deepcopy(record)
    again["attributes"]["ApproximateReceiveCount"] = "3"
    assert deliver(deployment, again)
    assert seen == [True, False]
