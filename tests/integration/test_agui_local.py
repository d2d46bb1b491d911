"""AG-UI on the local server where it works apart from the AWS path: a socket resuming a running turn."""

from __future__ import annotations

import json
import time
from typing import Any

from langchain_core.messages import AIMessage
from langgraph.checkpoint.memory import InMemorySaver
from langgraph.graph import END, START, MessagesState, StateGraph
from langgraph.types import interrupt
from websockets.sync.client import connect
from websockets.typing import Subprotocol

from local_server.app import create_app
from tests.support.agui_rules import agui_violations
from tests.support.live_server import serve

AGUI = Subprotocol("ag-ui")


def think_then_ask() -> Any:
    """A slow node, then a question: a turn still running when another socket resumes it."""

    def think(state: MessagesState) -> dict[str, Any]:
        time.sleep(1.5)
        return {"messages": [AIMessage("Let me think.", name="think")]}

    def ask(state: MessagesState) -> dict[str, Any]:
        name = interrupt("What is your name?")
        return {"messages": [AIMessage(f"Hello, {name}!", name="ask")]}

    builder = StateGraph(MessagesState)
    builder.add_node("think", think)
    builder.add_node("ask", ask)
    builder.add_edge(START, "think")
    builder.add_edge("think", "ask")
    builder.add_edge("ask", END)
    return builder.compile(checkpointer=InMemorySaver())


def until_terminal(ws: Any) -> list[dict[str, Any]]:
    events = [json.loads(ws.recv(timeout=10))]
    while events[-1]["type"] not in ("RUN_FINISHED", "RUN_ERROR"):
        events.append(json.loads(ws.recv(timeout=10)))
    return events


def test_a_socket_that_resumed_a_running_turn_gets_its_interrupt_run_finished() -> None:
    """The follower's run ends too (snapshots, then RUN_FINISHED with the interrupt), not only the
    starter's: before, a follower's AG-UI run that ended in an interrupt stayed open."""
    run = {"threadId": "follow", "runId": "r1", "messages": [{"id": "m", "role": "user", "content": "hi"}]}
    with serve(create_app(graph=think_then_ask())) as url:
        endpoint = url.replace("http", "ws") + "/ws"
        with (
            connect(endpoint, subprotocols=[AGUI]) as starter,
            connect(endpoint, subprotocols=[AGUI]) as other,
        ):
            starter.send(json.dumps({**run, "state": {}, "tools": [], "context": [], "forwardedProps": {}}))
            time.sleep(0.3)
            other.send(json.dumps({"type": "resume", "thread_id": "follow"}))
            followed = until_terminal(other)
            started = until_terminal(starter)
    for events in (followed, started):
        assert agui_violations(events) == []
        assert events[-1]["outcome"]["interrupts"][0]["message"] == "What is your name?"
        assert [e["type"] for e in events][-4:-2] == ["STATE_SNAPSHOT", "MESSAGES_SNAPSHOT"]
    assert started[-1]["runId"] == "r1"
