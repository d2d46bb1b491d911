"""Issue 18 §1: what a new user typed and got the fallback (or the wrong thing) for, over a real socket.

Each conversation runs through `python -m local_server` and `python -m local_server.emulator` (module-scoped).
"""

from __future__ import annotations

import pytest
from websockets.sync.client import ClientConnection

# One server per module (module-scoped fixtures), so orders changed elsewhere do not leak in.
from tests.integration.test_agent_conversations import Chat, server_url, text, tool_calls, ws

pytestmark = pytest.mark.integration
__all__ = ["server_url", "ws"]
FALLBACK = "didn't understand"


@pytest.mark.parametrize(
    "question", ["I ordered some trail running shoes, where are they?", "where are my trail running shoes?"]
)
def test_shoes_are_found_by_their_name(ws: ClientConnection, question: str) -> None:
    frames = Chat(ws).say(question)
    assert tool_calls(frames) == [("list_orders", {}), ("track_shipment", {"order_id": "1042"})]
    assert text(frames, "order_info").startswith("Order 1042 is on its way with UPS")


@pytest.mark.parametrize(
    ("question", "topic", "answer"),
    [
        ("what is your returns window?", "returns", "within 30 days of delivery"),
        ("how long does shipping take?", "shipping", "3 to 5 business days"),
        ("Do you ship to Canada?", "shipping", "the United States and Canada"),
        ("how long do refunds take?", "refunds", "within 5 to 7 business days"),
    ],
)
def test_policy_questions_without_the_word_policy(
    ws: ClientConnection, question: str, topic: str, answer: str
) -> None:
    frames = Chat(ws).say(question)
    assert tool_calls(frames) == [("get_policy", {"topic": topic})]
    assert answer in text(frames, "order_info") and "Which order" not in text(frames)


def test_how_much_have_i_spent_in_total(ws: ClientConnection) -> None:
    frames = Chat(ws).say("how much have I spent in total?")
    assert tool_calls(frames) == [("list_orders", {})]
    reply = text(frames, "order_info")
    assert reply.startswith("You have spent 320.50 in total on 4 orders") and "Which order" not in reply
    assert "Cancelled orders (1045) were never charged." in reply


def test_send_them_to_a_new_address_instead(ws: ClientConnection) -> None:
    chat = Chat(ws)
    chat.say("where is my yoga mat order?")
    interrupt = chat.say("can you send them to 10 Downing Street, London SW1A 2AA instead?")[-1]
    assert interrupt["type"] == "interrupt" and interrupt["action"] == "update_shipping_address"
    assert (interrupt["order_id"], interrupt["new_address"]) == ("1046", "10 Downing Street, London SW1A 2AA")
    chat.answer(False)


def test_please_send_order_to_a_new_address_instead(ws: ClientConnection) -> None:
    chat = Chat(ws)
    interrupt = chat.say("please send order 1043 to 10 Downing Street, London SW1A 2AA instead")[-1]
    assert (interrupt["type"], interrupt["action"], interrupt["order_id"]) == (
        "interrupt",
        "update_shipping_address",
        "1043",
    )
    assert interrupt["new_address"] == "10 Downing Street, London SW1A 2AA"
    chat.answer(False)
    shipped = chat.say("please send order 1042 to 10 Downing Street, London SW1A 2AA instead")
    assert "can only be changed before it ships" in text(shipped)


def test_a_faulty_item_gets_what_the_customer_can_do(ws: ClientConnection) -> None:
    frames = Chat(ws).say("my coffee grinder stopped working after a week")
    assert [tool for tool, _ in tool_calls(frames)] == ["list_orders"]
    reply = text(frames, "order_info")
    assert "Coffee grinder (order 1044)" in reply and "request a refund" in reply and FALLBACK not in reply


def test_reorder_says_what_to_do_instead(ws: ClientConnection) -> None:
    reply = text(Chat(ws).say("reorder the desk lamps"), "order_info")
    assert reply.startswith("I can't place new orders here, but you can order the Desk lamp again")
    assert "order 1045" in reply


def test_is_it_cancelled_now_is_a_question_not_a_cancellation(ws: ClientConnection) -> None:
    chat = Chat(ws)
    chat.say("cancel order 1046")
    chat.answer(False)
    frames = chat.say("is it cancelled now?")
    assert tool_calls(frames) == [("get_order_status", {"order_id": "1046"})]
    assert not [f for f in frames if f["type"] == "interrupt"]
    assert "is pending" in text(frames, "order_info")


def test_the_list_used_to_find_the_order_is_not_glued_to_the_answer(ws: ClientConnection) -> None:
    frames = Chat(ws).say("where is my yoga mat order?")
    assert tool_calls(frames) == [("list_orders", {}), ("track_shipment", {"order_id": "1046"})]
    assert text(frames) == (
        "Order 1046 hasn't shipped yet (it is pending), so there is no tracking information yet."
    )
