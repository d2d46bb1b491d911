"""Graphs a LangGraph user writes (`examples/langgraph_features`), served unchanged by every path:
`make run`'s process, `make run-aws`'s process, and the Lambda handlers as AWS invokes them (under moto).

Each asserts what LangGraph's own server does: any interrupt value and answer, several interrupts answered
in one frame, a subgraph's model streaming live with its tool call before the approval, custom stream events,
cancelling a running turn (keeping or rolling back its progress), double-texting, and reading thread state.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from typing import Any, Protocol

import pytest
from websockets.sync.client import connect

from local_server.emulator.functions import reset_lambda_containers
from tests.support.lambda_socket import LambdaSocket
from tests.support.lambdas import Deployment
from tests.support.subprocess_server import aws_emulator_process, local_server_process

pytestmark = pytest.mark.integration
CONFIG = Path(__file__).resolve().parents[2] / "examples" / "langgraph_features" / "langgraph.json"
TERMINAL = ("message_complete", "error", "interrupt")
THREAD = "features-1"


class Socket(Protocol):
    def send(self, message: str) -> None: ...

    def recv(self, timeout: float | None = None) -> str | bytes: ...


Serve = Callable[[str], AbstractContextManager[Socket]]


@pytest.fixture(params=["run", "run-aws", "lambda"])
def serve(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Serve:
    """Serve one of the example graphs on the path under test; yields a connected client socket."""

    @contextmanager
    def served(graph: str) -> Iterator[Socket]:
        env = {**os.environ, "LANGGRAPH_CONFIG": str(CONFIG), "GRAPH": graph}
        if request.param == "run":
            with local_server_process(env=env) as url, connect(url) as ws:
                yield ws
        elif request.param == "run-aws":
            with aws_emulator_process(env=env) as emulator:
                with connect(emulator.signed_in_url) as ws:
                    yield ws
                assert "IAM refused" not in emulator.log()
        else:
            deployment: Deployment = request.getfixturevalue("deployment")
            monkeypatch.setenv("LANGGRAPH_CONFIG", str(CONFIG))
            monkeypatch.setenv("GRAPH", graph)
            reset_lambda_containers()
            socket = LambdaSocket(deployment)
            yield socket
            socket.wait_idle()
            reset_lambda_containers()

    return served


def send(ws: Socket, frame: dict[str, Any]) -> None:
    ws.send(json.dumps({"thread_id": THREAD, **frame}))


def receive(ws: Socket, until: Callable[[dict[str, Any]], bool], timeout: float = 30) -> list[dict[str, Any]]:
    frames: list[dict[str, Any]] = []
    while not frames or not until(frames[-1]):
        frames.append(json.loads(ws.recv(timeout=timeout)))
    return frames


def turn(ws: Socket, frame: dict[str, Any], interrupts: int = 1) -> list[dict[str, Any]]:
    """Send a frame and collect its turn: up to its end (or all of its `interrupts` interrupt frames)."""
    send(ws, frame)
    frames = receive(ws, lambda f: f["type"] in TERMINAL)
    while frames[-1]["type"] == "interrupt" and sum(f["type"] == "interrupt" for f in frames) < interrupts:
        frames += receive(ws, lambda f: f["type"] in TERMINAL)
    return frames


def text(frames: list[dict[str, Any]]) -> str:
    return "".join(f["content"] for f in frames if f["type"] == "token")


def test_a_free_text_question_gets_exactly_the_answer_sent(serve: Serve) -> None:
    with serve("question") as ws:
        asked = turn(ws, {"type": "message", "content": "hi"})[-1]
        assert {k: asked[k] for k in ("type", "kind", "question", "value")} == {
            "type": "interrupt",
            "kind": "input",
            "question": "What is your name?",
            "value": "What is your name?",
        }
        answered = turn(
            ws, {"type": "interrupt_response", "interrupt_id": asked["interrupt_id"], "value": "Ada"}
        )
        assert text(answered) == "Nice to meet you, Ada!" and answered[-1]["type"] == "message_complete"
        # A plain message answers the one pending question; any JSON reaches the node as sent.
        turn(ws, {"type": "message", "content": "again"})
        assert (
            text(turn(ws, {"type": "message", "content": "Grace Hopper"}))
            == "Nice to meet you, Grace Hopper!"
        )
        turn(ws, {"type": "message", "content": "once more"})
        answer = {"first": "Alan", "last": "Turing"}
        assert text(turn(ws, {"type": "interrupt_response", "value": answer})) == (
            "Nice to meet you, {'first': 'Alan', 'last': 'Turing'}!"
        )
        # Closing the question is not an answer: the node does not run, the thread is free again.
        turn(ws, {"type": "message", "content": "and again"})
        dismissed = turn(ws, {"type": "interrupt_response", "cancelled": True})
        assert [f["type"] for f in dismissed] == ["message_complete"] and dismissed[-1][
            "status"
        ] == "dismissed"
        send(ws, {"type": "get_state"})
        state = receive(ws, lambda f: f["type"] == "state")[-1]
        assert (state["state"], state["interrupts"]) == ("idle", [])
        greetings = [m["content"] for m in state["messages"] if m["role"] == "assistant"]
        assert greetings == [
            "Nice to meet you, Ada!",
            "Nice to meet you, Grace Hopper!",
            "Nice to meet you, {'first': 'Alan', 'last': 'Turing'}!",
        ]


def test_several_pending_interrupts_are_answered_in_one_frame(serve: Serve) -> None:
    with serve("trip") as ws:
        frames = turn(ws, {"type": "message", "content": "plan my trip"}, interrupts=2)
        asked = {f.get("action") or f["kind"]: f for f in frames if f["type"] == "interrupt"}
        assert asked["book_flight"]["kind"] == "approval" and asked["book_flight"]["flight"] == "LX 318"
        assert asked["input"]["question"] == "Window or aisle?"
        assert asked["input"]["value"] == {"question": "Window or aisle?", "options": ["window", "aisle"]}
        refused = turn(ws, {"type": "interrupt_response", "value": "aisle"})
        assert refused[-1]["code"] == "invalid_field"  # which of the two? the frame must say
        sent_again = receive(ws, lambda f: f["type"] == "interrupt") + receive(
            ws, lambda f: f["type"] == "interrupt"
        )
        assert {f["interrupt_id"] for f in sent_again} == {f["interrupt_id"] for f in asked.values()}
        answers = [
            {"interrupt_id": asked["book_flight"]["interrupt_id"], "approved": True},
            {"interrupt_id": asked["input"]["interrupt_id"], "value": "window"},
        ]
        booked = turn(ws, {"type": "interrupt_response", "answers": answers})
        assert (
            text(booked) == "Booked: flight LX 318, seat: window."
            and booked[-1]["type"] == "message_complete"
        )


def test_a_subgraphs_model_streams_live_and_its_tool_call_comes_before_the_approval(serve: Serve) -> None:
    with serve("refunds") as ws:
        send(ws, {"type": "message", "content": "Please refund my order", "stream": ["tool_results"]})
        frames = receive(ws, lambda f: f["type"] in TERMINAL)
        tokens = [f for f in frames if f["type"] == "token"]
        # Live: a frame per streamed word, not the subgraph's whole message once it finished.
        assert len(tokens) >= 5 and frames[0]["type"] == "token"
        assert {(f["agent"], tuple(f["namespace"])) for f in tokens} == {("agent", ("refunds",))}
        assert [f["type"] for f in frames[-2:]] == ["tool_call", "interrupt"]
        call, approval = frames[-2:]
        assert call["args"] == {"order_id": "1044", "amount": 45.5} and approval["namespace"] == ["refunds"]
        assert (approval["action"], approval["amount"], approval["editable"]) == ("refund", 45.5, ["amount"])
        send(
            ws,
            {
                "type": "interrupt_response",
                "approved": True,
                "edits": {"amount": 20},
                "stream": ["tool_results"],
            },
        )
        done = receive(ws, lambda f: f["type"] in TERMINAL)
        result = next(f for f in done if f["type"] == "tool_result")
        assert (result["tool"], result["call_id"], result["content"]) == (
            "refund",
            call["call_id"],
            "Refunded 20.00 for order 1044.",
        )
        assert text(done) == "Done: Refunded 20.00 for order 1044."


def test_custom_stream_events_arrive_as_frames_of_their_own(serve: Serve) -> None:
    with serve("progress") as ws:
        frames = turn(ws, {"type": "message", "content": "my report"})
        progress = [f["value"] for f in frames if f["type"] == "custom"]
        assert progress == [
            {"step": "Reading your orders", "progress": 0.33},
            {"step": "Checking the prices", "progress": 0.67},
            {"step": "Writing the summary", "progress": 1.0},
        ]
        assert [f["type"] for f in frames[-2:]] == ["token", "message_complete"]
        assert not any(f["type"] in ("update", "values", "tool_result") for f in frames)  # not asked for
        asked = turn(ws, {"type": "message", "content": "again", "stream": ["updates", "values"]})
        updates = [f for f in asked if f["type"] == "update"]
        assert [u["node"] for u in updates] == ["report"]
        assert updates[0]["value"]["messages"][0]["content"].startswith("Your report is ready")
        assert [m["role"] for m in [f for f in asked if f["type"] == "values"][-1]["value"]["messages"]] == [
            "user",
            "assistant",
            "user",
            "assistant",
        ]


def stop_after_tokens(ws: Socket, frame: dict[str, Any], stop: dict[str, Any], tokens: int = 3) -> float:
    """Start a long turn, send `stop` once `tokens` tokens arrived; the seconds until the turn's end."""
    send(ws, frame)
    receive(ws, lambda f: f["type"] == "token")
    seen = 1
    while seen < tokens:
        seen += len([f for f in receive(ws, lambda f: f["type"] == "token") if f["type"] == "token"])
    send(ws, stop)
    started = time.monotonic()
    receive(ws, lambda f: f["type"] in TERMINAL)
    return time.monotonic() - started


def state_of(ws: Socket) -> dict[str, Any]:
    send(ws, {"type": "get_state", "history": 5})
    frames = receive(ws, lambda f: f["type"] == "state")
    return frames[-1]


def test_a_running_turn_is_cancelled_keeping_or_rolling_back_its_progress(serve: Serve) -> None:
    with serve("essay") as ws:
        write = {"type": "message", "content": "write me an essay"}
        send(ws, write)
        receive(ws, lambda f: f["type"] == "token")
        send(ws, {"type": "cancel"})
        started = time.monotonic()
        ending = receive(ws, lambda f: f["type"] in TERMINAL)
        assert ending[-1]["type"] == "message_complete" and ending[-1]["status"] == "cancelled"
        assert time.monotonic() - started < 2.5
        kept = state_of(ws)
        assert kept["state"] == "idle"
        assert [m["content"] for m in kept["messages"]] == ["write me an essay", "Plan: one long paragraph."]
        assert kept["history"] and kept["history"][0]["checkpoint_id"] == kept["checkpoint_id"]

        send(ws, {**write, "content": "another essay"})
        receive(ws, lambda f: f["type"] == "token")
        send(ws, {"type": "cancel", "action": "rollback"})
        ending = receive(ws, lambda f: f["type"] in TERMINAL)
        assert ending[-1]["status"] == "rolled_back"
        assert [m["content"] for m in state_of(ws)["messages"]] == [m["content"] for m in kept["messages"]]

        nothing = turn(ws, {"type": "cancel"})
        assert (nothing[-1]["type"], nothing[-1]["code"]) == ("error", "no_running_turn")


def test_double_texting_rejects_or_interrupts_the_running_turn(serve: Serve) -> None:
    with serve("essay") as ws:
        send(ws, {"type": "message", "content": "first essay"})
        receive(ws, lambda f: f["type"] == "token")
        refused = turn(ws, {"type": "message", "content": "not now", "multitask_strategy": "reject"})
        assert refused[-1]["code"] == "turn_running"
        send(ws, {"type": "message", "content": "second essay", "multitask_strategy": "interrupt"})
        first_end = receive(ws, lambda f: f["type"] in TERMINAL)
        assert first_end[-1]["status"] == "cancelled"
        receive(ws, lambda f: f["type"] == "token")  # the second message's turn runs
        send(ws, {"type": "cancel"})
        assert receive(ws, lambda f: f["type"] in TERMINAL)[-1]["status"] == "cancelled"
        users = [m["content"] for m in state_of(ws)["messages"] if m["role"] == "user"]
        assert users == ["first essay", "second essay"]
