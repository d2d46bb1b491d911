"""The DynamoDB order store under moto: real item shapes, conditional writes, concurrent duplicates."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal

import boto3
import pytest
from moto import mock_aws

from support_agent.orders.dynamodb import DynamoDBOrderStore
from support_agent.orders.model import Action, OrderStatus
from support_agent.orders.store import load_demo_orders
from tests.support.aws import create_orders_table

pytestmark = pytest.mark.integration
ME = "demo-customer"


@pytest.fixture
def store() -> Iterator[DynamoDBOrderStore]:
    with mock_aws():
        resource = boto3.resource("dynamodb", region_name="us-east-1")
        create_orders_table(resource.meta.client, "orders")
        store = DynamoDBOrderStore("orders", resource=resource)
        store.put(load_demo_orders())
        yield store


def test_items_round_trip_with_native_types(store: DynamoDBOrderStore) -> None:
    order = store.get(ME, "1042")
    assert order is not None and order.total == Decimal("89.00") and order.items[0].quantity == 1
    raw = boto3.client("dynamodb", region_name="us-east-1").get_item(
        TableName="orders", Key={"order_id": {"S": "1042"}}
    )
    assert raw["Item"]["total"] == {"N": "89.00"} and raw["Item"]["status"] == {"S": "shipped"}


def test_ownership_and_listing(store: DynamoDBOrderStore) -> None:
    assert store.get(ME, "2001") is None
    assert [o.order_id for o in store.list_for_customer(ME)] == ["1046", "1043", "1042", "1044", "1045"]
    assert not store.apply(ME, "2001", Action.CANCEL_ORDER, "k").ok
    assert store.get("other-customer", "2001").status is OrderStatus.PROCESSING  # type: ignore[union-attr]
    assert "couldn't find order 7777" in store.apply(ME, "7777", Action.CANCEL_ORDER, "k").message


def test_conditional_writes_follow_the_rules(store: DynamoDBOrderStore) -> None:
    cancelled = store.apply(ME, "1043", Action.CANCEL_ORDER, "t:1")
    assert cancelled.ok and cancelled.order.status is OrderStatus.CANCELLED  # type: ignore[union-attr]
    refused = store.apply(ME, "1043", Action.CANCEL_ORDER, "t:2")
    assert not refused.ok and refused.message == "Order 1043 is already cancelled."
    assert "can't be refunded yet" in store.apply(ME, "1042", Action.REQUEST_REFUND, "t:3").message
    moved = store.apply(ME, "1046", Action.UPDATE_SHIPPING_ADDRESS, "t:4", new_address="5 Pine Lane")
    assert moved.ok and store.get(ME, "1046").shipping_address == "5 Pine Lane"  # type: ignore[union-attr]
    assert store.apply(ME, "1044", Action.REQUEST_REFUND, "t:5").ok
    assert "already been requested" in store.apply(ME, "1044", Action.REQUEST_REFUND, "t:6").message


def test_a_repeated_key_is_reported_done_without_a_second_change(store: DynamoDBOrderStore) -> None:
    first = store.apply(ME, "1046", Action.CANCEL_ORDER, "t:c")
    again = store.apply(ME, "1046", Action.CANCEL_ORDER, "t:c")
    assert (first.ok, first.repeated, again.ok, again.repeated) == (True, False, True, True)
    assert store.get(ME, "1046").applied_actions == ["t:c"]  # type: ignore[union-attr]


def test_each_action_is_one_conditional_write_with_no_read_before_it(store: DynamoDBOrderStore) -> None:
    """Exactly-once rests on DynamoDB evaluating the condition and writing in one request.

    (moto's in-process backend does not hold a lock across condition and write, so a thread race against
    it would test moto; the in-memory store's race test and the per-thread FIFO cover our side.)
    """
    calls: list[str] = []
    client = store._table.meta.client
    client.meta.events.register("before-call.dynamodb.*", lambda model, **_: calls.append(model.name))
    assert store.apply(ME, "1044", Action.REQUEST_REFUND, "t:one").ok
    assert calls == ["UpdateItem"]
    calls.clear()
    repeated = store.apply(ME, "1044", Action.REQUEST_REFUND, "t:one")
    assert repeated.ok and repeated.repeated
    assert calls == ["UpdateItem", "GetItem"]  # the read only explains a refused write


def test_a_missing_parcel_claim_is_opened_once_and_only_for_a_delivered_order(
    store: DynamoDBOrderStore,
) -> None:
    assert (
        "isn't marked as delivered yet"
        in store.apply(ME, "1042", Action.REPORT_MISSING_PARCEL, "c:0").message
    )
    claim = store.apply(ME, "1044", Action.REPORT_MISSING_PARCEL, "c:1")
    assert claim.ok and claim.order.claim_status == "open"  # type: ignore[union-attr]
    assert "already open" in store.apply(ME, "1044", Action.REPORT_MISSING_PARCEL, "c:2").message
    assert store.apply(ME, "1044", Action.REPORT_MISSING_PARCEL, "c:1").repeated


def test_a_ticket_is_an_item_of_its_own_that_no_order_query_returns(store: DynamoDBOrderStore) -> None:
    ticket = store.open_ticket(ME, "The customer asked for a person.", "thread:call_1", "1042")
    assert ticket == store.open_ticket(ME, "The customer asked for a person.", "thread:call_1", "1042")
    raw = boto3.client("dynamodb", region_name="us-east-1").get_item(
        TableName="orders", Key={"order_id": {"S": f"ticket#{ticket.ticket_id}"}}
    )["Item"]
    assert raw["owner"] == {"S": ME} and raw["order_id"] == {"S": f"ticket#{ticket.ticket_id}"}
    assert raw["summary"] == {"S": "The customer asked for a person."} and "customer_id" not in raw
    assert len(store.list_for_customer(ME)) == 5
    assert store.get(ME, f"ticket#{ticket.ticket_id}") is None
    assert store.open_ticket(ME, "Another request.", "thread:call_2").ticket_id != ticket.ticket_id
