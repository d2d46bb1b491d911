"""Faults injected into the handlers' and the worker's AWS calls, above botocore's retries (issue 20).

Each message gets exactly one terminal frame, `seq`s are never handed out twice, route handlers answer
every failure they catch with a protocol error, and every outcome is reachable through `resume`.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from typing import Any

import pytest
from botocore.exceptions import ClientError, ReadTimeoutError

from chat_runtime.auth import thread_key
from chat_runtime.aws import routes, worker
from chat_runtime.aws.jobs import TurnJob
from local_server.emulator.event_source import sqs_record
from tests.support.lambdas import Deployment

pytestmark = pytest.mark.integration
TERMINAL = {"message_complete", "interrupt", "error"}


class WorkerKilled(BaseException):
    """The Lambda sandbox dying: nothing in the worker catches it."""


def throttled(operation: str) -> ClientError:
    return ClientError({"Error": {"Code": "ThrottlingException", "Message": "slow down"}}, operation)


class Fault:
    """Raises `error` (an exception, or a class) from a client's calls of one operation matching `when`."""

    def __init__(self, client: Any, operation: str, when: Callable[[dict[str, Any]], bool], error: Any):
        self.when, self.error, self.raised, self.active = when, error, 0, True
        service = client.meta.service_model.service_name
        client.meta.events.register(f"before-parameter-build.{service}.{operation}", self.hook)

    def hook(self, params: dict[str, Any], **_: Any) -> None:
        if self.active and self.when(params):
            self.raised += 1
            raise self.error() if isinstance(self.error, type) else self.error


def once(predicate: Callable[[dict[str, Any]], bool]) -> Callable[[dict[str, Any]], bool]:
    done = [False]

    def first(params: dict[str, Any]) -> bool:
        if done[0] or not predicate(params):
            return False
        done[0] = True
        return True

    return first


def ends_turn(params: dict[str, Any]) -> bool:
    """The session write that records a turn's end (status idle or awaiting approval)."""
    values = json.dumps(params.get("ExpressionAttributeValues", {}), default=str)
    return '"idle"' in values or '"awaiting_approval"' in values


def queued_record(deployment: Deployment) -> dict[str, Any]:
    url = deployment.stack.queue_urls["TurnQueue"]
    [message] = deployment.sqs.receive_message(QueueUrl=url, AttributeNames=["All"])["Messages"]
    deployment.sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
    return sqs_record(message, deployment.stack.queue_arns["TurnQueue"])


def deliver(deployment: Deployment, record: dict[str, Any]) -> bool:
    """Invoke the worker with one SQS record; True when it succeeded."""
    try:
        return not deployment.invoke("worker", {"Records": [record]}).get("batchItemFailures")
    except Exception:  # Powertools raises when every record of the batch failed
        return False


def terminal(frames: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [f for f in frames if f["type"] in TERMINAL]


def test_a_failed_attempt_says_nothing_and_its_retry_ends_the_turn_with_new_seqs(
    deployment: Deployment,
) -> None:
    connection = deployment.connect()
    first = deployment.turn(connection, {"type": "message", "thread_id": "a", "content": "hello"})
    sessions = worker.default_worker_deps().sessions._client
    Fault(sessions, "UpdateItem", once(ends_turn), throttled("UpdateItem"))
    assert deployment.send(connection, {"type": "message", "thread_id": "a", "content": "Where is 1042?"})
    record = queued_record(deployment)
    assert not deliver(deployment, record)  # the turn's end could not be recorded: the job fails
    failed_attempt = deployment.new_frames(connection)
    assert failed_attempt and terminal(failed_attempt) == []  # it streamed, but did not say how it ended
    assert deliver(deployment, record)  # SQS delivers it again
    retry = deployment.new_frames(connection)
    assert [f["type"] for f in terminal(retry)] == ["message_complete"]
    seqs = [f["seq"] for f in first + failed_attempt + retry]
    assert len(seqs) == len(set(seqs)) and seqs == sorted(seqs)  # no number handed out twice

    third = deployment.turn(connection, {"type": "message", "thread_id": "a", "content": "thanks"})
    assert min(f["seq"] for f in third) > max(seqs)


def test_a_redelivered_job_that_ended_says_nothing(deployment: Deployment) -> None:
    connection = deployment.connect()
    interrupt = deployment.turn(
        connection, {"type": "message", "thread_id": "b", "content": "Cancel order 1043"}
    )[-1]
    answer = {"type": "interrupt_response", "thread_id": "b", "approved": True}
    assert deployment.send(connection, {**answer, "interrupt_id": interrupt["interrupt_id"]})
    job = TurnJob.model_validate_json(queued_record(deployment)["body"])
    deps = worker.default_worker_deps()
    asyncio.run(worker.process_job(job, deps))
    assert [f["type"] for f in terminal(deployment.new_frames(connection))] == ["message_complete"]
    asyncio.run(worker.process_job(job, deps))  # delivered again: the session says it ended
    assert deployment.new_frames(connection) == []  # no `no_pending_approval` after the answer


def test_a_worker_that_died_after_the_model_answered_is_reported_not_rerun(
    deployment: Deployment,
) -> None:
    connection = deployment.connect()
    interrupt = deployment.turn(
        connection, {"type": "message", "thread_id": "c", "content": "Cancel order 1043"}
    )[-1]
    answer = {"type": "interrupt_response", "thread_id": "c", "approved": True}
    assert deployment.send(connection, {**answer, "interrupt_id": interrupt["interrupt_id"]})
    job = TurnJob.model_validate_json(queued_record(deployment)["body"])
    deps = worker.default_worker_deps()
    Fault(deps.sessions._client, "UpdateItem", once(ends_turn), WorkerKilled)
    posts = deps.gateway(job.endpoint_url)
    blocked = Fault(posts, "PostToConnection", lambda _: True, WorkerKilled)
    with pytest.raises(WorkerKilled):
        asyncio.run(worker.process_job(job, deps))
    assert blocked.raised >= 1 and deployment.new_frames(connection) == []  # nothing reached the customer
    blocked.active = False

    asyncio.run(worker.process_job(job, deps))  # the redelivery
    frames = deployment.new_frames(connection)
    assert [f["type"] for f in terminal(frames)] == ["message_complete"], frames
    assert "cancel" in "".join(f.get("content", "") for f in frames).lower()
    import boto3

    table = deployment.stack.names["OrdersTable"]
    item = boto3.client("dynamodb").get_item(TableName=table, Key={"order_id": {"S": "1043"}})["Item"]
    assert len(item["applied_actions"]["SS"]) == 1  # the cancel ran once


def test_route_handlers_answer_timeouts_and_errors_with_protocol_errors(deployment: Deployment) -> None:
    connection = deployment.connect()
    client = routes.default_route_deps().sessions._client
    timeout = ReadTimeoutError(endpoint_url="https://dynamodb.us-east-1.amazonaws.com")
    Fault(client, "GetItem", once(lambda p: "thread_id" in p.get("Key", {})), timeout)
    assert deployment.send(connection, {"type": "message", "thread_id": "d", "content": "hi"}) == {
        "statusCode": 200
    }
    [busy] = deployment.new_frames(connection)
    assert busy["type"] == "error" and busy["code"] == "service_busy"

    broken = ClientError(
        {
            "Error": {"Code": "ValidationException", "Message": "?"},
            "ResponseMetadata": {"HTTPStatusCode": 400},
        },
        "GetItem",
    )
    Fault(client, "GetItem", once(lambda p: "thread_id" in p.get("Key", {})), broken)
    assert deployment.send(connection, {"type": "message", "thread_id": "d", "content": "hi"}) == {
        "statusCode": 200
    }
    [failed] = deployment.new_frames(connection)
    assert failed["code"] == "internal_error"
    assert deployment.queued() == 0


def test_a_send_that_timed_out_after_sqs_took_it_is_queued_once(deployment: Deployment) -> None:
    connection = deployment.connect()
    sqs = routes.default_route_deps().sqs
    timed_out = [0]

    def after_send(**_: Any) -> None:
        if not timed_out[0]:
            timed_out[0] = 1
            raise ReadTimeoutError(endpoint_url="https://sqs.us-east-1.amazonaws.com")

    sqs.meta.events.register("after-call.sqs.SendMessage", after_send)
    assert deployment.send(connection, {"type": "message", "thread_id": "e", "content": "hello"}) == {
        "statusCode": 200
    }
    assert timed_out[0] == 1 and deployment.new_frames(connection) == []  # no error: it was queued
    assert deployment.queued() == 1
    deployment.deliver()
    assert [f["type"] for f in terminal(deployment.new_frames(connection))] == ["message_complete"]


def test_a_refusal_to_a_gone_client_and_a_dead_letter_are_learned_through_resume(
    deployment: Deployment,
) -> None:
    connection = deployment.connect()
    deployment.turn(connection, {"type": "message", "thread_id": "f", "content": "Cancel order 1043"})
    key = thread_key("f", "user-123")
    deps = worker.default_worker_deps()
    job = TurnJob.model_validate(
        {
            "frame": {"type": "message", "thread_id": "f", "content": "and 1044?"},
            "thread_id": "f",
            "connection_id": connection,
            "endpoint_url": "https://abc123defg.execute-api.us-east-1.amazonaws.com/dev",
            "customer_id": "demo-customer",
            "owner": "user-123",
            "request_id": "refused-1",
        }
    )
    asyncio.run(worker.process_job(job, deps))  # a message while an approval is pending: refused
    refusal, *asked_again = deployment.new_frames(connection)  # and the pending approval, again
    assert refusal["code"] == "approval_pending" and refusal["seq"] > 0
    assert [f["type"] for f in asked_again] == ["interrupt"] and asked_again[0]["seq"] == refusal["seq"] + 1
    asyncio.run(worker.process_job(job, deps))  # delivered again: nothing more
    assert deployment.new_frames(connection) == []

    dead = job.model_copy(update={"request_id": "dead-1"})
    url = deployment.stack.queue_urls["TurnDeadLetterQueue"]
    for body, dedup in ((dead.model_dump_json(), "d1"), ("not a job", "d2"), (job.model_dump_json(), "d3")):
        deployment.sqs.send_message(
            QueueUrl=url, MessageBody=body, MessageGroupId="g", MessageDeduplicationId=dedup
        )
    assert deployment.deliver("TurnDeadLetterQueue", "dead_letters") == 3
    assert deployment.queued("TurnDeadLetterQueue") == 0  # the record that is not a job is dropped
    [dead_letter] = deployment.new_frames(connection)  # the job that had ended (d3) says nothing
    assert dead_letter["code"] == "internal_error" and dead_letter["seq"] == refusal["seq"] + 2

    later = deployment.connect()
    assert deployment.send(later, {"type": "resume", "thread_id": "f", "after_seq": refusal["seq"] - 1})
    replayed = deployment.new_frames(later)
    assert [(f.get("code"), f.get("seq")) for f in replayed if f["type"] == "error"] == [
        ("approval_pending", refusal["seq"]),
        ("internal_error", dead_letter["seq"]),
    ]
    assert deps.sessions.get_state(key) is not None


def test_a_disconnect_without_the_fields_aws_may_leave_out_forgets_the_connection(
    deployment: Deployment,
) -> None:
    from tests.support.lambdas import event

    connection = deployment.connect()
    bare = event("disconnect", connectionId=connection)
    for name in ("identity", "disconnectStatusCode", "disconnectReason"):
        bare["requestContext"].pop(name, None)
    assert deployment.invoke("disconnect", bare) == {"statusCode": 200}
    assert routes.default_route_deps().connections.get(connection) is None
