"""The local server over real sockets: ordering per thread, concurrency across threads, robustness."""

from __future__ import annotations

import json
import threading
import time
from typing import Any

import httpx
import pytest
from langchain_core.messages import AIMessage
from langgraph.checkpoint.memory import InMemorySaver
from langgraph.graph import END, START, MessagesState, StateGraph
from langgraph.graph.state import CompiledStateGraph
from websockets.sync.client import connect

from chat_runtime.sessions import ThreadStatus
from local_server import create_app
from tests.support.live_server import receive_turn, serve, without_seq

pytestmark = pytest.mark.integration


def gated_graph(gates: dict[str, threading.Event], log: list[str]) -> CompiledStateGraph[Any, Any, Any, Any]:
    """Echoes each message; a message naming a gate waits until that gate opens."""

    def echo(state: MessagesState) -> dict[str, Any]:
        text = state["messages"][-1].text
        log.append(f"start {text}")
        gate = gates.get(text)
        if gate is not None and not gate.wait(timeout=10):
            raise TimeoutError(f"gate {text} never opened")
        time.sleep(0.02)
        log.append(f"end {text}")
        seen = [m.text for m in state["messages"] if m.type == "human"]
        return {"messages": [AIMessage(content=f"echo {text} after {seen[:-1]}")]}

    builder = StateGraph(MessagesState)
    builder.add_node("assistant", echo)
    builder.add_edge(START, "assistant")
    builder.add_edge("assistant", END)
    return builder.compile(checkpointer=InMemorySaver())


def ws_url(base: str) -> str:
    return base.replace("http://", "ws://") + "/ws"


def test_turns_of_one_thread_run_one_at_a_time_in_arrival_order() -> None:
    log: list[str] = []
    with serve(create_app(graph=gated_graph({}, log))) as url, connect(ws_url(url)) as ws:
        for n in range(4):
            ws.send(json.dumps({"type": "message", "thread_id": "same", "content": f"m{n}"}))
        answers = ["".join(f["content"] for f in receive_turn(ws) if f["type"] == "token") for _ in range(4)]
    assert log == [event for n in range(4) for event in (f"start m{n}", f"end m{n}")]
    assert answers[3] == "echo m3 after ['m0', 'm1', 'm2']"


def test_different_threads_run_concurrently() -> None:
    gate = threading.Event()
    log: list[str] = []
    with serve(create_app(graph=gated_graph({"slow": gate}, log))) as url, connect(ws_url(url)) as ws:
        ws.send(json.dumps({"type": "message", "thread_id": "a", "content": "slow"}))
        ws.send(json.dumps({"type": "message", "thread_id": "b", "content": "fast"}))
        first = receive_turn(ws)  # thread b finishes while thread a still waits
        gate.set()
        second = receive_turn(ws)
    assert (first[-1]["thread_id"], second[-1]["thread_id"]) == ("b", "a")
    assert log.index("end fast") < log.index("end slow")


def test_bad_frames_mid_turn_get_errors_and_never_disturb_the_turn_or_the_connection() -> None:
    gate = threading.Event()
    with serve(create_app(graph=gated_graph({"wait": gate}, []))) as url, connect(ws_url(url)) as ws:
        ws.send(json.dumps({"type": "message", "thread_id": "a", "content": "wait"}))
        bad: list[str | bytes] = ["{", "x" * 40_000, b"\xff", json.dumps({"type": "shout"}), "[]"]
        for raw in bad:
            ws.send(raw)
        errors = [json.loads(ws.recv(timeout=5)) for _ in bad]
        assert [e["code"] for e in errors] == [
            "invalid_json",
            "message_too_large",
            "invalid_json",
            "unknown_type",
            "invalid_frame",
        ]
        gate.set()
        frames = receive_turn(ws)
        assert without_seq(frames[-1]) == {"type": "message_complete", "thread_id": "a"}
        ws.send(json.dumps({"type": "message", "thread_id": "a", "content": "still here"}))
        assert receive_turn(ws)[-1]["type"] == "message_complete"


def test_a_turn_outlives_a_dropped_connection_and_is_persisted() -> None:
    gate = threading.Event()
    graph = gated_graph({"long": gate}, [])
    app = create_app(graph=graph)
    with serve(app) as url:
        with connect(ws_url(url)) as ws:
            ws.send(json.dumps({"type": "message", "thread_id": "gone", "content": "long"}))
            time.sleep(0.1)
        gate.set()
        deadline = time.monotonic() + 5
        while app.state.session_manager.get_state("gone").status is not ThreadStatus.IDLE:
            assert time.monotonic() < deadline, "the turn never finished"
            time.sleep(0.02)
        with connect(ws_url(url)) as ws:
            ws.send(json.dumps({"type": "message", "thread_id": "gone", "content": "back"}))
            tokens = [f["content"] for f in receive_turn(ws) if f["type"] == "token"]
    assert tokens == ["echo back after ['long']"]


def test_health_over_http() -> None:
    with serve(create_app(graph=gated_graph({}, []))) as url:
        response = httpx.get(url + "/api/health")
    assert (response.status_code, response.json()) == (200, {"status": "ok"})
