"""The agent's tools. The customer always comes from the run's config, never from the model's arguments.

Every tool returns JSON text, so any chat model can ground its reply in the result.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Annotated, Any

from langchain_core.runnables import RunnableConfig
from langchain_core.tools import BaseTool, InjectedToolCallId, StructuredTool
from pydantic import BaseModel, Field, field_validator

from support_agent.orders.model import Action, Order
from support_agent.orders.store import ActionResult, OrderStore

NO_CUSTOMER = "I can only look up orders for a signed-in customer."
READ_TOOL_NAMES = ("get_order_status", "track_shipment", "list_orders")
WRITE_TOOL_NAMES = tuple(action.value for action in Action)
EDITABLE_FIELDS: dict[str, tuple[str, ...]] = {
    Action.CANCEL_ORDER: (),
    Action.REQUEST_REFUND: ("reason",),
    Action.UPDATE_SHIPPING_ADDRESS: ("new_address",),
    Action.REPORT_MISSING_PARCEL: ("details",),
}


class OrderRef(BaseModel):
    """Arguments that name one order."""

    order_id: str = Field(description="The order number, e.g. 1042.", min_length=1, max_length=32)

    @field_validator("order_id")
    @classmethod
    def _bare_number(cls, value: str) -> str:
        return value.strip().lstrip("#").strip()


class NoArgs(BaseModel):
    """No arguments."""


class WriteArgs(OrderRef):
    """Arguments of a write action; the tool call's id is injected (it keys idempotency)."""

    tool_call_id: Annotated[str, InjectedToolCallId]


class RefundArgs(WriteArgs):
    """Arguments of a refund request."""

    reason: str = Field(
        default="", description="Why the customer wants a refund, in their words.", max_length=500
    )


class AddressArgs(WriteArgs):
    """Arguments of a shipping-address change."""

    new_address: str = Field(description="The full new shipping address.", min_length=5, max_length=300)


class ClaimArgs(WriteArgs):
    """Arguments of a missing-parcel claim."""

    details: str = Field(
        default="", description="What happened, briefly, in the customer's words.", max_length=300
    )


def customer_id_of(config: RunnableConfig) -> str | None:
    """The authenticated customer of this run, as the transport put it in `configurable`."""
    customer = config.get("configurable", {}).get("customer_id")
    return customer if isinstance(customer, str) and customer else None


def idempotency_key(config: RunnableConfig, tool_call_id: str) -> str:
    """One key per tool call of a thread: a retried or repeated execution of it changes nothing."""
    return f"{config.get('configurable', {}).get('thread_id', '')}:{tool_call_id}"


def _json(data: dict[str, Any]) -> str:
    return json.dumps(data, ensure_ascii=False)


def _not_found(order_id: str) -> str:
    return _json(
        {
            "found": False,
            "order_id": order_id,
            "message": f"I couldn't find order {order_id} on your account.",
        }
    )


def _result(action: Action, order_id: str, result: ActionResult) -> str:
    data: dict[str, Any] = {
        "ok": result.ok,
        "action": action.value,
        "order_id": order_id,
        "message": result.message,
    }
    if result.order is not None:
        data["order"] = result.order.public_view()
    if result.repeated:
        data["repeated"] = True
    return _json(data)


@dataclass(frozen=True)
class ShopTools:
    """The tools over one order store, by role."""

    read: list[BaseTool]
    write: list[BaseTool]

    @property
    def by_name(self) -> dict[str, BaseTool]:
        """Every tool, by name."""
        return {t.name: t for t in (*self.read, *self.write)}


def build_tools(store: OrderStore) -> ShopTools:
    """Create the order tools over `store`: three that read, four that change (behind approval)."""

    def lookup(config: RunnableConfig, order_id: str) -> Order | str:
        customer = customer_id_of(config)
        if customer is None:
            return _json({"found": False, "message": NO_CUSTOMER})
        order = store.get(customer, order_id)
        return order if order is not None else _not_found(order_id)

    def get_order_status(order_id: str, config: RunnableConfig) -> str:
        order = lookup(config, order_id)
        return order if isinstance(order, str) else _json({"found": True, "order": order.public_view()})

    def track_shipment(order_id: str, config: RunnableConfig) -> str:
        order = lookup(config, order_id)
        if isinstance(order, str):
            return order
        view = order.public_view()
        keys = ("order_id", "status", "carrier", "tracking_number", "estimated_delivery", "delivered_at")
        return _json({"found": True, "shipment": {k: view[k] for k in keys if k in view}})

    def list_orders(config: RunnableConfig) -> str:
        customer = customer_id_of(config)
        if customer is None:
            return _json({"found": False, "message": NO_CUSTOMER})
        return _json({"orders": [o.public_view() for o in store.list_for_customer(customer)]})

    def write(action: Action, order_id: str, config: RunnableConfig, call_id: str, **change: Any) -> str:
        customer = customer_id_of(config)
        if customer is None:
            return _json({"ok": False, "action": action.value, "order_id": order_id, "message": NO_CUSTOMER})
        result = store.apply(customer, order_id, action, idempotency_key(config, call_id), **change)
        return _result(action, order_id, result)

    def cancel_order(
        order_id: str, tool_call_id: Annotated[str, InjectedToolCallId], config: RunnableConfig
    ) -> str:
        return write(Action.CANCEL_ORDER, order_id, config, tool_call_id)

    def request_refund(
        order_id: str,
        tool_call_id: Annotated[str, InjectedToolCallId],
        config: RunnableConfig,
        reason: str = "",
    ) -> str:
        return write(Action.REQUEST_REFUND, order_id, config, tool_call_id)

    def update_shipping_address(
        order_id: str,
        new_address: str,
        tool_call_id: Annotated[str, InjectedToolCallId],
        config: RunnableConfig,
    ) -> str:
        return write(Action.UPDATE_SHIPPING_ADDRESS, order_id, config, tool_call_id, new_address=new_address)

    def report_missing_parcel(
        order_id: str,
        tool_call_id: Annotated[str, InjectedToolCallId],
        config: RunnableConfig,
        details: str = "",
    ) -> str:
        return write(Action.REPORT_MISSING_PARCEL, order_id, config, tool_call_id)

    def make(func: Any, schema: type[BaseModel], description: str) -> BaseTool:
        return StructuredTool.from_function(
            func, name=func.__name__, description=description, args_schema=schema
        )

    return ShopTools(
        read=[
            make(get_order_status, OrderRef, "Look up an order: status, items, total, address and dates."),
            make(
                track_shipment,
                OrderRef,
                "Shipping details of an order: carrier, tracking number, delivery date.",
            ),
            make(list_orders, NoArgs, "List the customer's orders, newest first."),
        ],
        write=[
            make(
                cancel_order,
                WriteArgs,
                "Cancel an order that has not shipped yet. Needs the customer's approval.",
            ),
            make(
                request_refund,
                RefundArgs,
                "Request a refund for a delivered order. Needs the customer's approval.",
            ),
            make(
                update_shipping_address,
                AddressArgs,
                "Change the shipping address of an order not shipped yet. Needs the customer's approval.",
            ),
            make(
                report_missing_parcel,
                ClaimArgs,
                "Open a claim for a parcel marked delivered that the customer never received. "
                "Needs the customer's approval.",
            ),
        ],
    )
