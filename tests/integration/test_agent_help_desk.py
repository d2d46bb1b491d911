"""What every shop gets asked, and approvals that survive a bad edit, over a socket to `make run`'s server.

Each utterance is one a new user typed; the expected outcome is what a good support agent does with it.
"""

from __future__ import annotations

import json

import pytest
from websockets.sync.client import ClientConnection

# One server per module (module-scoped fixtures), so orders changed elsewhere do not leak in.
from tests.integration.test_agent_conversations import (
    Chat,
    days_from_today,
    server_url,
    text,
    tool_calls,
    ws,
)

pytestmark = pytest.mark.integration
__all__ = ["server_url", "ws"]
VALIDATION_WORDS = ("string_too_short", "String should", "validation error", "new_address:", "pydantic")


def test_a_bad_edit_is_explained_and_the_approval_asked_again(ws: ClientConnection) -> None:
    chat = Chat(ws)
    first = chat.say("Change the address of order 1046 to 12 Oak Street, Springfield")[-1]
    [again] = chat.answer(True, interrupt_id=first["interrupt_id"], edits={"new_address": "x"})
    assert again["type"] == "interrupt" and again["interrupt_id"] != first["interrupt_id"]
    assert again["problem"] == (
        "That address is too short: please give the full address, with street, town and postcode."
    )
    assert (
        again["description"] == first["description"] and again["new_address"] == "12 Oak Street, Springfield"
    )

    [third] = chat.answer(True, interrupt_id=again["interrupt_id"], edits={"order_id": "1043"})
    assert third["problem"] == "The order number can't be changed here. You can change the new address."
    for word in VALIDATION_WORDS:
        assert word not in json.dumps([again, third])

    done = chat.answer(
        True, interrupt_id=third["interrupt_id"], edits={"new_address": "14 Oak Street, Springfield"}
    )
    assert text(done) == "Order 1046 will now ship to 14 Oak Street, Springfield."


def test_talk_to_a_human_opens_a_ticket_with_the_conversation(ws: ClientConnection) -> None:
    chat = Chat(ws)
    chat.say("where is order 1042?")
    frames = chat.say("I want to talk to a human")
    [(tool, args)] = tool_calls(frames)
    assert tool == "hand_off_to_human" and args["order_id"] == "1042"
    assert '"where is order 1042?"' in args["summary"] and '"I want to talk to a human"' in args["summary"]
    reply = text(frames, "order_info")
    assert reply.startswith("I've passed our conversation to the support team (ticket T-")
    assert "A person will reply by email within one business day." in reply
    assert frames[-1]["type"] == "message_complete"


@pytest.mark.parametrize(
    ("question", "expected", "absent"),
    [
        (
            "what's your return/refund/shipping policy?",
            ("within 30 days", "5 to 7 business days", "free on orders over 50.00"),
            (),
        ),
        (
            "What is your return policy?",
            ("Our returns policy: You can return any item within 30 days",),
            ("shipping",),
        ),
        ("how long does shipping take? what's the shipping policy", ("3 to 5 business days",), ("30 days",)),
    ],
)
def test_policy_questions_are_answered_from_the_shops_document(
    ws: ClientConnection, question: str, expected: tuple[str, ...], absent: tuple[str, ...]
) -> None:
    frames = Chat(ws).say(question)
    assert {tool for tool, _ in tool_calls(frames)} == {"get_policy"}
    reply = text(frames, "order_info")
    for phrase in expected:
        assert phrase in reply
    for phrase in absent:
        assert phrase not in reply.split(":", 1)[0]


def test_a_delivered_parcel_that_never_arrived_opens_a_claim_after_approval(ws: ClientConnection) -> None:
    chat = Chat(ws)
    frames = chat.say("it says delivered but I never received it")
    assert [tool for tool, _ in tool_calls(frames)] == ["list_orders", "report_missing_parcel"]
    claim = frames[-1]
    assert (claim["type"], claim["action"], claim["order_id"]) == (
        "interrupt",
        "report_missing_parcel",
        "1044",
    )
    assert (
        claim["description"]
        == "Open a missing-parcel claim for order 1044 (Coffee grinder, marked delivered "
        f"{days_from_today(-16)})?"
    )
    assert claim["details"] == "it says delivered but I never received it"
    reply = text(chat.answer(True, interrupt_id=claim["interrupt_id"]))
    assert reply.startswith("I've opened a missing-parcel claim for order 1044. We'll look into it with DHL")
    assert "already open" in text(chat.say("my parcel is missing, order 1044"))
    assert "still on its way with UPS" in text(chat.say("I never received order 1042"))


def test_how_much_did_i_pay(ws: ClientConnection) -> None:
    frames = Chat(ws).say("how much did I pay for 1044?")
    assert tool_calls(frames) == [("get_order_status", {"order_id": "1044"})]
    assert text(frames) == "You paid 45.50 for order 1044 (1 \u00d7 Coffee grinder at 45.50)."
    assert "weren't charged" in text(Chat(ws).say("how much was order 1045?"))


@pytest.mark.parametrize(
    ("order_id", "instead"),
    [
        ("1043", "hasn't shipped yet, so there is nothing to refund: I can cancel it instead"),
        ("1042", "Once it arrives you can return it for a refund within 30 days"),
        ("1045", "was cancelled, so there is nothing to refund"),
    ],
)
def test_a_refund_for_an_undelivered_order_says_what_to_do_instead(
    ws: ClientConnection, order_id: str, instead: str
) -> None:
    frames = Chat(ws).say(f"I want a refund for order {order_id}")
    assert instead in text(frames) and frames[-1]["type"] == "message_complete"


def test_a_refund_reason_is_the_reason_not_the_sentence(ws: ClientConnection) -> None:
    chat = Chat(ws)
    interrupt = chat.say("I want a refund for order 1044, it arrived broken")[-1]
    assert interrupt["reason"] == "It arrived broken"
    chat.answer(False)
    assert Chat(ws).say("Refund order 1044 please")[-1]["reason"] == ""
