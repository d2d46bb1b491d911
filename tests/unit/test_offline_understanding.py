"""What the offline model understands of customers' messages."""

from __future__ import annotations

import pytest
from langchain_core.messages import AIMessage, HumanMessage, ToolMessage

from support_agent.models.understanding import (
    Intent,
    order_under_discussion,
    previous_agent_question,
    read_request,
)


@pytest.mark.parametrize(
    ("text", "intent", "order_ids"),
    [
        ("What is the status of order 1042?", Intent.STATUS, ("1042",)),
        ("Where is my package #1042", Intent.TRACK, ("1042",)),
        ("When will it arrive?", Intent.TRACK, ()),
        ("Can you track it?", Intent.TRACK, ()),
        ("Please cancel order 1043", Intent.CANCEL, ("1043",)),
        ("Cancel orders 1043 and 1046", Intent.CANCEL, ("1043", "1046")),
        ("I want my money back for 1044", Intent.REFUND, ("1044",)),
        ("Can I get a refund on order 1044?", Intent.REFUND, ("1044",)),
        ("List my orders", Intent.LIST, ()),
        ("show me all my orders", Intent.LIST, ()),
        ("Hello there", Intent.GREETING, ()),
        ("thanks a lot", Intent.THANKS, ()),
        ("what can you do?", Intent.HELP, ()),
        ("What's the weather like?", None, ()),
    ],
)
def test_intents_and_order_numbers(text: str, intent: Intent | None, order_ids: tuple[str, ...]) -> None:
    request = read_request(text)
    assert request.main_intent is intent
    assert request.order_ids == order_ids


def test_a_new_address_is_not_mistaken_for_an_order_number() -> None:
    request = read_request("Change the shipping address of order 1046 to 742 Evergreen Terrace, Springfield.")
    assert request.main_intent is Intent.CHANGE_ADDRESS
    assert request.order_ids == ("1046",)
    assert request.new_address == "742 Evergreen Terrace, Springfield"


def test_the_order_under_discussion_comes_from_the_history() -> None:
    history = [
        HumanMessage("status of 1042?"),
        AIMessage("", tool_calls=[{"name": "get_order_status", "args": {"order_id": "1042"}, "id": "a"}]),
        ToolMessage("{}", tool_call_id="a"),
        AIMessage("Order 1042 has shipped."),
        HumanMessage("and 1044?"),
        AIMessage("Order 1044 was delivered."),
        HumanMessage("When will it arrive?"),
    ]
    assert order_under_discussion(history) == "1044"
    assert order_under_discussion([HumanMessage("hi")]) is None


def test_the_agents_last_question_is_found() -> None:
    asked = AIMessage("What should the new shipping address for order 1046 be?", name="order_actions")
    assert (
        previous_agent_question([HumanMessage("change address of 1046"), asked, HumanMessage("1 Oak St")])
        is asked
    )
    told = AIMessage("Order 1046 is pending.")
    assert previous_agent_question([HumanMessage("1046?"), told, HumanMessage("ok")]) is None


@pytest.mark.parametrize(
    ("text", "order_ids"),
    [
        ("- Order 1046 (placed 2026-11-22): pending", ("1046",)),
        ("It was delivered on 22/11/2026 at 10:45", ()),
        ("I paid $1044.00 for it", ()),
        ("cancel 1046, 1043 please", ("1046", "1043")),
        ("cancel 1046,1043 please", ("1046", "1043")),
        ("it cost 1,044 or 12,345,678 in all", ()),
        ("order #1042", ("1042",)),
    ],
)
def test_dates_times_and_prices_are_not_order_numbers(text: str, order_ids: tuple[str, ...]) -> None:
    assert read_request(text).order_ids == order_ids


def test_the_agents_own_replies_never_name_the_order_under_discussion() -> None:
    listing = AIMessage(
        content="You have 2 orders:\n- Order 1046 (placed 2026-11-22)\n- Order 1042", name="order_info"
    )
    assert order_under_discussion([HumanMessage(content="what orders do I have?"), listing]) is None
    asked = [HumanMessage(content="status of 1043"), listing, HumanMessage(content="where is it?")]
    assert order_under_discussion(asked) == "1043"


def test_a_question_followed_by_a_request_for_the_number_is_still_a_question() -> None:
    question = AIMessage(content="Which order would you like to cancel? Please give me the order number.")
    messages = [HumanMessage(content="cancel an order"), question, HumanMessage(content="1043")]
    assert previous_agent_question(messages) is question
