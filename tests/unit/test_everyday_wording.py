"""Issue 18 §1: everyday wording the offline model missed, the paraphrase table, and quick replies.

Understanding is checked on `read_request`; answers on the real compiled graph (with `stream_mode="custom"`
for the quick replies the model writes from inside the agent node).
"""

from __future__ import annotations

import uuid
from datetime import date, timedelta
from typing import Any

import pytest
from langchain_core.messages import HumanMessage
from langgraph.checkpoint.memory import InMemorySaver

from support_agent.graph import build_support_graph
from support_agent.models import choices, paraphrases
from support_agent.models.offline import OfflineSupportModel
from support_agent.models.replies import describe_order, describe_shipment
from support_agent.models.understanding import WRITE_INTENTS, Intent, read_request, resolve_order
from support_agent.orders.model import Order
from support_agent.orders.store import InMemoryOrderStore, load_demo_orders


@pytest.mark.parametrize(
    ("text", "intent"),
    [
        ("I ordered some trail running shoes, where are they?", Intent.TRACK),
        ("where are my trail running shoes?", Intent.TRACK),
        ("what is your returns window?", Intent.POLICY),
        ("how long does shipping take?", Intent.POLICY),
        ("Do you ship to Canada?", Intent.POLICY),
        ("how long do refunds take?", Intent.POLICY),
        ("how much have I spent in total?", Intent.SPENDING),
        ("can you send them to 10 Downing Street, London SW1A 2AA instead?", Intent.CHANGE_ADDRESS),
        ("please send order 1042 to 10 Downing Street, London SW1A 2AA instead", Intent.CHANGE_ADDRESS),
        ("my coffee grinder stopped working after a week", Intent.FAULTY),
        ("reorder the desk lamps", Intent.REORDER),
        ("is it cancelled now?", Intent.STATUS),
        ("where is my yoga mat order?", Intent.TRACK),
    ],
)
def test_everyday_wording_is_understood(text: str, intent: Intent) -> None:
    assert read_request(text).main_intent is intent


@pytest.mark.parametrize(
    ("text", "order_ids", "address"),
    [
        (
            "can you send them to 10 Downing Street, London SW1A 2AA instead?",
            (),
            "10 Downing Street, London SW1A 2AA",
        ),
        (
            "please send order 1042 to 10 Downing Street, London SW1A 2AA instead",
            ("1042",),
            "10 Downing Street, London SW1A 2AA",
        ),
        ("Do you ship to Canada?", (), None),
    ],
)
def test_the_new_address_slot(text: str, order_ids: tuple[str, ...], address: str | None) -> None:
    request = read_request(text)
    assert (request.order_ids, request.new_address) == (order_ids, address)


@pytest.mark.parametrize(
    "text",
    [
        "is it cancelled now?",
        "has order 1046 been cancelled?",
        "was my refund processed?",
        "did you change the address?",
    ],
)
def test_a_question_about_how_things_stand_never_asks_for_a_change(text: str) -> None:
    assert read_request(text).main_intent not in WRITE_INTENTS


def test_an_unclear_message_has_no_intent_but_ranked_candidates() -> None:
    request = read_request("What's the weather like on Mars?")
    assert request.main_intent is None and request.confidence < 0.85
    assert len(request.candidates) == 3


@pytest.mark.parametrize(("text", "order_id"), [("reorder the desk lamps", "1045"), ("my headphone", "1043")])
def test_item_names_match_fuzzily(text: str, order_id: str) -> None:
    orders = [order.public_view() for order in load_demo_orders() if order.customer_id == "demo-customer"]
    assert resolve_order(text, orders) == order_id


def test_the_table_is_large_covers_every_intent_and_reads_each_line_as_its_own() -> None:
    rows = paraphrases.table()
    assert len(rows) >= 250
    assert {Intent(row.intent) for row in rows} == set(Intent)
    misread = [
        row
        for row in rows
        if read_request(row.phrase.replace("#", "1042")).main_intent is not Intent(row.intent)
    ]
    assert misread == []


def test_a_bad_table_line_is_a_clear_error() -> None:
    with pytest.raises(ValueError, match="line 2 is not 'intent<TAB>phrase'"):
        paraphrases.parse_table("track\twhere is it\nno tab here\n")


@pytest.mark.parametrize("intent", [i for i in Intent if i not in (Intent.GREETING, Intent.THANKS)])
@pytest.mark.parametrize("order_ids", [(), ("1046",)])
def test_every_choice_sends_a_message_understood_as_its_intent(
    intent: Intent, order_ids: tuple[str, ...]
) -> None:
    [*offered, person] = choices.for_intents([intent], order_ids)
    assert person == choices.TALK_TO_A_PERSON
    for choice in offered:
        request = read_request(choice["message"])
        assert request.main_intent is intent, choice
        if intent in choices.ABOUT_ONE_ORDER:
            assert request.order_ids == order_ids, choice


def test_the_follow_up_choices_are_understood() -> None:
    assert read_request("Order 1042 is late, I want to talk to a person").main_intent is Intent.HUMAN
    assert read_request("I want to talk to a person about order 1044").main_intent is Intent.HUMAN
    assert read_request("The item from order 1044 is faulty").main_intent is Intent.FAULTY
    assert read_request("I want a refund for order 1044, it is faulty").main_intent is Intent.REFUND


def test_a_past_estimate_says_the_order_is_late_and_what_to_do() -> None:
    order = {
        "order_id": "1042",
        "status": "shipped",
        "carrier": "UPS",
        "estimated_delivery": "2026-11-26",
        "items": [{"name": "Trail running shoes"}],
    }
    late = describe_shipment(order, today=date(2026, 12, 1))
    assert late.startswith("Order 1042 is late: it shipped with UPS and was due by Thursday, November 26.")
    assert "support team" in late and "should arrive" not in late
    assert "is late" in describe_order(order, today=date(2026, 12, 1))
    assert "should arrive by Thursday, November 26" in describe_shipment(order, today=date(2026, 11, 25))


def test_the_demo_dates_are_relative_to_today() -> None:
    today = date(2030, 1, 10)
    [shoes] = [order for order in load_demo_orders(today=today) if order.order_id == "1042"]
    assert shoes.estimated_delivery == (today + timedelta(days=2)).isoformat()
    assert shoes.placed_at == (today - timedelta(days=10)).isoformat()


def run(graph: Any, thread: str, text: str) -> tuple[list[tuple[str, dict[str, Any]]], str, list[Any]]:
    """One turn: the tool calls, the agent's words, and the custom events written."""
    config = {"configurable": {"thread_id": thread, "customer_id": "demo-customer"}}
    calls: list[tuple[str, dict[str, Any]]] = []
    words: list[str] = []
    custom: list[Any] = []
    for mode, chunk in graph.stream(
        {"messages": [HumanMessage(text)]}, config, stream_mode=["updates", "custom"]
    ):
        if mode == "custom":
            custom.append(chunk)
            continue
        for update in chunk.values():
            for message in (update or {}).get("messages", []) if isinstance(update, dict) else []:
                calls += [(c["name"], c["args"]) for c in getattr(message, "tool_calls", [])]
                if message.type == "ai" and message.text:
                    words.append(message.text)
    return calls, " ".join(words), custom


@pytest.fixture
def graph() -> Any:
    return build_support_graph(OfflineSupportModel(), InMemoryOrderStore.with_demo_data(), InMemorySaver())


def test_unclear_messages_are_answered_with_quick_replies_and_a_hand_off(graph: Any) -> None:
    _, reply, custom = run(graph, uuid.uuid4().hex, "What's the weather like on Mars?")
    assert "didn't understand" in reply
    [event] = custom
    assert event["type"] == "quick_replies"
    labels = [choice["label"] for choice in event["choices"]]
    assert "Track an order" in labels and labels[-1] == "Talk to a person"


def test_which_order_offers_the_orders_as_choices(graph: Any) -> None:
    _, reply, [event] = run(graph, uuid.uuid4().hex, "where is my package")
    assert "Which order do you mean?" in reply
    assert {"label": "Order 1042 (Trail running shoes)", "message": "1042"} in event["choices"]


def test_a_late_order_is_called_late_with_a_hand_off(graph: Any) -> None:
    store = InMemoryOrderStore(load_demo_orders(today=date.today() - timedelta(days=5)))
    late_graph = build_support_graph(OfflineSupportModel(), store, InMemorySaver())
    calls, reply, [event] = run(late_graph, uuid.uuid4().hex, "where is order 1042?")
    assert calls == [("track_shipment", {"order_id": "1042"})]
    assert "Order 1042 is late" in reply and "should arrive" not in reply
    assert event["choices"] == [
        {
            "label": "Order 1042 is late: talk to a person",
            "message": "Order 1042 is late, I want to talk to a person",
        }
    ]


def test_no_quick_replies_outside_a_graph_run() -> None:
    model = OfflineSupportModel().bind_tools([])
    assert "didn't understand" in model.invoke([HumanMessage("What's the weather like on Mars?")]).text


def test_an_order_outside_the_demo_file_keeps_its_dates() -> None:
    order = Order.model_validate(
        {
            "order_id": "1",
            "customer_id": "c",
            "status": "shipped",
            "placed_at": "2020-01-01",
            "items": [],
            "total": "1",
            "shipping_address": "x",
        }
    )
    assert order.placed_at == "2020-01-01"
