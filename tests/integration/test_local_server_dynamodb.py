"""`python -m local_server --store dynamodb` against a moto server: the AWS persistence path, real sockets."""

from __future__ import annotations

import json
from collections.abc import Iterator

import boto3
import pytest
from websockets.sync.client import connect

from local_server.emulator.stack import MotoServer
from tests.support.live_server import receive_turn
from tests.support.subprocess_server import local_server_process

pytestmark = pytest.mark.integration


@pytest.fixture
def moto_endpoint(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    for name, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
    }.items():
        monkeypatch.setenv(name, value)
    server = MotoServer().start()
    yield server.url
    server.stop()


def say(ws: object, thread_id: str, content: str) -> list[dict[str, object]]:
    ws.send(json.dumps({"type": "message", "thread_id": thread_id, "content": content}))  # type: ignore[attr-defined]
    return receive_turn(ws, timeout=30)  # type: ignore[arg-type]


def test_conversations_persist_in_dynamodb_across_server_restarts(moto_endpoint: str) -> None:
    args = ("--store", "dynamodb", "--endpoint-url", moto_endpoint)
    with local_server_process(*args) as url, connect(url) as ws:
        assert say(ws, "ddb-1", "Please cancel order 1043")[-1]["type"] == "interrupt"
        ws.send(json.dumps({"type": "interrupt_response", "thread_id": "ddb-1", "approved": True}))
        assert "has been cancelled" in "".join(
            str(f.get("content", "")) for f in receive_turn(ws, timeout=30)
        )

    dynamodb = boto3.client("dynamodb", endpoint_url=moto_endpoint)
    item = dynamodb.get_item(TableName="local-OrdersTable", Key={"order_id": {"S": "1043"}})["Item"]
    assert item["status"] == {"S": "cancelled"}
    assert dynamodb.scan(TableName="local-CheckpointsTable")["Count"] > 0
    session = dynamodb.get_item(TableName="local-SessionsTable", Key={"thread_id": {"S": "ddb-1"}})["Item"]
    assert session["status"] == {"S": "idle"}

    # A new process knows the thread from DynamoDB alone: "it" is still order 1043.
    with local_server_process(*args) as url, connect(url) as ws:
        frames = say(ws, "ddb-1", "What's its status now?")
    assert [f["args"] for f in frames if f["type"] == "tool_call"] == [{"order_id": "1043"}]
    assert "was cancelled" in "".join(str(f.get("content", "")) for f in frames)
