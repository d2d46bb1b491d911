"""The order store interface, and the in-memory implementation seeded from demo data."""

from __future__ import annotations

import hashlib
import json
import re
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from importlib import resources
from pathlib import Path
from typing import Protocol

from support_agent.orders.model import Action, Order, Ticket, applied, refusal

DEMO_CUSTOMER_ID = "demo-customer"
_DATE_FIELDS = ("placed_at", "estimated_delivery", "delivered_at")
_RELATIVE_DATE = re.compile(r"today(?:(?P<days>[+-]\d{1,4}))?")


@dataclass(frozen=True, slots=True)
class ActionResult:
    """What a write action did.

    Attributes:
        ok: The action took effect (now or, for a repeated call, earlier).
        message: What happened, in words for the customer.
        order: The order after the action, when the customer may see it.
        repeated: The same call had already been applied; nothing changed this time.
    """

    ok: bool
    message: str
    order: Order | None = None
    repeated: bool = False


def not_found(order_id: str) -> ActionResult:
    """The answer for an unknown order and for another customer's order alike."""
    return ActionResult(False, f"I couldn't find order {order_id} on your account.")


def done(action: Action, order: Order, repeated: bool = False) -> ActionResult:
    """The success answer for `action` on `order` (already updated)."""
    oid = order.order_id
    message = {
        Action.CANCEL_ORDER: f"Order {oid} has been cancelled.",
        Action.REQUEST_REFUND: f"A refund of {order.total} for order {oid} has been requested.",
        Action.UPDATE_SHIPPING_ADDRESS: f"Order {oid} will now ship to {order.shipping_address}.",
        Action.REPORT_MISSING_PARCEL: (
            f"I've opened a missing-parcel claim for order {oid}. We'll look into it with "
            f"{order.carrier or 'the carrier'} and email you within 2 business days with a replacement "
            "or a refund."
        ),
    }[action]
    return ActionResult(True, message, order, repeated)


class OrderStore(Protocol):
    """Where orders live. Every call names the customer: another customer's order does not exist."""

    def get(self, customer_id: str, order_id: str) -> Order | None:
        """The customer's order, or None (unknown, or someone else's)."""
        ...

    def list_for_customer(self, customer_id: str) -> list[Order]:
        """The customer's orders, newest first."""
        ...

    def apply(
        self,
        customer_id: str,
        order_id: str,
        action: Action,
        idempotency_key: str,
        new_address: str | None = None,
    ) -> ActionResult:
        """Apply a write action once: a repeated `idempotency_key` changes nothing and reports success."""
        ...

    def open_ticket(
        self, customer_id: str, summary: str, idempotency_key: str, order_id: str | None = None
    ) -> Ticket:
        """Open a ticket for the support team once: a repeated `idempotency_key` returns the same ticket."""
        ...


def new_ticket(customer_id: str, summary: str, idempotency_key: str, order_id: str | None) -> Ticket:
    """A ticket whose number follows from its idempotency key (a retried call opens no second ticket)."""
    number = hashlib.sha256(idempotency_key.encode()).hexdigest()[:8].upper()
    return Ticket(
        ticket_id=f"T-{number}",
        customer_id=customer_id,
        summary=summary,
        order_id=order_id,
        created_at=datetime.now(UTC).isoformat(timespec="seconds"),
    )


def load_demo_orders(path: Path | None = None, today: date | None = None) -> list[Order]:
    """Orders from a JSON file (a list of orders); the packaged demo data by default.

    A date written `today`, `today-10` or `today+2` is that many days from `today` (the real date by default),
    so the demo data does not age: an order shipped "two days ago" stays so.
    """
    if path is None:
        text = resources.files("support_agent").joinpath("data/demo_orders.json").read_text("utf-8")
    else:
        text = path.read_text("utf-8")
    day = today or date.today()
    return [Order.model_validate(_dated(item, day)) for item in json.loads(text)]


def _dated(item: dict[str, object], today: date) -> dict[str, object]:
    """`item` with its relative dates (`today-10`) as ISO dates."""
    dated = dict(item)
    for field in _DATE_FIELDS:
        value = dated.get(field)
        found = _RELATIVE_DATE.fullmatch(value) if isinstance(value, str) else None
        if found:
            dated[field] = (today + timedelta(days=int(found.group("days") or 0))).isoformat()
    return dated


class InMemoryOrderStore:
    """An `OrderStore` in process memory: the local default and the tests'."""

    def __init__(self, orders: Iterable[Order]) -> None:
        self._orders = {order.order_id: order for order in orders}
        self.tickets: dict[str, Ticket] = {}
        self._lock = threading.Lock()

    @classmethod
    def with_demo_data(cls, path: Path | None = None) -> InMemoryOrderStore:
        """A store seeded from the demo orders."""
        return cls(load_demo_orders(path))

    def get(self, customer_id: str, order_id: str) -> Order | None:
        """The customer's order, or None (unknown, or someone else's)."""
        order = self._orders.get(order_id)
        return order if order is not None and order.customer_id == customer_id else None

    def list_for_customer(self, customer_id: str) -> list[Order]:
        """The customer's orders, newest first."""
        mine = [o for o in self._orders.values() if o.customer_id == customer_id]
        return sorted(mine, key=lambda o: o.placed_at, reverse=True)

    def apply(
        self,
        customer_id: str,
        order_id: str,
        action: Action,
        idempotency_key: str,
        new_address: str | None = None,
    ) -> ActionResult:
        """Apply a write action once (see `OrderStore.apply`)."""
        with self._lock:
            order = self.get(customer_id, order_id)
            if order is None:
                return not_found(order_id)
            if idempotency_key in order.applied_actions:
                return done(action, order, repeated=True)
            reason = refusal(action, order)
            if reason is not None:
                return ActionResult(False, reason, order)
            updated = applied(action, order, new_address)
            updated = updated.model_copy(
                update={"applied_actions": [*order.applied_actions, idempotency_key]}
            )
            self._orders[order_id] = updated
            return done(action, updated)

    def open_ticket(
        self, customer_id: str, summary: str, idempotency_key: str, order_id: str | None = None
    ) -> Ticket:
        """Open a ticket once (see `OrderStore.open_ticket`)."""
        ticket = new_ticket(customer_id, summary, idempotency_key, order_id)
        with self._lock:
            return self.tickets.setdefault(ticket.ticket_id, ticket)
