"""The saver's DynamoDB requests: paged queries, and batched writes that retry what is left unprocessed."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

from chat_runtime.aws.thread_saver.items import Item

BATCH_LIMIT = 25
MAX_ATTEMPTS = 8
FIRST_BACKOFF_SECONDS = 0.05


class ThreadTable:
    """One checkpoints table through one boto3 DynamoDB client. Reads are strongly consistent: a checkpoint
    another worker has just written is never missed."""

    def __init__(self, client: Any, table_name: str) -> None:
        self.client = client
        self.name = table_name
        self.first_pause_seconds = FIRST_BACKOFF_SECONDS
        """The pause before the first retry of unprocessed items; each next one doubles it."""

    def query(self, partition: str, low: str, high: str, *, page_items: int | None = None) -> Iterator[Item]:
        """The items of `partition` with sort keys in [low, high], greatest first, page after page as they are
        consumed (`page_items` to a page; None: up to DynamoDB's 1 MB)."""
        params: dict[str, Any] = {
            "TableName": self.name,
            "KeyConditionExpression": "PK = :pk AND SK BETWEEN :low AND :high",
            "ExpressionAttributeValues": {":pk": {"S": partition}, ":low": {"S": low}, ":high": {"S": high}},
            "ScanIndexForward": False,
            "ConsistentRead": True,
        }
        if page_items is not None:
            params["Limit"] = page_items
        return self._pages(params)

    def keys(self, partition: str) -> Iterator[Item]:
        """Every key of the partition."""
        return self._pages(
            {
                "TableName": self.name,
                "KeyConditionExpression": "PK = :pk",
                "ExpressionAttributeValues": {":pk": {"S": partition}},
                "ProjectionExpression": "PK, SK",
                "ConsistentRead": True,
            }
        )

    def _pages(self, params: dict[str, Any]) -> Iterator[Item]:
        """A query's items, a page at a time as they are consumed."""
        while True:
            page = self.client.query(**params)
            yield from page.get("Items", [])
            if "LastEvaluatedKey" not in page:
                return
            params = {**params, "ExclusiveStartKey": page["LastEvaluatedKey"]}

    def put(self, items: list[Item]) -> None:
        """Store `items`: values' parts first, then the items naming them (batches of 25, one after the other;
        one item: `PutItem`).

        Raises:
            RuntimeError: DynamoDB still left items unprocessed after `MAX_ATTEMPTS` tries.
        """
        parts = [item for item in items if "#P#" in item["SK"]["S"]]
        if parts:  # in requests of their own: DynamoDB applies a batch in no order
            self._batch([{"PutRequest": {"Item": item}} for item in parts])
            items = [item for item in items if "#P#" not in item["SK"]["S"]]
        if len(items) == 1:
            self.client.put_item(TableName=self.name, Item=items[0])
            return
        self._batch([{"PutRequest": {"Item": item}} for item in items])

    def delete(self, keys: list[Item]) -> None:
        """Delete the items at `keys`."""
        self._batch([{"DeleteRequest": {"Key": key}} for key in keys])

    def _batch(self, requests: list[Item]) -> None:
        requests = _last_per_key(requests)
        for start in range(0, len(requests), BATCH_LIMIT):
            pending = requests[start : start + BATCH_LIMIT]
            for attempt in range(MAX_ATTEMPTS):
                response = self.client.batch_write_item(RequestItems={self.name: pending})
                pending = response.get("UnprocessedItems", {}).get(self.name, [])
                if not pending:
                    break
                time.sleep(self.first_pause_seconds * 2**attempt)
            else:
                raise RuntimeError(
                    f"DynamoDB left {len(pending)} checkpoint items unprocessed after {MAX_ATTEMPTS} attempts"
                )


def _last_per_key(requests: list[Item]) -> list[Item]:
    """The requests with one per key, the last (DynamoDB refuses a batch naming a key twice: a write stored
    again, two calls of one group commit), in the order of those last ones."""
    last: dict[tuple[str, str], int] = {}
    for index, request in enumerate(requests):
        [(kind, body)] = request.items()
        key = body["Item"] if kind == "PutRequest" else body["Key"]
        last[(key["PK"]["S"], key["SK"]["S"])] = index
    kept = set(last.values())
    return [request for index, request in enumerate(requests) if index in kept]
