"""The acceptance flows through the real Lambda handlers under moto, with the real agent on DynamoDB."""

from __future__ import annotations

import json
from typing import Any

import boto3
import pytest

from tests.support.lambdas import Deployment
from tests.support.live_server import without_seq

pytestmark = pytest.mark.integration


def text(frames: list[dict[str, Any]], agent: str | None = None) -> str:
    tokens = [f for f in frames if f["type"] == "token"]
    if agent is not None:
        assert {t["agent"] for t in tokens} == {agent}
    return "".join(t["content"] for t in tokens)


def order_status(deployment: Deployment, order_id: str) -> str:
    table = deployment.stack.names["OrdersTable"]
    item = boto3.client("dynamodb").get_item(TableName=table, Key={"order_id": {"S": order_id}})["Item"]
    return str(item["status"]["S"])


def test_happy_path_streams_through_post_to_connection(deployment: Deployment) -> None:
    connection = deployment.connect()
    message = {"type": "message", "thread_id": "aws-1", "content": "What is the status of order 1042?"}
    assert deployment.send(connection, message) == {"statusCode": 200}
    assert deployment.new_frames(connection) == []  # the route handler only queues
    assert deployment.queued() == 1

    assert deployment.deliver() == 1
    frames = deployment.new_frames(connection)
    tool_calls = [f for f in frames if f["type"] == "tool_call"]
    assert [(c["tool"], c["args"], c["agent"]) for c in tool_calls] == [
        ("get_order_status", {"order_id": "1042"}, "order_info")
    ]
    assert "shipped" in text(frames, "order_info")
    assert without_seq(frames[-1]) == {"type": "message_complete", "thread_id": "aws-1"}
    seqs = [f["seq"] for f in frames]
    assert seqs == sorted(set(seqs)) and seqs[0] == 1  # increasing; merged tokens carry their last part's seq
    assert [f["type"] for f in frames].count("message_complete") == 1


def test_approve_executes_the_action_in_dynamodb(deployment: Deployment) -> None:
    connection = deployment.connect()
    frames = deployment.turn(
        connection, {"type": "message", "thread_id": "aws-2", "content": "Cancel order 1043"}
    )
    interrupt = frames[-1]
    assert (interrupt["type"], interrupt["action"], interrupt["order_id"]) == (
        "interrupt",
        "cancel_order",
        "1043",
    )
    assert not [f for f in frames if f["type"] == "message_complete"]
    assert order_status(deployment, "1043") == "processing"

    frames = deployment.turn(
        connection,
        {
            "type": "interrupt_response",
            "thread_id": "aws-2",
            "approved": True,
            "interrupt_id": interrupt["interrupt_id"],
        },
    )
    assert "Order 1043 has been cancelled." in text(frames, "order_actions")
    assert frames[-1]["type"] == "message_complete"
    assert order_status(deployment, "1043") == "cancelled"


def test_reject_executes_nothing(deployment: Deployment) -> None:
    connection = deployment.connect()
    deployment.turn(connection, {"type": "message", "thread_id": "aws-3", "content": "Cancel order 1043"})
    frames = deployment.turn(
        connection, {"type": "interrupt_response", "thread_id": "aws-3", "approved": False}
    )
    assert text(frames, "order_actions") == "Understood. Order 1043 will remain active."
    assert order_status(deployment, "1043") == "processing"


def test_a_hand_off_ticket_and_a_parcel_claim_are_written_under_the_worker_role(
    deployment: Deployment,
) -> None:
    """The worker's role allows the ticket's put and the claim's update (the IAM guard refuses the rest)."""
    connection = deployment.connect()

    def send(frame: dict[str, Any]) -> list[dict[str, Any]]:
        return deployment.turn(connection, {"thread_id": "aws-help", **frame})

    reply = text(send({"type": "message", "content": "I want to talk to a human"}))
    ticket_id = reply.split("(ticket ")[1].split(")")[0]
    table = deployment.stack.names["OrdersTable"]
    ticket = boto3.client("dynamodb").get_item(
        TableName=table, Key={"order_id": {"S": f"ticket#{ticket_id}"}}
    )
    assert ticket["Item"]["summary"]["S"].startswith("The customer asked for a person.")

    claim = send({"type": "message", "content": "order 1044 says delivered but I never received it"})[-1]
    assert claim["action"] == "report_missing_parcel"
    done = send({"type": "interrupt_response", "approved": True, "interrupt_id": claim["interrupt_id"]})
    assert "I've opened a missing-parcel claim for order 1044." in text(done, "order_actions")
    item = boto3.client("dynamodb").get_item(TableName=table, Key={"order_id": {"S": "1044"}})["Item"]
    assert item["claim_status"] == {"S": "open"}


def test_three_turns_share_the_thread_history(deployment: Deployment) -> None:
    connection = deployment.connect()

    def say(content: str) -> list[dict[str, Any]]:
        return deployment.turn(connection, {"type": "message", "thread_id": "aws-4", "content": content})

    assert "shipped" in text(say("What is the status of order 1042?"))
    assert "should arrive by" in text(say("When will it arrive?"))
    frames = say("Can you track it?")
    assert [f["args"] for f in frames if f["type"] == "tool_call"] == [{"order_id": "1042"}]


def test_a_second_worker_resumes_an_interrupted_thread_from_dynamodb_alone(deployment: Deployment) -> None:
    from tests.integration.conftest import reset_containers

    connection = deployment.connect()
    deployment.turn(connection, {"type": "message", "thread_id": "aws-5", "content": "Refund order 1044"})
    reset_containers()  # a new Lambda container: no graph, no saver, no memory of the turn
    frames = deployment.turn(
        connection, {"type": "interrupt_response", "thread_id": "aws-5", "approved": True}
    )
    assert "A refund of 45.50 for order 1044 has been requested." in text(frames)


def test_two_threads_on_one_connection_are_independent(deployment: Deployment) -> None:
    connection = deployment.connect()
    deployment.send(connection, {"type": "message", "thread_id": "aws-a", "content": "Cancel order 1046"})
    deployment.send(connection, {"type": "message", "thread_id": "aws-b", "content": "Where is order 1042?"})
    deployment.deliver()
    frames = deployment.new_frames(connection)
    by_thread = {tid: [f for f in frames if f["thread_id"] == tid] for tid in ("aws-a", "aws-b")}
    assert by_thread["aws-a"][-1]["type"] == "interrupt"
    assert by_thread["aws-b"][-1]["type"] == "message_complete"
    # Thread b is unaffected by thread a's pending approval.
    frames = deployment.turn(connection, {"type": "message", "thread_id": "aws-b", "content": "thanks"})
    assert frames[-1]["type"] == "message_complete"


@pytest.mark.parametrize(
    ("body", "code", "words"),
    [
        ("not valid json", "invalid_json", "Invalid JSON"),
        ("x" * 40_000, "message_too_large", "too large"),
        ({"type": "message", "content": "hello"}, "invalid_thread_id", "thread_id"),
        ({"type": "message", "thread_id": "bad id!", "content": "hello"}, "invalid_thread_id", "thread_id"),
        ({"type": "message", "thread_id": "e", "content": "  "}, "empty_content", "content"),
        ({"type": "shout", "thread_id": "e"}, "unknown_type", "Unknown frame type"),
        ({"type": "interrupt_response", "thread_id": "e", "approved": "yes"}, "invalid_field", "approved"),
        (
            {"type": "interrupt_response", "thread_id": "e", "approved": True},
            "no_pending_approval",
            "no pending",
        ),
    ],
)
def test_protocol_errors_are_answered_by_the_route_handler(
    deployment: Deployment, body: str | dict[str, Any], code: str, words: str
) -> None:
    connection = deployment.connect()
    assert deployment.send(connection, body) == {"statusCode": 200}
    [error] = deployment.new_frames(connection)
    assert error["type"] == "error" and error["code"] == code and words in error["message"]
    assert deployment.queued() == 0
    frames = deployment.turn(connection, {"type": "message", "thread_id": "e", "content": "hello"})
    assert frames[-1]["type"] == "message_complete"  # the connection still works


def test_a_message_while_an_approval_is_pending_resends_the_interrupt(deployment: Deployment) -> None:
    connection = deployment.connect()
    interrupt = deployment.turn(
        connection, {"type": "message", "thread_id": "aws-6", "content": "cancel 1046"}
    )[-1]
    deployment.send(connection, {"type": "message", "thread_id": "aws-6", "content": "hello?"})
    error, again = deployment.new_frames(connection)
    assert error["code"] == "approval_pending" and again == without_seq(interrupt)
    assert deployment.queued() == 0


def test_an_expired_session_is_refused_and_its_checkpoints_removed(
    deployment: Deployment, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tests.integration.conftest import reset_containers

    monkeypatch.setenv("SESSION_TTL_SECONDS", "0")
    reset_containers()
    connection = deployment.connect()
    deployment.turn(connection, {"type": "message", "thread_id": "aws-7", "content": "hello"})
    checkpoints = deployment.stack.names["CheckpointsTable"]
    dynamodb = boto3.client("dynamodb")
    assert dynamodb.scan(TableName=checkpoints)["Count"] > 0

    frames = deployment.turn(connection, {"type": "message", "thread_id": "aws-7", "content": "hello again"})
    assert [f["code"] for f in frames] == ["session_expired"]
    assert "expired" in frames[0]["message"]
    assert dynamodb.scan(TableName=checkpoints)["Count"] == 0  # purged by the worker
    again = deployment.turn(connection, {"type": "message", "thread_id": "aws-7", "content": "and now?"})
    assert [f["code"] for f in again] == ["session_expired"]  # an expired thread never resumes


def test_the_dead_letter_path_tells_the_customer(deployment: Deployment) -> None:
    connection = deployment.connect()
    deployment.send(connection, {"type": "message", "thread_id": "aws-8", "content": "Where is 1042?"})
    # Move the queued turn to the dead-letter queue, as three failed deliveries would.
    sqs = deployment.sqs
    message = sqs.receive_message(QueueUrl=deployment.stack.queue_urls["TurnQueue"])["Messages"][0]
    sqs.send_message(
        QueueUrl=deployment.stack.queue_urls["TurnDeadLetterQueue"],
        MessageBody=message["Body"],
        MessageGroupId="aws-8",
        MessageDeduplicationId="dead-1",
    )
    assert deployment.deliver("TurnDeadLetterQueue", "dead_letters") == 1
    [error] = deployment.new_frames(connection)
    assert error["type"] == "error" and error["thread_id"] == "aws-8" and "send it again" in error["message"]


def test_the_worker_environment_in_the_template_is_complete(deployment: Deployment) -> None:
    environment = deployment.stack.environment("AgentWorkerFunction")
    assert environment["ORDER_STORE"] == "dynamodb"
    for key in (
        "CHECKPOINTS_TABLE",
        "SESSIONS_TABLE",
        "CONNECTIONS_TABLE",
        "ORDERS_TABLE",
        "CHECKPOINT_BUCKET",
    ):
        assert environment[key] in deployment.stack.names.values(), key
    assert json.loads(json.dumps(environment))  # plain strings only
