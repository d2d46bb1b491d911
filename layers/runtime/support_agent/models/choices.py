"""Quick replies: choices the offline model offers when it is unsure or the customer has options.

They travel as a LangGraph custom stream event, `{"type": "quick_replies", "choices": [{"label", "message"}]}`
(written from inside the graph node that runs the model); the page shows them as buttons and the terminal
client as a numbered list, and picking one sends its `message` as the customer's next message.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any, TypedDict

from langchain_core.messages import AIMessage
from langgraph.config import get_stream_writer

from support_agent.models.replies import is_late
from support_agent.models.understanding import Intent, Request

QUICK_REPLIES = "quick_replies"
_METADATA_KEY = "quick_replies"


class Choice(TypedDict):
    """One quick reply: what the button says, and the message it sends."""

    label: str
    message: str


TALK_TO_A_PERSON = Choice(label="Talk to a person", message="I want to talk to a person")
_BY_INTENT: dict[Intent, Choice] = {
    Intent.TRACK: Choice(label="Track an order", message="Where is my order?"),
    Intent.STATUS: Choice(label="Check an order", message="What is the status of my order?"),
    Intent.LIST: Choice(label="List my orders", message="Show me all my orders"),
    Intent.CANCEL: Choice(label="Cancel an order", message="I want to cancel an order"),
    Intent.REFUND: Choice(label="Request a refund", message="I would like a refund"),
    Intent.CHANGE_ADDRESS: Choice(label="Change an address", message="I want to change my shipping address"),
    Intent.MISSING_PARCEL: Choice(label="Report a missing parcel", message="My parcel never arrived"),
    Intent.POLICY: Choice(label="Our policies", message="What are your policies?"),
    Intent.PRICE: Choice(label="What I paid", message="How much did I pay for my order?"),
    Intent.SPENDING: Choice(label="My total spend", message="How much have I spent in total?"),
    Intent.FAULTY: Choice(label="Report a faulty item", message="My item is broken"),
    Intent.REORDER: Choice(label="Order again", message="I want to order an item again"),
    Intent.HUMAN: TALK_TO_A_PERSON,
    Intent.HELP: Choice(label="What can you do?", message="What can you do?"),
}
_WITH_ORDER: dict[Intent, tuple[str, str]] = {
    Intent.TRACK: ("Track order {id}", "Where is order {id}?"),
    Intent.STATUS: ("Check order {id}", "What is the status of order {id}?"),
    Intent.CANCEL: ("Cancel order {id}", "Cancel order {id}"),
    Intent.REFUND: ("Refund order {id}", "I want a refund for order {id}"),
    Intent.CHANGE_ADDRESS: ("Change the address of order {id}", "Change the shipping address of order {id}"),
    Intent.MISSING_PARCEL: ("Order {id} never arrived", "I never received order {id}"),
    Intent.PRICE: ("What I paid for order {id}", "How much did I pay for order {id}?"),
}
ABOUT_ONE_ORDER = frozenset(_WITH_ORDER)
EVERYDAY = (Intent.TRACK, Intent.LIST, Intent.CANCEL, Intent.REFUND, Intent.POLICY)


# Below this confidence a message is not close to anything the agent does: the everyday tasks are offered.
CLOSE = 0.72


def offered(request: Request) -> tuple[Intent, ...]:
    """The tasks to offer for a message the model is not confident of: the closest ones, or the everyday."""
    return request.candidates if request.confidence >= CLOSE else EVERYDAY


def for_intents(intents: Iterable[Intent], order_ids: Sequence[str] = ()) -> list[Choice]:
    """One choice per intent (naming the order when the customer gave one), then a hand-off to a person."""
    choices: list[Choice] = []
    for intent in intents:
        if order_ids and intent in _WITH_ORDER:
            label, message = _WITH_ORDER[intent]
            choice = Choice(label=label.format(id=order_ids[0]), message=message.format(id=order_ids[0]))
        elif intent in _BY_INTENT:
            choice = _BY_INTENT[intent]
        else:
            continue
        if choice not in choices:
            choices.append(choice)
    return [*(c for c in choices if c != TALK_TO_A_PERSON), TALK_TO_A_PERSON]


def for_orders(orders: Sequence[dict[str, Any]]) -> list[Choice]:
    """One choice per order, to pick the one meant: the button names its items, the message its number."""
    choices = []
    for order in orders:
        items = ", ".join(str(item.get("name", "")) for item in order.get("items", [])) or "no items"
        choices.append(Choice(label=f"Order {order['order_id']} ({items})", message=str(order["order_id"])))
    return choices


def for_late_orders(results: Iterable[dict[str, Any]]) -> list[Choice]:
    """A hand-off for each order in these tool results whose estimated delivery has passed."""
    late = []
    for result in results:
        order = result.get("shipment") or result.get("order") or {}
        if order.get("status") == "shipped" and is_late(order.get("estimated_delivery")):
            oid = order["order_id"]
            late.append(
                Choice(
                    label=f"Order {oid} is late: talk to a person",
                    message=f"Order {oid} is late, I want to talk to a person",
                )
            )
    return late


def attach(message: AIMessage, choices: Sequence[Choice]) -> AIMessage:
    """`message` carrying `choices`, for the model to publish once its reply has streamed (see `take`)."""
    if choices:
        message.response_metadata[_METADATA_KEY] = list(choices)
    return message


def take(message: AIMessage) -> list[Choice]:
    """The choices `attach` put on `message`, removed from it (they are not part of the conversation)."""
    choices: list[Choice] = message.response_metadata.pop(_METADATA_KEY, [])
    return choices


def publish(choices: Sequence[Choice]) -> None:
    """Write the choices as a custom stream event of the graph run this is called in; outside one, nothing."""
    if not choices:
        return
    try:
        writer = get_stream_writer()
    except (RuntimeError, KeyError):
        return
    writer({"type": QUICK_REPLIES, "choices": list(choices)})
