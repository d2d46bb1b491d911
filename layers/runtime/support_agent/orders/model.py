"""The order domain: orders, the write actions on them, and the rules that allow or refuse each action."""

from __future__ import annotations

from decimal import Decimal
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class OrderStatus(StrEnum):
    """Where an order is in its life."""

    PENDING = "pending"
    PROCESSING = "processing"
    SHIPPED = "shipped"
    DELIVERED = "delivered"
    CANCELLED = "cancelled"


class Action(StrEnum):
    """The write actions; each needs the customer's approval."""

    CANCEL_ORDER = "cancel_order"
    REQUEST_REFUND = "request_refund"
    UPDATE_SHIPPING_ADDRESS = "update_shipping_address"
    REPORT_MISSING_PARCEL = "report_missing_parcel"


class LineItem(BaseModel):
    """One product line of an order."""

    name: str
    quantity: int
    unit_price: Decimal


class Order(BaseModel):
    """An order as the shop stores it."""

    model_config = ConfigDict(frozen=True)

    order_id: str
    customer_id: str
    status: OrderStatus
    placed_at: str
    items: list[LineItem]
    total: Decimal
    shipping_address: str
    carrier: str | None = None
    tracking_number: str | None = None
    estimated_delivery: str | None = None
    delivered_at: str | None = None
    refund_status: str | None = None
    claim_status: str | None = None
    applied_actions: list[str] = Field(default_factory=list)

    def public_view(self) -> dict[str, Any]:
        """What the agent may tell the customer about this order."""
        return self.model_dump(mode="json", exclude={"customer_id", "applied_actions"}, exclude_none=True)


CANCELLABLE = frozenset({OrderStatus.PENDING, OrderStatus.PROCESSING})
REFUNDABLE = frozenset({OrderStatus.DELIVERED})
ADDRESS_CHANGEABLE = frozenset({OrderStatus.PENDING, OrderStatus.PROCESSING})
CLAIMABLE = frozenset({OrderStatus.DELIVERED})

ALLOWED_STATUSES: dict[Action, frozenset[OrderStatus]] = {
    Action.CANCEL_ORDER: CANCELLABLE,
    Action.REQUEST_REFUND: REFUNDABLE,
    Action.UPDATE_SHIPPING_ADDRESS: ADDRESS_CHANGEABLE,
    Action.REPORT_MISSING_PARCEL: CLAIMABLE,
}
# The attribute an action sets once and for all: a second request of the same kind is refused.
ONCE_ONLY: dict[Action, tuple[str, str]] = {
    Action.REQUEST_REFUND: ("refund_status", "requested"),
    Action.REPORT_MISSING_PARCEL: ("claim_status", "open"),
}


class Ticket(BaseModel):
    """A request for a person from the support team, with what they need to know."""

    model_config = ConfigDict(frozen=True)

    ticket_id: str
    customer_id: str
    summary: str
    order_id: str | None = None
    created_at: str
    status: str = "open"


def refusal(action: Action, order: Order) -> str | None:
    """Why `action` cannot be done on `order` now, in words for the customer; None when it can."""
    oid, status = order.order_id, order.status
    if action is Action.CANCEL_ORDER and status not in CANCELLABLE:
        if status is OrderStatus.CANCELLED:
            return f"Order {oid} is already cancelled."
        moved_on = "already shipped" if status is OrderStatus.SHIPPED else "already been delivered"
        return (
            f"Order {oid} has {moved_on}, so it can no longer be cancelled. You can request a refund instead."
        )
    if action is Action.REQUEST_REFUND:
        if order.refund_status is not None:
            return f"A refund for order {oid} has already been requested."
        if status not in REFUNDABLE:
            return _no_refund_yet(order)
    if action is Action.REPORT_MISSING_PARCEL:
        if order.claim_status is not None:
            return f"A missing-parcel claim for order {oid} is already open; our team will be in touch."
        if status is OrderStatus.SHIPPED:
            return (
                f"Order {oid} isn't marked as delivered yet: it is still on its way with "
                f"{order.carrier or 'the carrier'}. If it hasn't arrived a few days after its delivery date, "
                "tell me and I'll open a claim."
            )
        if status not in CLAIMABLE:
            return f"Order {oid} is {status.value}, so it hasn't been sent: there is no parcel to claim for."
    if action is Action.UPDATE_SHIPPING_ADDRESS and status not in ADDRESS_CHANGEABLE:
        return f"Order {oid} is {status.value}; the shipping address can only be changed before it ships."
    return None


def _no_refund_yet(order: Order) -> str:
    """Why an order that was not delivered cannot be refunded, and what the customer can do instead."""
    oid, status = order.order_id, order.status
    if status in CANCELLABLE:
        return (
            f"Order {oid} hasn't shipped yet, so there is nothing to refund: I can cancel it instead, "
            "and you won't be charged for it."
        )
    if status is OrderStatus.SHIPPED:
        return (
            f"Order {oid} is on its way, so it can't be refunded yet. Once it arrives you can return it "
            "for a refund within 30 days; if it never arrives, tell me and I'll open a missing-parcel claim."
        )
    return f"Order {oid} was cancelled, so there is nothing to refund: its payment is returned automatically."


def applied(action: Action, order: Order, new_address: str | None = None) -> Order:
    """The order after `action` (rules already checked)."""
    if action is Action.CANCEL_ORDER:
        return order.model_copy(update={"status": OrderStatus.CANCELLED})
    if action in ONCE_ONLY:
        attribute, value = ONCE_ONLY[action]
        return order.model_copy(update={attribute: value})
    return order.model_copy(update={"shipping_address": new_address})
