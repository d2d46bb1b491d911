"""Defects that only show on AWS, where moto does not enforce what AWS does: IAM, stages, FIFO groups."""

from __future__ import annotations

import json
import secrets
import time
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError

from chat_runtime.aws import routes, worker
from chat_runtime.aws.dynamodb_sessions import DynamoDBSessionManager
from chat_runtime.sessions import SessionRecord
from local_server.emulator.functions import LambdaContext, load_handler_module
from local_server.intrinsics import Resolver
from local_server.stack import ROOT, Stack, load_template
from tests.support.lambdas import EVENTS, Deployment, event

pytestmark = pytest.mark.integration


def item_bytes(item: dict[str, Any]) -> int:
    """An item's size as DynamoDB counts it (names and values), near enough for binary and string values."""
    size = 0
    for name, value in item.items():
        [(kind, data)] = value.items()
        size += len(name) + (len(data) if kind in ("B", "S") else len(str(data)))
    return size


def test_a_conversation_past_the_item_limit_is_stored_in_parts_under_the_worker_role(
    deployment: Deployment,
) -> None:
    """DynamoDB refuses items over 400 KB (moto does not): the snapshot of a long conversation is split into
    parts, written and read back under the worker's IAM role."""
    connection = deployment.connect()
    dynamodb, table = boto3.client("dynamodb"), deployment.stack.names["CheckpointsTable"]
    for turn in range(60):  # noqa: B007 - counted after the loop  # ~22 KB of incompressible text a turn; a snapshot every 100 updates
        frames = deployment.turn(
            connection, {"type": "message", "thread_id": "long", "content": secrets.token_urlsafe(22_000)}
        )
        assert frames[-1]["type"] == "message_complete", frames[-1]
        pages = dynamodb.get_paginator("scan").paginate(TableName=table)
        items = [item for page in pages for item in page["Items"]]
        if any("#P#" in item["SK"]["S"] for item in items):
            break
    else:
        pytest.fail("no value was stored in parts")
    assert max(item_bytes(item) for item in items) < 400_000
    frames = deployment.turn(connection, {"type": "message", "thread_id": "long", "content": "Still there?"})
    assert frames[-1]["type"] == "message_complete"  # read back: the whole conversation
    state = worker.default_worker_deps().runner.graph.get_state(  # type: ignore[attr-defined]
        {"configurable": {"thread_id": "user-123#long"}}
    )
    assert sum(1 for m in state.values["messages"] if m.type == "human") == turn + 2


def test_the_iam_guard_refuses_what_a_role_does_not_allow(deployment: Deployment) -> None:
    orders = deployment.stack.names["OrdersTable"]
    dynamodb = boto3.client("dynamodb")
    with deployment.iam.acting_as("MessageFunction"), pytest.raises(ClientError) as refused:
        dynamodb.get_item(TableName=orders, Key={"order_id": {"S": "1042"}})
    assert refused.value.response["Error"]["Code"] == "AccessDeniedException"
    assert "dynamodb:GetItem" in str(refused.value)
    with deployment.iam.acting_as("AgentWorkerFunction"), pytest.raises(ClientError):
        dynamodb.delete_item(TableName=orders, Key={"order_id": {"S": "1042"}})  # least privilege on orders
    with deployment.iam.acting_as("DeadLetterFunction"), pytest.raises(ClientError):
        dynamodb.get_item(TableName=orders, Key={"order_id": {"S": "1042"}})  # no orders for dead letters
    assert [v.action for v in deployment.iam.violations] == [
        "dynamodb:GetItem",
        "dynamodb:DeleteItem",
        "dynamodb:GetItem",
    ]
    deployment.iam.violations.clear()  # refused on purpose; the fixture fails a test that leaves any


def test_the_health_function_answers_on_its_staged_path(
    aws_env: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    """HTTP API payload 2.0 with a named stage: `rawPath` is `/dev/api/health`."""
    stack = Stack(load_template())
    for name, value in stack.environment("HealthFunction").items():
        monkeypatch.setenv(name, value)
    import importlib.util

    spec = importlib.util.spec_from_file_location("health_staged", ROOT / "functions" / "health" / "app.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    request = json.loads((EVENTS / "health.json").read_text())
    assert request["rawPath"] == f"/{request['requestContext']['stage']}/api/health"
    response = module.handler(request, LambdaContext())
    assert response["statusCode"] == 200 and json.loads(response["body"]) == {"status": "ok"}


def test_two_customers_threads_with_the_same_id_do_not_share_a_fifo_group(deployment: Deployment) -> None:
    alice, bob = deployment.connect(principal="alice"), deployment.connect(principal="bob")
    for connection in (alice, bob, alice):
        message = {"type": "message", "thread_id": "t1", "content": "Where is order 1042?"}
        assert deployment.send(connection, message) == {"statusCode": 200}
    url = deployment.stack.queue_urls["TurnQueue"]

    def receive_one() -> dict[str, Any]:
        [message] = deployment.sqs.receive_message(
            QueueUrl=url, MaxNumberOfMessages=1, AttributeNames=["MessageGroupId"]
        )["Messages"]
        return dict(message)

    first = receive_one()  # alice's first turn, in flight: her thread's group is blocked until it is done
    second = receive_one()  # bob's turn is not stuck behind it
    assert json.loads(first["Body"])["owner"] == "alice" and json.loads(second["Body"])["owner"] == "bob"
    groups = {first["Attributes"]["MessageGroupId"], second["Attributes"]["MessageGroupId"]}
    assert len(groups) == 2 and not any("alice" in g or "bob" in g or "t1" in g for g in groups)
    assert deployment.sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=1).get("Messages") is None


def test_expired_threads_do_not_count_toward_the_thread_cap(deployment: Deployment) -> None:
    now = [1_000_000.0]
    sessions = DynamoDBSessionManager(
        deployment.stack.names["SessionsTable"], ttl_seconds=60, clock=lambda: now[0]
    )
    for thread in ("a", "b", "c"):
        sessions.touch(SessionRecord(f"carol#{thread}", owner="carol"))
    assert sessions.count_threads("carol") == 3
    now[0] += 30
    sessions.touch(SessionRecord("carol#d", owner="carol"))
    now[0] += 45  # a, b, c expired (75 s idle); d has 15 s left
    assert sessions.count_threads("carol") == 1
    assert sessions.count_threads("dave") == 0


def test_the_worker_admits_a_new_thread_once_old_ones_expired(deployment: Deployment) -> None:
    connection = deployment.connect(principal="erin")
    long_ago = DynamoDBSessionManager(
        deployment.stack.names["SessionsTable"], clock=lambda: time.time() - 10 * 86400
    )
    for index in range(100):  # the cap, all long expired
        long_ago.touch(SessionRecord(f"erin#old-{index}", owner="erin"))
    frames = deployment.turn(connection, {"type": "message", "thread_id": "fresh", "content": "Hi"})
    assert frames[-1]["type"] == "message_complete", frames


def test_the_template_requires_authentication_and_issuer_and_audience_with_a_jwks_url() -> None:
    template = load_template()
    stack = Stack(template)

    def holds(**parameters: str) -> bool:
        resolver = Resolver(stack, parameters=parameters)
        return all(
            resolver.evaluate(assertion["Assert"])
            for rule in template["Rules"].values()
            if resolver.evaluate(rule.get("RuleCondition", True))
            for assertion in rule["Assertions"]
        )

    assert not holds()  # a stack whose authorizer would refuse everyone is not deployed
    jwks = "https://cognito-idp.eu-west-1.amazonaws.com/pool/.well-known/jwks.json"
    assert not holds(JwksUrl=jwks)
    assert not holds(JwksUrl=jwks, JwtIssuer="https://cognito-idp.eu-west-1.amazonaws.com/pool")
    assert holds(JwksUrl=jwks, JwtIssuer="https://issuer", JwtAudience="client-id")
    assert holds(JwtSecretParameter="/shop/jwt-secret")


def test_the_dead_letter_function_tells_the_customer(deployment: Deployment) -> None:
    connection = deployment.connect()
    load_handler_module("dead_letters")
    job = {
        "thread_id": "dl",
        "connection_id": connection,
        "endpoint_url": "https://abc123defg.execute-api.us-east-1.amazonaws.com/dev",
        "customer_id": "demo-customer",
        "request_id": "r-1",
        "frame": {"type": "message", "thread_id": "dl", "content": "hi"},
    }
    url = deployment.stack.queue_urls["TurnDeadLetterQueue"]
    deployment.sqs.send_message(
        QueueUrl=url, MessageBody=json.dumps(job), MessageGroupId="g", MessageDeduplicationId="d"
    )
    assert deployment.deliver("TurnDeadLetterQueue", "dead_letters") == 1
    [frame] = deployment.new_frames(connection)
    assert frame["code"] == "internal_error"


def test_a_connect_event_records_the_token_expiry(deployment: Deployment) -> None:
    expires = int(time.time()) + 600
    identity = {"principal": "frank", "customer_id": "demo-customer", "expires_at": expires}
    assert deployment.invoke("connect", event("connect", connectionId="exp=", authorizer=identity)) == {
        "statusCode": 200
    }
    connection = routes.default_route_deps().connections.get("exp=")
    assert connection is not None and connection.expires_at == expires
