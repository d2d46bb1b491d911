"""Order rules and the in-memory store: ownership, refusals in words, exactly-once writes."""

from __future__ import annotations

import threading

import pytest

from support_agent.orders.model import Action, OrderStatus, refusal
from support_agent.orders.store import InMemoryOrderStore, load_demo_orders

ME = "demo-customer"


def test_the_demo_data_has_what_the_conversations_need() -> None:
    orders = {o.order_id: o for o in load_demo_orders()}
    assert {k: orders[k].status for k in ("1042", "1043", "1044", "1045", "1046")} == {
        "1042": OrderStatus.SHIPPED,
        "1043": OrderStatus.PROCESSING,
        "1044": OrderStatus.DELIVERED,
        "1045": OrderStatus.CANCELLED,
        "1046": OrderStatus.PENDING,
    }
    shipped = orders["1042"]
    assert shipped.carrier and shipped.tracking_number and shipped.estimated_delivery
    assert orders["1046"].shipping_address
    assert {o.customer_id for o in orders.values()} >= {ME, "other-customer"}


@pytest.mark.parametrize(
    ("action", "order_id", "allowed"),
    [
        (Action.CANCEL_ORDER, "1043", True),
        (Action.CANCEL_ORDER, "1046", True),
        (Action.CANCEL_ORDER, "1042", False),
        (Action.CANCEL_ORDER, "1044", False),
        (Action.CANCEL_ORDER, "1045", False),
        (Action.REQUEST_REFUND, "1044", True),
        (Action.REQUEST_REFUND, "1042", False),
        (Action.REQUEST_REFUND, "1043", False),
        (Action.UPDATE_SHIPPING_ADDRESS, "1046", True),
        (Action.UPDATE_SHIPPING_ADDRESS, "1043", True),
        (Action.UPDATE_SHIPPING_ADDRESS, "1042", False),
        (Action.UPDATE_SHIPPING_ADDRESS, "1044", False),
    ],
)
def test_rules(action: Action, order_id: str, allowed: bool) -> None:
    order = InMemoryOrderStore.with_demo_data().get(ME, order_id)
    assert order is not None
    reason = refusal(action, order)
    assert (reason is None) is allowed
    if reason is not None:
        assert order_id in reason and reason.endswith(".")


def test_another_customers_order_does_not_exist() -> None:
    store = InMemoryOrderStore.with_demo_data()
    assert store.get(ME, "2001") is None
    assert store.get("other-customer", "2001") is not None
    assert [o.order_id for o in store.list_for_customer(ME)] == ["1046", "1043", "1042", "1044", "1045"]
    result = store.apply(ME, "2001", Action.CANCEL_ORDER, "k")
    assert not result.ok and result.message == "I couldn't find order 2001 on your account."
    assert store.get("other-customer", "2001").status is OrderStatus.PROCESSING  # type: ignore[union-attr]


def test_a_repeated_key_changes_the_order_once() -> None:
    store = InMemoryOrderStore.with_demo_data()
    first = store.apply(ME, "1046", Action.UPDATE_SHIPPING_ADDRESS, "t:c1", new_address="1 New Road")
    again = store.apply(ME, "1046", Action.UPDATE_SHIPPING_ADDRESS, "t:c1", new_address="2 Other Road")
    assert (first.ok, first.repeated, again.ok, again.repeated) == (True, False, True, True)
    assert store.get(ME, "1046").shipping_address == "1 New Road"  # type: ignore[union-attr]
    other_call = store.apply(ME, "1046", Action.UPDATE_SHIPPING_ADDRESS, "t:c2", new_address="3 Third Road")
    assert other_call.ok and store.get(ME, "1046").shipping_address == "3 Third Road"  # type: ignore[union-attr]


def test_concurrent_duplicates_apply_once() -> None:
    store = InMemoryOrderStore.with_demo_data()
    barrier = threading.Barrier(8)
    results = []

    def apply() -> None:
        barrier.wait()
        results.append(store.apply(ME, "1044", Action.REQUEST_REFUND, "t:same"))

    threads = [threading.Thread(target=apply) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert all(r.ok for r in results)
    assert sum(not r.repeated for r in results) == 1
    assert store.get(ME, "1044").applied_actions == ["t:same"]  # type: ignore[union-attr]
