"""Answers about things the agent cannot do itself: a faulty item, ordering again, what was spent in total.

Each is grounded in the customer's orders (listed with a tool call first) and ends in choices of what the
customer can do next, never in a dead end.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from langchain_core.messages import AIMessage, BaseMessage

from support_agent.models import choices, replies
from support_agent.models.understanding import (
    Intent,
    Request,
    describes_an_order,
    order_under_discussion,
    resolve_order,
)

ToolCalls = list[tuple[str, dict[str, Any]]]


def advise(
    intent: Intent,
    request: Request,
    text: str,
    messages: Sequence[BaseMessage],
    results: list[tuple[str, dict[str, Any]]],
    listed: list[dict[str, Any]] | None,
) -> AIMessage | ToolCalls:
    """The reply (or the tool calls to make first) for a `SPENDING`, `FAULTY` or `REORDER` request."""
    if not results:
        if request.order_ids and intent is not Intent.SPENDING:
            return [("get_order_status", {"order_id": request.order_ids[0]})]
        discussed = order_under_discussion(messages)
        if discussed and intent is not Intent.SPENDING and not describes_an_order(text):
            return [("get_order_status", {"order_id": discussed})]
        return [("list_orders", {})]
    if intent is Intent.SPENDING:
        return AIMessage(content=replies.describe_spending(listed or []))
    order = _the_order(text, messages, results, listed)
    if intent is Intent.FAULTY:
        return choices.attach(AIMessage(content=replies.describe_fault(order)), _fault_choices(order, listed))
    return choices.attach(
        AIMessage(content=replies.describe_reorder(order)),
        choices.for_intents([Intent.LIST, Intent.HUMAN]),
    )


def _the_order(
    text: str,
    messages: Sequence[BaseMessage],
    results: list[tuple[str, dict[str, Any]]],
    listed: list[dict[str, Any]] | None,
) -> dict[str, Any] | None:
    """The order the customer's item came in: looked up, named by its items, or the one under discussion."""
    found = [result["order"] for tool, result in results if tool == "get_order_status" and "order" in result]
    if found:
        order: dict[str, Any] = found[0]
        return order
    if not listed:
        return None
    wanted = resolve_order(text, listed) or order_under_discussion(messages)
    if wanted is None and len(listed) == 1:
        return listed[0]
    return next((order for order in listed if str(order["order_id"]) == wanted), None)


def _fault_choices(
    order: dict[str, Any] | None, listed: Sequence[dict[str, Any]] | None
) -> list[choices.Choice]:
    if order is None:
        delivered = [o for o in listed or [] if o.get("status") == "delivered"]
        picks = [
            choices.Choice(label=f"Order {o['order_id']} ({replies.items_of(o)})", message=_faulty(o))
            for o in delivered
        ]
        return [*picks, choices.TALK_TO_A_PERSON]
    oid = order["order_id"]
    offered = [choices.Choice(label="Our returns policy", message="What is your returns policy?")]
    if order.get("status") == "delivered":
        refund = choices.Choice(
            label=f"Refund order {oid}", message=f"I want a refund for order {oid}, it is faulty"
        )
        offered.insert(0, refund)
    person = choices.Choice(label="Talk to a person", message=f"I want to talk to a person about order {oid}")
    return [*offered, person]


def _faulty(order: dict[str, Any]) -> str:
    return f"The item from order {order['order_id']} is faulty"
