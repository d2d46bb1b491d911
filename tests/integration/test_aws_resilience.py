"""The AWS path when things go wrong or grow: redelivery, a vanished client, a state over 400 KB."""

from __future__ import annotations

import json
import os
import random
import string
import subprocess
import sys
from typing import Any

import boto3
import pytest
from botocore.stub import ANY, Stubber

from chat_runtime.auth import thread_key
from chat_runtime.aws import worker
from chat_runtime.aws.gateway import management_client
from local_server.emulator.event_source import sqs_record
from local_server.stack import ROOT
from tests.support.lambdas import REGION, Deployment

pytestmark = pytest.mark.integration


def human_messages(thread_id: str, owner: str = "user-123") -> list[str]:
    deps = worker.default_worker_deps()
    config = {"configurable": {"thread_id": thread_key(thread_id, owner)}}
    state = deps.runner.graph.get_state(config)  # type: ignore[attr-defined]
    return [m.text for m in state.values.get("messages", []) if m.type == "human"]


def test_a_redelivered_job_does_not_run_twice(deployment: Deployment) -> None:
    connection = deployment.connect()
    deployment.send(connection, {"type": "message", "thread_id": "r-1", "content": "Where is order 1042?"})
    url = deployment.stack.queue_urls["TurnQueue"]
    message = deployment.sqs.receive_message(QueueUrl=url, AttributeNames=["All"])["Messages"][0]
    record = sqs_record(message, deployment.stack.queue_arns["TurnQueue"])
    deployment.invoke("worker", {"Records": [record]})
    first = deployment.new_frames(connection)
    assert first[-1]["type"] == "message_complete"

    deployment.invoke("worker", {"Records": [record]})  # SQS delivers at least once
    assert deployment.new_frames(connection) == []
    assert human_messages("r-1") == ["Where is order 1042?"]


def test_gone_mid_stream_still_finishes_and_saves_the_turn(deployment: Deployment) -> None:
    connection = deployment.connect()
    deps = worker.default_worker_deps()
    endpoint = "https://abc123defg.execute-api.us-east-1.amazonaws.com/dev"
    client = boto3.client("apigatewaymanagementapi", endpoint_url=endpoint, region_name=REGION)
    stub = Stubber(client)
    stub.add_response("post_to_connection", {}, {"ConnectionId": connection, "Data": ANY})
    stub.add_client_error("post_to_connection", "GoneException", http_status_code=410)
    stub.activate()
    deps.gateway = lambda _: client
    deployment.send(
        connection, {"type": "message", "thread_id": "r-2", "content": "Please cancel order 1043"}
    )
    deployment.deliver()
    stub.assert_no_pending_responses()

    table = deployment.stack.names["ConnectionsTable"]
    item = boto3.client("dynamodb").get_item(TableName=table, Key={"connection_id": {"S": connection}})[
        "Item"
    ]
    assert item["gone"] == {"BOOL": True}
    # The turn reached its approval and was saved: a new connection can answer it.
    deps.gateway = management_client
    again = deployment.connect()
    frames = deployment.turn(again, {"type": "interrupt_response", "thread_id": "r-2", "approved": True})
    assert "Order 1043 has been cancelled." in "".join(f.get("content", "") for f in frames)


def test_a_state_over_400_kb_is_stored_in_items_under_the_limit_and_read_back(deployment: Deployment) -> None:
    connection = deployment.connect()
    rng = random.Random(7)
    for n in range(20):
        noise = "".join(rng.choices(string.ascii_letters + string.digits, k=30_000))
        frames = deployment.turn(
            connection, {"type": "message", "thread_id": "big", "content": f"{n} {noise}"}
        )
        assert frames[-1]["type"] == "message_complete", frames[-1]
    pages = (
        boto3.client("dynamodb")
        .get_paginator("scan")
        .paginate(TableName=deployment.stack.names["CheckpointsTable"])
    )
    sizes = [len(json.dumps(item, default=str)) for page in pages for item in page["Items"]]
    assert max(sizes) < 400_000  # each message stored once, in a write of its own (DynamoDB's item limit)
    state_bytes = sum(len(text) for text in human_messages("big"))
    assert state_bytes > 400_000
    frames = deployment.turn(
        connection, {"type": "message", "thread_id": "big", "content": "Where is order 1042?"}
    )
    assert frames[-1]["type"] == "message_complete"
    assert len(human_messages("big")) == 21


@pytest.mark.parametrize("folder", ["connect", "disconnect", "message", "interrupt_response", "dead_letters"])
def test_route_handlers_do_not_import_langgraph(folder: str) -> None:
    code = f"""
import importlib.util, json, sys, time
started = time.perf_counter()
spec = importlib.util.spec_from_file_location("app", {str(ROOT / "functions" / folder / "app.py")!r})
module = importlib.util.module_from_spec(spec)
spec.loader.exec_module(module)
heavy = {{m.split(".")[0] for m in sys.modules if m.startswith(("langgraph", "langchain"))}}
print(json.dumps({{"seconds": time.perf_counter() - started, "heavy": sorted(heavy)}}))
"""
    env = {**os.environ, "CONNECTIONS_TABLE": "c", "SESSIONS_TABLE": "s", "AWS_DEFAULT_REGION": REGION}
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True)
    report: dict[str, Any] = json.loads(result.stdout.strip().splitlines()[-1])
    assert report["heavy"] == []
