"""Issue 19: fewer AWS round trips and DynamoDB requests per turn, with every guarantee kept.

Through the real route handlers and worker under moto (each under its own IAM role): the connection read and
its rate-limit count are one write; the session is read while the frame is counted, and only under the
connection's own principal; no idempotency record; the checkpoint is read at most once a turn, and never
from memory unless the session names it as the latest.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from typing import Any

import boto3
import pytest

from chat_runtime.aws import routes, worker
from chat_runtime.aws.connections import RATE_PREFIX
from chat_runtime.aws.jobs import TurnJob
from chat_runtime.aws.settings import AwsSettings
from tests.integration.test_aws_redelivery import Fault, WorkerKilled, deliver, ends_turn, queued_record
from tests.support.aws_calls import checkpoint_read, is_dynamodb, watching_calls
from tests.support.lambdas import Deployment

pytestmark = pytest.mark.integration


@pytest.fixture
def calls() -> Iterator[list[tuple[str, str]]]:
    """Every DynamoDB call (operation, table) made while the test runs."""
    seen: list[tuple[str, str]] = []

    def recorded(client: Any, operation: str, params: dict[str, Any]) -> None:
        if is_dynamodb(client):
            seen.append((operation, str(params.get("TableName", ""))))

    with watching_calls(recorded):
        yield seen


def rate_counters(deployment: Deployment, connection: str) -> dict[str, int]:
    item = boto3.client("dynamodb").get_item(
        TableName=deployment.stack.names["ConnectionsTable"], Key={"connection_id": {"S": connection}}
    )["Item"]
    return {name: int(value["N"]) for name, value in item.items() if name.startswith(RATE_PREFIX)}


def test_one_write_counts_the_frame_and_reads_the_connection(
    deployment: Deployment, calls: list[tuple[str, str]]
) -> None:
    connection = deployment.connect()
    calls.clear()
    deployment.send(connection, "{")
    table = deployment.stack.names["ConnectionsTable"]
    assert [c for c in calls if c[1] == table] == [("UpdateItem", table)]
    assert deployment.new_frames(connection)[-1]["code"] == "invalid_json"


def test_each_window_counts_afresh_and_counters_of_old_windows_go(deployment: Deployment) -> None:
    deps = routes.default_route_deps()
    connection = deployment.connect()
    now = [1_000_000.0]
    deps.clock = lambda: now[0]
    for _ in range(deps.frames_per_window + 1):
        deployment.send(connection, "{")
    codes = [f["code"] for f in deployment.new_frames(connection)]
    assert codes == ["invalid_json"] * deps.frames_per_window + ["rate_limited"]
    now[0] += 10  # the next window: the limit starts again, the last window's counter is removed
    deployment.send(connection, "{")
    assert [f["code"] for f in deployment.new_frames(connection)] == ["invalid_json"]
    assert rate_counters(deployment, connection) == {f"{RATE_PREFIX}100001": 1}
    for _ in range(4):  # long pauses leave counters behind, until a few have gathered
        now[0] += 600
        deployment.send(connection, "{")
    assert deployment.new_frames(connection)[-1]["code"] == "invalid_json"
    assert rate_counters(deployment, connection) == {f"{RATE_PREFIX}{int(now[0] // 10)}": 1}


def test_an_unknown_connection_is_told_to_reconnect(deployment: Deployment) -> None:
    frames_before = deployment.new_frames("gone-conn=")
    deployment.send("gone-conn=", {"type": "message", "thread_id": "t", "content": "hi"})
    assert frames_before == []
    [answer] = deployment.new_frames("gone-conn=")
    assert answer["code"] == "internal_error" and "reconnect" in answer["message"]


def test_the_session_is_read_while_the_frame_is_counted(deployment: Deployment) -> None:
    """The connections write waits until the sessions read has started: done one after the other, it
    would wait out its timeout and the test fails."""
    connection = deployment.connect()
    sessions = deployment.stack.names["SessionsTable"]
    connections = deployment.stack.names["ConnectionsTable"]
    session_read = threading.Event()
    overlapped: list[bool] = []

    def watched(client: Any, operation: str, params: dict[str, Any]) -> None:
        if operation == "GetItem" and params.get("TableName") == sessions:
            session_read.set()
        if operation == "UpdateItem" and params.get("TableName") == connections:
            overlapped.append(session_read.wait(timeout=2))

    with watching_calls(watched):
        frames = deployment.turn(connection, {"type": "message", "thread_id": "c", "content": "hello"})
    assert frames[-1]["type"] == "message_complete"
    assert overlapped == [True]


def test_a_session_read_under_another_principal_is_never_used(deployment: Deployment) -> None:
    """The early read uses the principal on the event; the answer follows the connection's own."""
    alice = deployment.connect(principal="alice")
    asked = deployment.turn(alice, {"type": "message", "thread_id": "shared", "content": "Cancel order 1043"})
    assert asked[-1]["type"] == "interrupt"
    bob = deployment.connect(principal="bob")
    deployment.granted[bob] = {**deployment.granted[bob], "principal": "alice"}  # a mismatched event
    frames = deployment.turn(bob, {"type": "message", "thread_id": "shared", "content": "hello"})
    assert [f["type"] for f in frames][-1] == "message_complete"  # bob's own new thread, not alice's
    assert all(f.get("code") != "approval_pending" for f in frames)


def test_without_the_authorizer_on_the_event_the_session_is_read_after_the_connection(
    deployment: Deployment,
) -> None:
    connection = deployment.connect()
    del deployment.granted[connection]  # an event that does not carry the authorizer's context
    frames = deployment.turn(connection, {"type": "message", "thread_id": "n", "content": "hello"})
    assert frames[-1]["type"] == "message_complete"


def test_attempts_of_one_job_never_overlap_so_no_idempotency_record_is_needed() -> None:
    """What `job_runner.make_job_runner`'s argument rests on: one message at a time from a FIFO queue, visible
    again only long after the worker's timeout has ended the attempt that took it."""
    from local_server.stack import load_template

    resources = load_template()["Resources"]
    queue = resources["TurnQueue"]["Properties"]
    worker_function = resources["AgentWorkerFunction"]["Properties"]
    assert queue["FifoQueue"] is True
    assert worker_function["Events"]["Turns"]["Properties"]["BatchSize"] == 1
    assert queue["VisibilityTimeout"] > worker_function["Timeout"]
    assert "IdempotencyTable" not in resources


# ----------------------------------------------------------------- the checkpoint, read once per turn


@pytest.fixture
def checkpoint_reads() -> Iterator[list[str]]:
    """The thread of every checkpoint read that reached DynamoDB (`tests.support.aws_calls`)."""
    reads: list[str] = []

    def counted(client: Any, operation: str, params: dict[str, Any]) -> None:
        thread = checkpoint_read(operation, params) if is_dynamodb(client) else None
        if thread is not None:
            reads.append(thread)

    with watching_calls(counted):
        yield reads


def human_messages(thread_id: str) -> list[str]:
    deps = worker.default_worker_deps()
    state = deps.runner.graph.get_state({"configurable": {"thread_id": f"user-123#{thread_id}"}})  # type: ignore[attr-defined]
    return [m.text for m in state.values.get("messages", []) if m.type == "human"]


def test_a_turn_reads_its_checkpoint_once_and_a_follow_up_on_the_same_worker_not_at_all(
    deployment: Deployment, checkpoint_reads: list[str]
) -> None:
    connection = deployment.connect()
    ask = {"type": "message", "thread_id": "once", "content": "What is the status of order 1042?"}
    assert deployment.turn(connection, ask)[-1]["type"] == "message_complete"
    assert checkpoint_reads == []  # a new thread (no session): no checkpoint; after the run, what it wrote
    assert deployment.turn(connection, ask)[-1]["type"] == "message_complete"
    assert checkpoint_reads == []  # the session named the checkpoint this worker wrote
    deployment.send(connection, ask)
    record = queued_record(deployment)
    record["attributes"]["ApproximateReceiveCount"] = "2"  # a redelivery reads the session: and the latest
    assert deliver(deployment, record)
    assert checkpoint_reads == []  # which the session names, and this worker remembers
    assert human_messages("once") == [ask["content"]] * 3


def test_a_turn_another_worker_ran_meanwhile_is_not_lost(
    deployment: Deployment, checkpoint_reads: list[str]
) -> None:
    """Worker A remembers turn 1's checkpoint; worker B (another container) runs turn 2; A's turn 3 must
    build on B's checkpoint, which the session names, not on the one A remembers."""
    connection = deployment.connect()
    first = {"type": "message", "thread_id": "moved", "content": "What is the status of order 1042?"}
    assert deployment.turn(connection, first)[-1]["type"] == "message_complete"
    worker_a = worker.default_worker_deps()
    worker_b = worker.WorkerDeps.from_settings(AwsSettings.from_environment())
    worker._default_deps = worker_b
    try:
        second = {**first, "content": "When will it arrive?"}
        assert deployment.turn(connection, second)[-1]["type"] == "message_complete"
    finally:
        worker._default_deps = worker_a
    third = {**first, "content": "Thanks"}
    assert deployment.turn(connection, third)[-1]["type"] == "message_complete"
    # Turn 1 on a new thread reads none; B at turn 2 and A at turn 3 read the one the session names.
    assert checkpoint_reads == ["user-123#moved"] * 2
    assert human_messages("moved") == [first["content"], second["content"], third["content"]]


def test_a_turn_that_died_is_never_answered_from_memory(deployment: Deployment) -> None:
    """Worker B's attempt dies after writing its checkpoint, leaving the session `running`: worker A, which
    remembers the checkpoint before it, reads the thread from DynamoDB for the redelivery."""
    connection = deployment.connect()
    ask = {"type": "message", "thread_id": "died", "content": "What is the status of order 1042?"}
    assert deployment.turn(connection, ask)[-1]["type"] == "message_complete"
    worker_a = worker.default_worker_deps()
    worker_b = worker.WorkerDeps.from_settings(AwsSettings.from_environment())
    killed = Fault(worker_b.sessions.client, "UpdateItem", ends_turn, WorkerKilled)
    assert deployment.send(connection, {**ask, "content": "When will it arrive?"})
    job = TurnJob.model_validate_json(queued_record(deployment)["body"])
    with pytest.raises(WorkerKilled):
        asyncio.run(worker.process_job(job, worker_b))
    killed.active = False
    session = worker_a.sessions.get_state("user-123#died")
    assert session is not None and session.status.value == "running" and session.checkpoint_id is None
    deployment.new_frames(connection)  # what B streamed before it died
    asyncio.run(worker.process_job(job, worker_a))  # the redelivery: B's run had finished, it is reported
    reported = deployment.new_frames(connection)
    assert [f["type"] for f in reported] == ["token", "message_complete"], reported  # not run again
    assert human_messages("died") == [ask["content"], "When will it arrive?"]
    third = deployment.turn(connection, {**ask, "content": "Thanks"})
    assert third[-1]["type"] == "message_complete"
    assert human_messages("died") == [ask["content"], "When will it arrive?", "Thanks"]


# ----------------------------------------------------------------- post the first frame, then log it


def logged_seqs(deployment: Deployment, thread_id: str) -> list[int]:
    items = boto3.client("dynamodb").query(
        TableName=deployment.stack.names["FramesTable"],
        KeyConditionExpression="thread_key = :key",
        ExpressionAttributeValues={":key": {"S": f"user-123#{thread_id}"}},
        ConsistentRead=True,
    )["Items"]
    return [int(item["seq"]["N"]) for item in items]


def test_the_first_frame_is_posted_before_any_frame_log_write_and_logged_after(
    deployment: Deployment,
) -> None:
    connection = deployment.connect()
    frames_table = deployment.stack.names["FramesTable"]
    order: list[str] = []

    def watched(client: Any, operation: str, params: dict[str, Any]) -> None:
        if operation == "PostToConnection" or frames_table in (params.get("RequestItems") or {}):
            order.append(operation)

    with watching_calls(watched):
        frames = deployment.turn(
            connection, {"type": "message", "thread_id": "first", "content": "What is the status of 1042?"}
        )
    assert frames[-1]["type"] == "message_complete"
    assert order[0] == "PostToConnection" and "BatchWriteItem" in order
    assert sorted(logged_seqs(deployment, "first")) == [f["seq"] for f in frames]  # every frame, in the end


def test_a_worker_that_dies_right_after_its_first_post_hands_out_no_seq_twice_and_resume_recovers(
    deployment: Deployment,
) -> None:
    connection = deployment.connect()
    ask = {"type": "message", "thread_id": "crash", "content": "What is the status of order 1042?"}
    assert deployment.send(connection, ask)
    job = TurnJob.model_validate_json(queued_record(deployment)["body"])
    deps = worker.default_worker_deps()
    frames_table = deployment.stack.names["FramesTable"]
    dead = [False]

    def sandbox(params: dict[str, Any], **_: Any) -> None:
        """The sandbox dies at the worker's first frame-log write: nothing of it runs after that."""
        if dead[0] or frames_table in (params.get("RequestItems") or {}):
            dead[0] = True
            raise WorkerKilled

    clients = [deps.frames._client, deps.gateway(job.endpoint_url)]
    for client in clients:
        client.meta.events.register(
            f"before-parameter-build.{client.meta.service_model.service_name}", sandbox
        )
    try:
        with pytest.raises(WorkerKilled):
            asyncio.run(worker.process_job(job, deps))
    finally:
        for client in clients:
            client.meta.events.unregister(
                f"before-parameter-build.{client.meta.service_model.service_name}", sandbox
            )
    [first] = deployment.new_frames(connection)  # posted, never logged
    assert first["type"] == "tool_call" and logged_seqs(deployment, "crash") == []

    asyncio.run(worker.process_job(job, deps))  # SQS delivers the job again
    retry = deployment.new_frames(connection)
    assert retry[-1]["type"] == "message_complete"
    assert min(f["seq"] for f in retry) > first["seq"]  # the dead attempt's first seq stays taken

    later = deployment.connect()  # a client that reconnects after the crash
    assert deployment.send(later, {"type": "resume", "thread_id": "crash", "after_seq": first["seq"]})
    replayed = deployment.new_frames(later)
    assert [f for f in replayed if "seq" in f] == retry  # every frame of the turn it has not seen
    assert replayed[-1] == {"type": "resumed", "thread_id": "crash", "state": "idle"}
