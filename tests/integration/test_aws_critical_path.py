"""Issue 19: fewer AWS round trips and DynamoDB requests per turn, with every guarantee kept.

Through the real route handlers and worker under moto (each under its own IAM role): the connection read and
its rate-limit count are one write; the session is read while the frame is counted, and only under the
connection's own principal.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import boto3
import pytest

from chat_runtime.aws import routes
from chat_runtime.aws.connections import RATE_PREFIX
from tests.support.lambdas import Deployment

pytestmark = pytest.mark.integration


@pytest.fixture
def calls() -> Iterator[list[tuple[str, str]]]:
    """Every DynamoDB call (operation, table) made while the test runs."""
    import botocore.client

    original = botocore.client.BaseClient._make_api_call
    seen: list[tuple[str, str]] = []

    def recorded(client: Any, operation: str, params: dict[str, Any]) -> Any:
        if client.meta.service_model.service_name == "dynamodb":
            seen.append((operation, str(params.get("TableName", ""))))
        return original(client, operation, params)

    botocore.client.BaseClient._make_api_call = recorded
    try:
        yield seen
    finally:
        botocore.client.BaseClient._make_api_call = original


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
    import botocore.client

    connection = deployment.connect()
    sessions = deployment.stack.names["SessionsTable"]
    connections = deployment.stack.names["ConnectionsTable"]
    session_read = threading.Event()
    overlapped: list[bool] = []
    original = botocore.client.BaseClient._make_api_call

    def watched(client: Any, operation: str, params: dict[str, Any]) -> Any:
        if operation == "GetItem" and params.get("TableName") == sessions:
            session_read.set()
        if operation == "UpdateItem" and params.get("TableName") == connections:
            overlapped.append(session_read.wait(timeout=2))
        return original(client, operation, params)

    botocore.client.BaseClient._make_api_call = watched
    try:
        frames = deployment.turn(connection, {"type": "message", "thread_id": "c", "content": "hello"})
    finally:
        botocore.client.BaseClient._make_api_call = original
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
