"""Reconnect and replay: numbered frames, a kept log of the latest turn, `resume` on both transports."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Sequence
from typing import Any

import pytest
from botocore.exceptions import ClientError
from langchain_core.messages import AIMessage, BaseMessage, ToolMessage
from websockets.sync.client import ClientConnection, connect

from chat_runtime.aws import worker
from chat_runtime.aws.gateway import management_client
from local_server import create_app
from support_agent.models.offline import OfflineSupportModel
from tests.integration.test_local_server import gated_graph
from tests.support.lambdas import Deployment, read_frames
from tests.support.live_server import receive_turn, serve

pytestmark = pytest.mark.integration


def send(ws: ClientConnection, **frame: Any) -> None:
    ws.send(json.dumps(frame))


def test_a_client_that_dropped_mid_turn_resumes_and_sees_the_whole_answer() -> None:
    gate = threading.Event()
    with serve(create_app(graph=gated_graph({"long": gate}, []))) as url:
        ws_url = url.replace("http", "ws") + "/ws"
        with connect(ws_url) as first:
            send(first, type="message", thread_id="r", content="long")
            time.sleep(0.2)  # the turn is running; the client drops
        with connect(ws_url) as second:
            send(second, type="resume", thread_id="r", after_seq=0)
            time.sleep(0.2)
            gate.set()
            frames = receive_turn(second)
    assert frames[0] == {"type": "resumed", "thread_id": "r", "state": "running"}  # the rest follows live
    assert [f["type"] for f in frames[1:]] == ["token", "message_complete"]
    assert [f["seq"] for f in frames[1:]] == [1, 2]
    assert frames[1]["content"] == "echo long after []"


def test_resume_after_the_turn_replays_what_was_missed_and_pending_approvals() -> None:
    with serve(create_app()) as url, connect(url.replace("http", "ws") + "/ws") as ws:
        send(ws, type="message", thread_id="p", content="What is the status of order 1042?")
        answer = receive_turn(ws)
        send(ws, type="resume", thread_id="p", after_seq=answer[1]["seq"])
        replayed = receive_turn(ws)
        assert replayed == answer[2:]
        assert json.loads(ws.recv(timeout=5)) == {"type": "resumed", "thread_id": "p", "state": "idle"}

        send(ws, type="message", thread_id="p", content="Please cancel order 1043")
        interrupt = receive_turn(ws)[-1]
        assert interrupt["seq"] > answer[-1]["seq"]  # seq keeps growing across turns
        send(ws, type="resume", thread_id="p", after_seq=interrupt["seq"])  # even a client that had it all
        assert json.loads(ws.recv(timeout=5)) == interrupt  # gets the pending approval again
        assert json.loads(ws.recv(timeout=5))["state"] == "awaiting_approval"


def test_a_thread_with_nothing_to_resume_says_so() -> None:
    with serve(create_app()) as url, connect(url.replace("http", "ws") + "/ws") as ws:
        send(ws, type="resume", thread_id="never", after_seq=0)
        assert json.loads(ws.recv(timeout=5)) == {"type": "resumed", "thread_id": "never", "state": "new"}
        send(ws, type="resume", thread_id="bad id", after_seq=0)
        assert json.loads(ws.recv(timeout=5))["code"] == "invalid_thread_id"


# ---------------------------------------------------------------- AWS


class DroppingGateway:
    """The management API as moto serves it, except that a dropped connection answers 410 GoneException.

    (moto never raises GoneException, and a Stubber cannot serve the other connection at the same time.)
    """

    def __init__(self, client: Any, connection_id: str, dropped: threading.Event) -> None:
        self._client, self._connection_id, self._dropped = client, connection_id, dropped

    def post_to_connection(self, ConnectionId: str, Data: bytes) -> Any:
        if self._dropped.is_set() and ConnectionId == self._connection_id:
            error = {
                "Error": {"Code": "GoneException", "Message": "Gone"},
                "ResponseMetadata": {"HTTPStatusCode": 410},
            }
            raise ClientError(error, "PostToConnection")
        return self._client.post_to_connection(ConnectionId=ConnectionId, Data=Data)


def test_on_aws_a_resumed_connection_receives_the_rest_of_a_running_turn(deployment: Deployment) -> None:
    first = deployment.connect()
    deps = worker.default_worker_deps()
    dropped, release = threading.Event(), threading.Event()
    deps.gateway = lambda endpoint: DroppingGateway(management_client(endpoint), first, dropped)
    original_reply = OfflineSupportModel.reply

    def waits_before_answering(self: OfflineSupportModel, messages: Sequence[BaseMessage]) -> AIMessage:
        if isinstance(messages[-1], ToolMessage):
            assert release.wait(timeout=20)
        return original_reply(self, messages)

    OfflineSupportModel.reply = waits_before_answering  # type: ignore[method-assign]
    try:
        deployment.send(
            first, {"type": "message", "thread_id": "r", "content": "What is the status of order 1042?"}
        )
        runner = threading.Thread(target=deployment.deliver)
        runner.start()
        deadline = time.monotonic() + 20
        while not read_frames(first):
            assert time.monotonic() < deadline
            time.sleep(0.01)
        seen = read_frames(first)
        assert [f["type"] for f in seen] == ["tool_call"]
        dropped.set()  # the client's socket is gone
        second = deployment.connect()
        deployment.send(second, {"type": "resume", "thread_id": "r", "after_seq": seen[-1]["seq"]})
        release.set()
        runner.join(timeout=30)
    finally:
        OfflineSupportModel.reply = original_reply  # type: ignore[method-assign]
    resumed, *rest = read_frames(second)
    assert resumed == {"type": "resumed", "thread_id": "r", "state": "running"}
    assert rest and rest[-1]["type"] == "message_complete"
    assert "has shipped with UPS" in "".join(f.get("content", "") for f in rest)
    seqs = [f["seq"] for f in seen + rest]
    assert seqs == sorted(set(seqs))  # nothing twice, nothing out of order


def test_on_aws_resume_replays_the_latest_turn_from_the_frames_table(deployment: Deployment) -> None:
    first = deployment.connect()
    answer = deployment.turn(
        first, {"type": "message", "thread_id": "q", "content": "Please cancel order 1043"}
    )
    assert answer[-1]["type"] == "interrupt"
    second = deployment.connect()
    deployment.send(second, {"type": "resume", "thread_id": "q", "after_seq": 0})
    caught_up = {"type": "resumed", "thread_id": "q", "state": "awaiting_approval"}
    assert deployment.new_frames(second) == [*answer, caught_up]
    deployment.send(second, {"type": "resume", "thread_id": "q", "after_seq": answer[-1]["seq"]})
    assert deployment.new_frames(second) == [answer[-1], caught_up]  # the pending approval, again
    stranger = deployment.connect(principal="mallory")
    deployment.send(stranger, {"type": "resume", "thread_id": "q", "after_seq": 0})
    assert deployment.new_frames(stranger) == [{"type": "resumed", "thread_id": "q", "state": "new"}]
