"""How the offline model words its answers, grounded in the JSON its tools returned."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

CAPABILITIES = (
    "I can check an order's status, track a shipment, list your orders, cancel an order, "
    "request a refund or change a shipping address, answer questions about our policies, "
    "or put you in touch with a person."
)
GREETING = f"Hello! I'm the shop's support assistant. {CAPABILITIES} How can I help?"
THANKS = "You're welcome! Is there anything else I can help you with?"
HELP = f"{CAPABILITIES} Just tell me what you need, with the order number if you have it."
NOT_UNDERSTOOD = f"I'm sorry, I didn't understand that. {CAPABILITIES}"

_DECLINED = {
    "cancel_order": "Understood. Order {order_id} will remain active.",
    "request_refund": "Understood. I won't request a refund for order {order_id}.",
    "update_shipping_address": "Understood. The shipping address of order {order_id} stays as it was.",
    "report_missing_parcel": "Understood. I won't open a claim for order {order_id}.",
}


def parse_result(content: str) -> dict[str, Any]:
    """A tool result as a dict (a tool that failed answers with plain text)."""
    try:
        data = json.loads(content)
    except ValueError:
        return {"ok": False, "message": content}
    return data if isinstance(data, dict) else {"ok": False, "message": content}


def nice_date(value: str | None) -> str | None:
    """`2026-11-26` as `Thursday, November 26`."""
    if not value:
        return None
    try:
        day = date.fromisoformat(value)
    except ValueError:
        return value
    return f"{day:%A}, {day:%B} {day.day}"


def is_late(estimate: str | None, today: date | None = None) -> bool:
    """Whether an estimated delivery date has passed (`today` defaults to the real date)."""
    try:
        return estimate is not None and date.fromisoformat(estimate) < (today or date.today())
    except ValueError:
        return False


def _late(oid: str, estimate: str | None, by: str) -> str:
    return (
        f"Order {oid} is late: it shipped{by} and was due by {nice_date(estimate)}. Parcels sometimes take a "
        "few more days; you can follow it with the tracking number, or I can pass this to our support team."
    )


def items_of(order: dict[str, Any]) -> str:
    """The names of an order's items, comma-separated."""
    names = [item["name"] for item in order.get("items", [])]
    return ", ".join(names) if names else "your items"


def describe_order(order: dict[str, Any], today: date | None = None) -> str:
    """One order's status, in a sentence or two; an estimate in the past says the order is late."""
    oid, status = order["order_id"], order["status"]
    what = f"Order {oid} ({items_of(order)})"
    if status == "shipped" and is_late(order.get("estimated_delivery"), today):
        tracking = order.get("tracking_number")
        by = f" with {order.get('carrier', 'the carrier')}" + (
            f" (tracking number {tracking})" if tracking else ""
        )
        return f"{what}: " + _late(oid, order.get("estimated_delivery"), by)
    if status == "shipped":
        text = f"{what} has shipped with {order.get('carrier', 'the carrier')}"
        if order.get("tracking_number"):
            text += f" (tracking number {order['tracking_number']})"
        arrival = nice_date(order.get("estimated_delivery"))
        return text + (f" and should arrive by {arrival}." if arrival else ".")
    if status == "delivered":
        delivered = nice_date(order.get("delivered_at"))
        return f"{what} was delivered" + (f" on {delivered}." if delivered else ".")
    ships_to = f" It will ship to {order['shipping_address']}." if order.get("shipping_address") else ""
    if status == "processing":
        return f"{what} is being processed and hasn't shipped yet.{ships_to}"
    if status == "pending":
        still = "so it can still be changed or cancelled"
        return f"{what} is pending: it hasn't been processed yet, {still}.{ships_to}"
    if status == "cancelled":
        return f"{what} was cancelled."
    return f"{what} is {status}."


def describe_shipment(shipment: dict[str, Any], today: date | None = None) -> str:
    """Where a shipment is and when it arrives; an estimate in the past says the order is late."""
    oid, status = shipment["order_id"], shipment["status"]
    carrier, tracking = shipment.get("carrier"), shipment.get("tracking_number")
    by = f" with {carrier}" + (f" (tracking number {tracking})" if tracking else "") if carrier else ""
    if status == "shipped" and is_late(shipment.get("estimated_delivery"), today):
        return _late(oid, shipment.get("estimated_delivery"), by)
    if status == "shipped":
        arrival = nice_date(shipment.get("estimated_delivery"))
        return f"Order {oid} is on its way{by}." + (f" It should arrive by {arrival}." if arrival else "")
    if status == "delivered":
        delivered = nice_date(shipment.get("delivered_at"))
        return f"Order {oid} was delivered" + (f" on {delivered}" if delivered else "") + f"{by}."
    if status == "cancelled":
        return f"Order {oid} was cancelled, so it won't be shipped."
    return f"Order {oid} hasn't shipped yet (it is {status}), so there is no tracking information yet."


def describe_orders(orders: list[dict[str, Any]]) -> str:
    """A short list of the customer's orders."""
    if not orders:
        return "I couldn't find any orders on your account."
    lines = [f"You have {len(orders)} orders:"]
    for order in orders:
        lines.append(
            f"- Order {order['order_id']} (placed {order['placed_at']}): {order['status']}, "
            f"{items_of(order)}, total {order['total']}"
        )
    return "\n".join(lines)


def describe_payment(order: dict[str, Any]) -> str:
    """What the customer paid for an order, line by line."""
    oid, total = order["order_id"], order["total"]
    lines = ", ".join(
        f"{item['quantity']} \u00d7 {item['name']} at {item['unit_price']}" for item in order.get("items", [])
    )
    if order["status"] == "cancelled":
        return f"Order {oid} came to {total} ({lines}); it was cancelled, so you weren't charged for it."
    refund = " A refund for it has been requested." if order.get("refund_status") else ""
    return f"You paid {total} for order {oid} ({lines}).{refund}"


def answer_lookup(tool: str, result: dict[str, Any], price: bool = False) -> str:
    """The reply to one read or help-desk tool's result (`price`: the customer asked what they paid)."""
    if "orders" in result:
        return describe_orders(result["orders"])
    if "policy" in result:
        return f"Our {result['topic']} policy: {result['policy']}"
    if "ticket_id" in result:
        return str(result["message"])
    if not result.get("found", False):
        return str(result.get("message", "I couldn't find that order."))
    if tool == "track_shipment" and "shipment" in result:
        return describe_shipment(result["shipment"])
    return describe_payment(result["order"]) if price else describe_order(result["order"])


def answer_action(tool: str, result: dict[str, Any]) -> str:
    """The reply to one write action's result: done, declined or refused."""
    order_id = result.get("order_id", "")
    if result.get("declined"):
        return _DECLINED.get(tool, "Understood. Nothing was changed.").format(order_id=order_id)
    message = str(result.get("message", ""))
    if not result.get("ok"):
        return message or "Sorry, that couldn't be done."
    if tool == "cancel_order":
        return f"{message} You'll receive a confirmation email shortly."
    if tool == "request_refund":
        return f"{message} It usually reaches your account within 5 to 7 business days."
    return message


def _amount(value: Any) -> Decimal:
    try:
        return Decimal(str(value))
    except InvalidOperation:
        return Decimal(0)


def describe_spending(orders: Sequence[dict[str, Any]]) -> str:
    """What the customer has spent: every order's total but the cancelled ones (never charged)."""
    charged = [order for order in orders if order.get("status") != "cancelled"]
    if not charged:
        return "You haven't spent anything with us yet: there are no charged orders on your account."
    total = sum((_amount(order.get("total")) for order in charged), Decimal(0))
    count = f"{len(charged)} order" + ("s" if len(charged) != 1 else "")
    text = (
        f"You have spent {total:.2f} in total on {count} ("
        + ", ".join(f"{order['order_id']}: {order.get('total')}" for order in charged)
        + ")."
    )
    cancelled = [str(order["order_id"]) for order in orders if order.get("status") == "cancelled"]
    if cancelled:
        text += f" Cancelled orders ({', '.join(cancelled)}) were never charged."
    refunded = [str(order["order_id"]) for order in charged if order.get("refund_status")]
    if refunded:
        text += f" A refund has been requested for {', '.join(refunded)}."
    return text


def describe_fault(order: dict[str, Any] | None) -> str:
    """What a customer whose item is faulty can do."""
    if order is None:
        return (
            "I'm sorry to hear that. Tell me which order the item came in and I can request a refund, "
            "explain our returns policy, or pass this to our support team."
        )
    oid, what = order["order_id"], items_of(order)
    if order.get("status") != "delivered":
        return (
            f"I'm sorry to hear that. {describe_order(order)} If something is wrong with it once it arrives, "
            "I can request a refund or pass this to our support team."
        )
    return (
        f"I'm sorry your {what} (order {oid}) isn't right. As it was delivered, you can return it under our "
        "returns policy, I can request a refund for it, or I can pass this to our support team."
    )


def describe_reorder(order: dict[str, Any] | None) -> str:
    """Why the agent cannot order again, and what the customer can do instead."""
    if order is None:
        return (
            "I can't place new orders here, but you can order anything again from our shop's website. "
            "I can show you your past orders, or pass this to our support team."
        )
    return (
        f"I can't place new orders here, but you can order the {items_of(order)} again from our shop's "
        f"website (it was order {order['order_id']}, total {order.get('total')}). I can also pass this to "
        "our support team."
    )
