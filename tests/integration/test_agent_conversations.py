"""The agent's conversations through a real socket, on both paths a developer runs.

`run`: `python -m local_server` (what `make run` starts); `run-aws`: `python -m local_server.emulator` (what
`make run-aws` starts: the Lambda handlers behind the emulated API Gateway, turns through SQS, state in
moto's server), signed in with the token it prints.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from datetime import date, timedelta
from typing import Any

import pytest
from websockets.sync.client import ClientConnection, connect

from support_agent.models.replies import nice_date
from tests.support.live_server import receive_turn
from tests.support.subprocess_server import aws_emulator_process, local_server_process

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module", params=["run", "run-aws"])
def server_url(request: pytest.FixtureRequest) -> Iterator[str]:
    if request.param == "run":
        with local_server_process() as url:
            yield url
    else:
        with aws_emulator_process() as emulator:
            yield emulator.signed_in_url


@pytest.fixture
def ws(server_url: str) -> Iterator[ClientConnection]:
    with connect(server_url) as ws:
        yield ws


class Chat:
    """One conversation (a fresh thread) on a socket."""

    def __init__(self, ws: ClientConnection) -> None:
        self.ws = ws
        self.thread_id = f"it-{uuid.uuid4().hex[:12]}"

    def say(self, content: str) -> list[dict[str, Any]]:
        self.ws.send(json.dumps({"type": "message", "thread_id": self.thread_id, "content": content}))
        return receive_turn(self.ws, timeout=30)

    def answer(self, approved: bool, **extra: Any) -> list[dict[str, Any]]:
        frame = {"type": "interrupt_response", "thread_id": self.thread_id, "approved": approved, **extra}
        self.ws.send(json.dumps(frame))
        return receive_turn(self.ws, timeout=30)


def days_from_today(days: int) -> str:
    """The ISO date `days` from today, as the demo data writes `today+N`."""
    return (date.today() + timedelta(days=days)).isoformat()


def text(frames: list[dict[str, Any]], agent: str | None = None) -> str:
    tokens = [f for f in frames if f["type"] == "token"]
    if agent is not None:
        assert {t["agent"] for t in tokens} == {agent}
    return "".join(t["content"] for t in tokens)


def tool_calls(frames: list[dict[str, Any]]) -> list[tuple[str, dict[str, Any]]]:
    return [(f["tool"], f["args"]) for f in frames if f["type"] == "tool_call"]


def test_status_then_a_follow_up_from_the_history(ws: ClientConnection) -> None:
    chat = Chat(ws)
    frames = chat.say("What is the status of order 1042?")
    assert tool_calls(frames) == [("get_order_status", {"order_id": "1042"})]
    assert "1042" in text(frames, "order_info") and "shipped" in text(frames)
    assert frames[-1]["type"] == "message_complete"

    frames = chat.say("When will it arrive?")
    assert tool_calls(frames) == [("track_shipment", {"order_id": "1042"})]
    # The demo data's dates are relative to today: order 1042 is due in two days.
    assert f"should arrive by {nice_date(days_from_today(2))}" in text(frames, "order_info")


def test_cancel_approved_then_status_says_cancelled(ws: ClientConnection) -> None:
    chat = Chat(ws)
    frames = chat.say("Please cancel order 1043")
    interrupt = frames[-1]
    assert interrupt["type"] == "interrupt"
    assert (interrupt["action"], interrupt["order_id"]) == ("cancel_order", "1043")
    assert interrupt["interrupt_id"] and "Cancel order 1043" in interrupt["description"]
    assert tool_calls(frames) == [("cancel_order", {"order_id": "1043"})]

    frames = chat.answer(True, interrupt_id=interrupt["interrupt_id"])
    assert "Order 1043 has been cancelled." in text(frames, "order_actions")
    assert frames[-1]["type"] == "message_complete"

    assert "was cancelled" in text(chat.say("What's the status of order 1043?"), "order_info")
    refused = chat.say("Cancel order 1043")
    assert text(refused) == "Order 1043 is already cancelled." and refused[-1]["type"] == "message_complete"


def test_refund_rejected_then_approved(ws: ClientConnection) -> None:
    chat = Chat(ws)
    interrupt = chat.say("I want a refund for order 1044, it arrived broken")[-1]
    assert interrupt["action"] == "request_refund"
    assert interrupt["description"] == "Request a refund of 45.50 for order 1044 (Coffee grinder)?"
    frames = chat.answer(False)
    assert text(frames, "order_actions") == "Understood. I won't request a refund for order 1044."
    assert "delivered" in text(chat.say("status of 1044?"))

    assert chat.say("Refund order 1044 please")[-1]["type"] == "interrupt"
    assert "A refund of 45.50 for order 1044 has been requested." in text(chat.answer(True))
    assert "already been requested" in text(chat.say("Refund order 1044 again"))


def test_address_change_asked_for_then_edited_on_approval(ws: ClientConnection) -> None:
    chat = Chat(ws)
    frames = chat.say("I need to change the shipping address of order 1046")
    assert text(frames) == "What should the new shipping address for order 1046 be?"
    interrupt = chat.say("12 Oak Street, Springfield")[-1]
    assert (interrupt["action"], interrupt["new_address"]) == (
        "update_shipping_address",
        "12 Oak Street, Springfield",
    )
    assert interrupt["editable"] == ["new_address"]

    frames = chat.answer(True, edits={"new_address": "14 Oak Street, Springfield"})
    assert text(frames, "order_actions") == "Order 1046 will now ship to 14 Oak Street, Springfield."
    assert "14 Oak Street" in text(chat.say("What's the status of order 1046?"))


def test_reject_keeps_the_order_active(ws: ClientConnection) -> None:
    chat = Chat(ws)
    assert chat.say("cancel order 1046")[-1]["type"] == "interrupt"
    assert text(chat.answer(False), "order_actions") == "Understood. Order 1046 will remain active."
    assert "pending" in text(chat.say("status of order 1046"))


@pytest.mark.parametrize(
    ("request_text", "expected"),
    [
        ("Cancel order 1045", "Order 1045 is already cancelled."),
        ("Cancel order 1042", "Order 1042 has already shipped, so it can no longer be cancelled."),
        ("Refund order 1042", "Order 1042 is on its way, so it can't be refunded yet."),
        ("Change the address of order 1042 to 1 Main Street", "can only be changed before it ships"),
        ("Cancel order 2001", "I couldn't find order 2001 on your account."),
        ("What is the status of order 2002?", "I couldn't find order 2002 on your account."),
        ("Where is order 9999?", "I couldn't find order 9999 on your account."),
    ],
)
def test_refusals_are_explained_without_asking_for_approval(
    ws: ClientConnection, request_text: str, expected: str
) -> None:
    frames = Chat(ws).say(request_text)
    assert frames[-1]["type"] == "message_complete"
    assert not [f for f in frames if f["type"] == "interrupt"]
    assert expected in text(frames)


def test_small_talk_and_the_unknown(ws: ClientConnection) -> None:
    chat = Chat(ws)
    assert "How can I help?" in text(chat.say("Hello!"), "router")
    confused = text(chat.say("What's the weather like on Mars?"), "router")
    assert "didn't understand" in confused and "track a shipment" in confused
    listing = text(chat.say("Show me all my orders"), "order_info")
    assert "You have 5 orders" in listing and "2001" not in listing
