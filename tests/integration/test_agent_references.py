"""What a new user hit: order numbers read from dates, references to orders, context across a question.

Each conversation runs through a real socket to `python -m local_server` (what `make run` starts).
"""

from __future__ import annotations

import json
from datetime import date
from typing import Any

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
DATES_AND_YEARS = (str(date.today().year), str(date.today().year - 1))


def acted_on(frames: list[dict[str, Any]]) -> list[Any]:
    return [args.get("order_id") for _, args in tool_calls(frames) if "order_id" in args]


def test_a_date_in_the_order_list_is_never_read_as_an_order_number(ws: ClientConnection) -> None:
    chat = Chat(ws)
    listing = chat.say("what orders do I have?")
    assert f"(placed {days_from_today(-2)})" in text(listing)
    where = chat.say("where is my package")
    assert not any(oid in DATES_AND_YEARS for oid in acted_on(where))
    assert where[-1]["type"] == "message_complete"
    assert "Which order do you mean?" in text(where) and "1042" in text(where)
    answer = chat.say("1042")
    assert acted_on(answer) == ["1042"] and "UPS" in text(answer)


def test_the_yoga_mat_order_is_found_by_its_item(ws: ClientConnection) -> None:
    chat = Chat(ws)
    chat.say("what orders do I have?")
    frames = chat.say("cancel the yoga mat order")
    assert [name for name, _ in tool_calls(frames)] == ["list_orders", "cancel_order"]
    interrupt = frames[-1]
    assert interrupt["type"] == "interrupt" and interrupt["order_id"] == "1046"
    assert "Yoga mat" in str(interrupt["description"])
    assert "remain active" in text(chat.answer(False))


@pytest.mark.parametrize(
    ("question", "order_id"),
    [
        ("status of the most recent one?", "1046"),
        ("what's happening with my last order?", "1046"),
        ("how about the coffee grinder", "1044"),
        ("when will the headphones arrive?", "1043"),
    ],
)
def test_descriptions_resolve_against_the_customers_orders(
    ws: ClientConnection, question: str, order_id: str
) -> None:
    chat = Chat(ws)
    chat.say("what orders do I have?")
    frames = chat.say(question)
    assert acted_on(frames) == [order_id], frames
    assert f"Order {order_id}" in text(frames)


def test_it_means_the_order_the_conversation_is_about(ws: ClientConnection) -> None:
    chat = Chat(ws)
    chat.say("What is the status of order 1043?")
    frames = chat.say("where is it?")
    assert acted_on(frames) == ["1043"]


def test_an_address_change_survives_the_question_which_order(ws: ClientConnection) -> None:
    chat = Chat(ws)
    asked = chat.say("change my address to 10 Downing St, London")
    assert "Which order" in text(asked) and "address" in text(asked)
    frames = chat.say("1046")
    interrupt = frames[-1]
    assert interrupt["type"] == "interrupt", frames
    assert interrupt["action"] == "update_shipping_address" and interrupt["order_id"] == "1046"
    assert interrupt["new_address"] == "10 Downing St, London"
    assert "stays as it was" in text(chat.answer(False))


@pytest.mark.parametrize(
    ("request_text", "action", "order_id"),
    [("I want to cancel an order", "cancel_order", "1043"), ("I'd like a refund", "request_refund", "1044")],
)
def test_cancel_and_refund_continue_after_the_question(
    ws: ClientConnection, request_text: str, action: str, order_id: str
) -> None:
    chat = Chat(ws)
    asked = chat.say(request_text)
    assert asked[-1]["type"] == "message_complete" and "Which order" in text(asked)
    frames = chat.say(order_id)
    assert frames[-1]["type"] == "interrupt" and frames[-1]["action"] == action, frames
    assert frames[-1]["order_id"] == order_id
    chat.answer(False)


def test_yes_or_no_typed_while_one_approval_is_pending_answers_it(ws: ClientConnection) -> None:
    chat = Chat(ws)
    assert chat.say("cancel order 1046")[-1]["type"] == "interrupt"
    assert "remain active" in text(chat.say("no"))
    assert chat.say("cancel order 1046")[-1]["type"] == "interrupt"
    [refused] = chat.say("no, wait, what is the status of 1042?")  # more than an answer: refused
    assert refused["code"] == "approval_pending"
    assert json.loads(chat.ws.recv(timeout=10))["type"] == "interrupt"  # and the approval shown again
    assert "remain active" in text(chat.say("No thanks."))


def test_yes_typed_while_two_approvals_are_pending_asks_which(ws: ClientConnection) -> None:
    chat = Chat(ws)
    first = chat.say("cancel orders 1043 and 1046")[-1]
    second = json.loads(chat.ws.recv(timeout=10))
    assert first["type"] == second["type"] == "interrupt"
    [refused] = chat.say("yes")
    assert refused["code"] == "approval_pending" and "2 approvals are pending" in refused["message"]
    resent = [json.loads(chat.ws.recv(timeout=10)) for _ in range(2)]
    assert {f["interrupt_id"] for f in resent} == {first["interrupt_id"], second["interrupt_id"]}
    for interrupt in (first, second):  # nothing was approved: both are still pending
        frames = chat.answer(False, interrupt_id=interrupt["interrupt_id"])
        assert frames[-1]["type"] in ("message_complete", "interrupt"), frames
