"""The DynamoDB order store: one item per order, conditional updates make write actions exactly-once.

Table: partition key `order_id` (S); global secondary index `by_customer` (`customer_id` S, `placed_at` S).
`applied_actions` is a string set of the idempotency keys of the actions applied to the order.
Support tickets share the table under the key `ticket#<ticket_id>` with an `owner` attribute and no
`customer_id`, so the `by_customer` index never lists them and `get` never returns them as orders.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from support_agent.orders.model import ALLOWED_STATUSES, ONCE_ONLY, Action, Order, Ticket, refusal
from support_agent.orders.store import ActionResult, done, new_ticket, not_found

CUSTOMER_INDEX = "by_customer"
TICKET_KEY = "ticket#"


class DynamoDBOrderStore:
    """An `OrderStore` on a DynamoDB table (see the module docstring for the schema)."""

    def __init__(self, table_name: str, *, resource: Any = None, endpoint_url: str | None = None) -> None:
        if resource is None:
            import boto3

            resource = boto3.resource("dynamodb", endpoint_url=endpoint_url)
        self._table = resource.Table(table_name)

    def put(self, orders: Iterable[Order]) -> None:
        """Write orders as they are (seeding and tests)."""
        with self._table.batch_writer() as batch:
            for order in orders:
                batch.put_item(Item=_to_item(order))

    def get(self, customer_id: str, order_id: str) -> Order | None:
        """The customer's order, or None (unknown, or someone else's)."""
        item = self._table.get_item(Key={"order_id": order_id}, ConsistentRead=True).get("Item")
        if item is None or item.get("customer_id") != customer_id:
            return None
        return _from_item(item)

    def list_for_customer(self, customer_id: str) -> list[Order]:
        """The customer's orders, newest first."""
        from boto3.dynamodb.conditions import Key

        query: dict[str, Any] = {
            "IndexName": CUSTOMER_INDEX,
            "KeyConditionExpression": Key("customer_id").eq(customer_id),
            "ScanIndexForward": False,
        }
        orders: list[Order] = []
        while True:
            page = self._table.query(**query)
            orders.extend(_from_item(item) for item in page["Items"])
            if "LastEvaluatedKey" not in page:
                return orders
            query["ExclusiveStartKey"] = page["LastEvaluatedKey"]

    def apply(
        self,
        customer_id: str,
        order_id: str,
        action: Action,
        idempotency_key: str,
        new_address: str | None = None,
    ) -> ActionResult:
        """Apply a write action once, in one conditional update (see `OrderStore.apply`)."""
        from botocore.exceptions import ClientError

        allowed = sorted(ALLOWED_STATUSES[action])
        values: dict[str, Any] = {
            ":customer": customer_id,
            ":keys": {idempotency_key},
            ":key": idempotency_key,
        }
        values.update({f":s{i}": status.value for i, status in enumerate(allowed)})
        condition = (
            "customer_id = :customer AND NOT contains(applied_actions, :key) AND #status IN ("
            + ", ".join(f":s{i}" for i in range(len(allowed)))
            + ")"
        )
        if action is Action.CANCEL_ORDER:
            update = "SET #status = :new_status"
            values[":new_status"] = "cancelled"
        elif action in ONCE_ONLY:
            attribute, value = ONCE_ONLY[action]
            update = f"SET {attribute} = :once"
            values[":once"] = value
            condition += f" AND attribute_not_exists({attribute})"
        else:
            update = "SET shipping_address = :address"
            values[":address"] = new_address
        try:
            response = self._table.update_item(
                Key={"order_id": order_id},
                UpdateExpression=update + " ADD applied_actions :keys",
                ConditionExpression=condition,
                ExpressionAttributeNames={"#status": "status"},
                ExpressionAttributeValues=values,
                ReturnValues="ALL_NEW",
            )
        except ClientError as error:
            if error.response["Error"]["Code"] != "ConditionalCheckFailedException":
                raise
            return self._explain_refusal(customer_id, order_id, action, idempotency_key)
        return done(action, _from_item(response["Attributes"]))

    def open_ticket(
        self, customer_id: str, summary: str, idempotency_key: str, order_id: str | None = None
    ) -> Ticket:
        """Open a ticket once, in one conditional put (see `OrderStore.open_ticket`)."""
        from botocore.exceptions import ClientError

        ticket = new_ticket(customer_id, summary, idempotency_key, order_id)
        item = ticket.model_dump(exclude_none=True, exclude={"customer_id"})
        try:
            self._table.put_item(
                Item={**item, "order_id": TICKET_KEY + ticket.ticket_id, "owner": customer_id},
                ConditionExpression="attribute_not_exists(order_id)",
            )
        except ClientError as error:
            if error.response["Error"]["Code"] != "ConditionalCheckFailedException":
                raise
        return ticket

    def _explain_refusal(
        self, customer_id: str, order_id: str, action: Action, idempotency_key: str
    ) -> ActionResult:
        order = self.get(customer_id, order_id)
        if order is None:
            return not_found(order_id)
        if idempotency_key in order.applied_actions:
            return done(action, order, repeated=True)
        reason = refusal(action, order) or f"Order {order_id} changed meanwhile; please ask again."
        return ActionResult(False, reason, order)


def _to_item(order: Order) -> dict[str, Any]:
    item = order.model_dump(mode="python", exclude_none=True)
    applied_actions = item.pop("applied_actions", [])
    if applied_actions:
        item["applied_actions"] = set(applied_actions)
    return item


def _from_item(item: dict[str, Any]) -> Order:
    data = dict(item)
    data["applied_actions"] = sorted(data.get("applied_actions", ()))
    return Order.model_validate(data)
