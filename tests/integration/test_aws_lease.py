"""Two deliveries of one job at the same time (SQS at-least-once; the issue-20 fault check delivered records
twice concurrently): the attempt that claimed the turn holds a lease until its invocation's deadline, and a
second attempt that finds it live goes back to the queue without a word, a write or an action."""

from __future__ import annotations

import asyncio
import time
from dataclasses import replace

import boto3
import pytest
from botocore.exceptions import ClientError

from chat_runtime.auth import thread_key
from chat_runtime.aws import worker
from chat_runtime.aws.dynamodb_sessions import SessionChanged
from chat_runtime.aws.jobs import TurnJob
from chat_runtime.sessions import AttemptInProgress, ThreadStatus
from tests.integration.test_aws_redelivery import (
    Fault,
    WorkerKilled,
    ends_turn,
    once,
    queued_record,
    terminal,
    throttled,
)
from tests.support.lambdas import Deployment

pytestmark = pytest.mark.integration
OWNER = "user-123"


def applied_actions(deployment: Deployment, order_id: str) -> int:
    table = deployment.stack.names["OrdersTable"]
    item = boto3.client("dynamodb").get_item(TableName=table, Key={"order_id": {"S": order_id}})["Item"]
    return len(item.get("applied_actions", {}).get("SS", []))


def test_a_second_delivery_while_the_first_attempt_lives_goes_back_to_the_queue(
    deployment: Deployment,
) -> None:
    connection = deployment.connect()
    interrupt = deployment.turn(
        connection, {"type": "message", "thread_id": "l1", "content": "Cancel order 1043"}
    )[-1]
    answer = {"type": "interrupt_response", "thread_id": "l1", "approved": True}
    assert deployment.send(connection, {**answer, "interrupt_id": interrupt["interrupt_id"]})
    job = TurnJob.model_validate_json(queued_record(deployment)["body"])
    deps = worker.default_worker_deps()
    key = thread_key("l1", OWNER)
    # The first attempt claims the turn and is still alive when the same record arrives again (stopped
    # here just before it records the turn's end; its invocation has a few seconds left).
    stopped = Fault(deps.sessions._client, "UpdateItem", once(ends_turn), WorkerKilled)
    first_lease = time.time() + 4
    with pytest.raises(WorkerKilled):
        asyncio.run(worker.process_job(job, deps, lease_until=first_lease))
    assert stopped.raised == 1
    deployment.new_frames(connection)  # what the first attempt streamed
    held = deps.sessions.get_state(key)
    assert held is not None and held.status is ThreadStatus.RUNNING and held.lease_until == first_lease

    with pytest.raises(AttemptInProgress):
        asyncio.run(worker.process_job(job, deps, lease_until=time.time() + 60))
    assert deployment.new_frames(connection) == []  # not a word from the second attempt
    assert deps.sessions.get_state(key) == held  # nor a write: the thread is still the first attempt's

    time.sleep(max(0.0, first_lease - time.time()) + 0.2)  # the first invocation's deadline has passed
    asyncio.run(worker.process_job(job, deps, lease_until=time.time() + 60))  # delivered again later
    frames = deployment.new_frames(connection)
    assert [f["type"] for f in terminal(frames)] == ["message_complete"], frames
    assert applied_actions(deployment, "1043") == 1  # the cancel ran once


def test_two_attempts_that_both_read_the_thread_idle_cannot_both_claim_it(deployment: Deployment) -> None:
    connection = deployment.connect()
    deployment.turn(connection, {"type": "message", "thread_id": "l2", "content": "hello"})
    sessions = worker.default_worker_deps().sessions
    read = sessions.get_state(thread_key("l2", OWNER))
    assert read is not None and read.status is ThreadStatus.IDLE

    def claim(lease: float) -> None:
        running = read.transition(ThreadStatus.RUNNING)
        sessions.touch(
            replace(running, turn_first_seq=read.last_seq + 1, request_id="req-1", lease_until=lease)
        )

    claim(time.time() + 60)
    with pytest.raises(
        SessionChanged
    ):  # the worker then reads again, finds the lease, and gives the job back
        claim(time.time() + 60)


def test_a_failed_attempt_gives_its_lease_back_so_its_retry_need_not_wait(deployment: Deployment) -> None:
    connection = deployment.connect()
    deployment.turn(connection, {"type": "message", "thread_id": "l3", "content": "hello"})
    assert deployment.send(connection, {"type": "message", "thread_id": "l3", "content": "Where is 1042?"})
    job = TurnJob.model_validate_json(queued_record(deployment)["body"])
    deps = worker.default_worker_deps()
    # The turn's end cannot be recorded (throttled after the SDK's retries): the attempt fails and ends.
    Fault(deps.sessions._client, "UpdateItem", once(ends_turn), throttled("UpdateItem"))
    with pytest.raises(ClientError):
        asyncio.run(worker.process_job(job, deps, lease_until=time.time() + 60))
    deployment.new_frames(connection)
    record = deps.sessions.get_state(thread_key("l3", OWNER))
    assert record is not None and record.status is ThreadStatus.RUNNING and record.lease_until is None
    asyncio.run(worker.process_job(job, deps, lease_until=time.time() + 60))  # delivered again at once
    assert [f["type"] for f in terminal(deployment.new_frames(connection))] == ["message_complete"]
