"""The acceptance suite's four flows, on a real compiled LangGraph graph, through `/ws` on a real socket."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from websockets.sync.client import ClientConnection, connect

from local_server import create_app
from tests.support.live_server import receive_turn, serve, without_seq
from tests.support.mini_graph import MiniShop, build_mini_graph

pytestmark = pytest.mark.integration


@pytest.fixture
def shop() -> MiniShop:
    return MiniShop()


@pytest.fixture
def ws(shop: MiniShop) -> Iterator[ClientConnection]:
    with (
        serve(create_app(graph=build_mini_graph(shop))) as url,
        connect(url.replace("http", "ws") + "/ws") as ws,
    ):
        yield ws


def send(ws: ClientConnection, **frame: Any) -> None:
    ws.send(json.dumps(frame))


def of_type(frames: list[dict[str, Any]], kind: str) -> list[dict[str, Any]]:
    return [f for f in frames if f["type"] == kind]


def test_happy_path_streams_tool_call_then_tokens(ws: ClientConnection) -> None:
    send(ws, type="message", thread_id="real-1", content="What is the status of order 1042?")
    frames = receive_turn(ws)

    tool_calls = of_type(frames, "tool_call")
    assert [(c["tool"], c["args"], c["agent"]) for c in tool_calls] == [
        ("get_order_status", {"order_id": "1042"}, "order_info")
    ]
    tokens = of_type(frames, "token")
    assert len(tokens) > 1, "the answer streams word by word"
    assert {t["agent"] for t in tokens} == {"order_info"}
    assert "shipped" in "".join(t["content"] for t in tokens)
    assert frames.index(tool_calls[0]) < frames.index(tokens[0])
    assert without_seq(frames[-1]) == {"type": "message_complete", "thread_id": "real-1"}


def test_approve_executes_the_action(ws: ClientConnection, shop: MiniShop) -> None:
    send(ws, type="message", thread_id="real-2", content="Cancel order 1043")
    frames = receive_turn(ws)
    interrupt = frames[-1]
    assert interrupt["type"] == "interrupt"
    assert (interrupt["action"], interrupt["order_id"]) == ("cancel_order", "1043")
    assert interrupt["interrupt_id"] and interrupt["description"] == "Cancel order 1043?"
    assert not of_type(frames, "message_complete")
    assert shop.cancelled == []

    send(ws, type="interrupt_response", thread_id="real-2", approved=True)
    frames = receive_turn(ws)
    assert frames[-1]["type"] == "message_complete"
    text = "".join(t["content"] for t in of_type(frames, "token"))
    assert text == "Order 1043 has been cancelled successfully."
    assert {t["agent"] for t in of_type(frames, "token")} == {"order_actions"}
    assert shop.cancelled == ["1043"]


def test_reject_resumes_with_false_and_executes_nothing(ws: ClientConnection, shop: MiniShop) -> None:
    send(ws, type="message", thread_id="real-3", content="Cancel order 1043")
    assert receive_turn(ws)[-1]["type"] == "interrupt"

    send(ws, type="interrupt_response", thread_id="real-3", approved=False)
    frames = receive_turn(ws)
    assert (
        "".join(t["content"] for t in of_type(frames, "token"))
        == "Understood. Order 1043 will remain active."
    )
    assert frames[-1]["type"] == "message_complete"
    assert shop.cancelled == []
    assert shop.statuses["1043"] == "processing"

    send(ws, type="interrupt_response", thread_id="real-3", approved=True)
    late = receive_turn(ws)
    assert late == [late[0]] and late[0]["code"] == "no_pending_approval"
    assert shop.cancelled == []


def test_three_turns_on_one_thread_keep_their_history(ws: ClientConnection) -> None:
    answers = []
    for content in ("Tell me about order 1042", "When will it arrive?", "Anything else?"):
        send(ws, type="message", thread_id="real-4", content=content)
        frames = receive_turn(ws)
        assert frames[-1]["type"] == "message_complete"
        answers.append("".join(t["content"] for t in of_type(frames, "token")))
    assert answers == [
        "This is turn 1 about order 1042.",
        "This is turn 2 about order 1042.",
        "This is turn 3 about order 1042.",
    ]


def test_a_message_while_an_approval_is_pending_is_refused_and_the_interrupt_resent(
    ws: ClientConnection,
) -> None:
    send(ws, type="message", thread_id="real-5", content="Cancel order 1043")
    first = receive_turn(ws)[-1]

    send(ws, type="message", thread_id="real-5", content="Hello?")
    error = json.loads(ws.recv(timeout=10))
    again = json.loads(ws.recv(timeout=10))
    assert error["type"] == "error" and error["code"] == "approval_pending"
    assert again == without_seq(first)
