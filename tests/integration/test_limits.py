"""Limits: frames per connection, turn duration, threads per principal."""

from __future__ import annotations

import json
import time
from typing import Any

import pytest
from langchain_core.messages import AIMessage
from langgraph.checkpoint.memory import InMemorySaver
from langgraph.graph import END, START, MessagesState, StateGraph
from websockets.sync.client import connect

from chat_runtime.aws import routes
from chat_runtime.protocol import MessageFrame, ServerFrame
from chat_runtime.sessions import InMemorySessionManager, ThreadStatus
from chat_runtime.turns import TurnRunner
from local_server import create_app
from local_server.defaults import build_default_graph
from tests.support.lambdas import Deployment
from tests.support.live_server import receive_turn, serve

pytestmark = pytest.mark.integration


def test_a_connection_over_its_rate_gets_rate_limited_errors_and_recovers() -> None:
    app = create_app(graph=build_default_graph(), rate_limit=(2.0, 3))
    with serve(app) as url, connect(url.replace("http", "ws") + "/ws") as ws:
        for _ in range(5):
            ws.send("{")
        codes = [json.loads(ws.recv(timeout=5))["code"] for _ in range(5)]
        assert codes == ["invalid_json"] * 3 + ["rate_limited"] * 2
        time.sleep(1.1)
        ws.send(json.dumps({"type": "message", "thread_id": "r", "content": "hello"}))
        assert receive_turn(ws)[-1]["type"] == "message_complete"


def test_the_route_handler_limits_frames_per_connection(deployment: Deployment) -> None:
    routes.default_route_deps().clock = lambda: 1_000_000.0  # one window for the whole test
    connection = deployment.connect()
    for _ in range(71):
        deployment.send(connection, "{")
    codes = [f["code"] for f in deployment.new_frames(connection)]
    assert codes[:70] == ["invalid_json"] * 70 and codes[70:] == ["rate_limited"]
    other = deployment.connect()
    frames = deployment.turn(other, {"type": "message", "thread_id": "o", "content": "hi"})
    assert frames[-1]["type"] == "message_complete"


def slow_graph(seconds: float) -> Any:
    def slow(state: MessagesState) -> dict[str, Any]:
        if state["messages"][-1].text == "slow":
            time.sleep(seconds)
        return {"messages": [AIMessage(content="done")]}

    builder = StateGraph(MessagesState)
    builder.add_node("assistant", slow)
    builder.add_edge(START, "assistant")
    builder.add_edge("assistant", END)
    return builder.compile(checkpointer=InMemorySaver())


def test_a_turn_over_the_maximum_duration_is_stopped_and_the_thread_stays_usable() -> None:
    app = create_app(graph=slow_graph(1.5), max_turn_seconds=0.3)
    with serve(app) as url, connect(url.replace("http", "ws") + "/ws") as ws:
        ws.send(json.dumps({"type": "message", "thread_id": "t", "content": "slow"}))
        [error] = receive_turn(ws)
        assert error["code"] == "turn_timeout" and "too long" in error["message"]
        assert app.state.session_manager.get_state("t").status is ThreadStatus.IDLE
        time.sleep(1.5)  # the abandoned node thread finishes meanwhile
        ws.send(json.dumps({"type": "message", "thread_id": "t", "content": "quick"}))
        assert receive_turn(ws)[-1]["type"] == "message_complete"


@pytest.mark.anyio
async def test_a_principal_may_hold_only_so_many_threads() -> None:
    runner = TurnRunner(slow_graph(0), InMemorySessionManager(), max_threads_per_owner=2)
    frames: list[ServerFrame] = []

    async def sink(frame: ServerFrame) -> None:
        frames.append(frame)

    for thread in ("a", "b", "c"):
        await runner.handle(MessageFrame(type="message", thread_id=thread, content="hi"), sink, owner="alice")
    assert [f.type for f in frames] == ["token", "message_complete", "token", "message_complete", "error"]
    assert frames[-1].code == "too_many_threads"  # type: ignore[union-attr]
    await runner.handle(MessageFrame(type="message", thread_id="a", content="again"), sink, owner="alice")
    await runner.handle(MessageFrame(type="message", thread_id="c", content="hi"), sink, owner="bob")
    assert [f.type for f in frames[-4:]] == ["token", "message_complete", "token", "message_complete"]
