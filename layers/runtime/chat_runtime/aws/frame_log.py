"""The frames table: each thread's numbered frames, for replay after a reconnect.

Item: `thread_key` (partition key), `seq` (sort key, N), `frame` (the JSON sent), `ttl`. The worker's
sender writes the frames it posts, in the batches it posts them (one `BatchWriteItem` per post batch);
replay reads the latest turn's frames from the session's `turn_first_seq` on.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any

from pydantic import TypeAdapter

from chat_runtime.protocol import ServerFrame, encode_frame

FRAME_TTL_SECONDS = 24 * 3600
_frame_adapter: TypeAdapter[ServerFrame] = TypeAdapter(ServerFrame)


class DynamoDBFrameLog:
    """A `FrameLog` on the frames table."""

    def __init__(self, table_name: str, *, client: Any = None, ttl_seconds: int = FRAME_TTL_SECONDS) -> None:
        if client is None:
            import boto3

            client = boto3.client("dynamodb")
        self.table_name = table_name
        self._client = client
        self._ttl_seconds = ttl_seconds

    def begin_turn(self, key: str, first_seq: int) -> None:
        """Nothing to do: replay starts at the session's `turn_first_seq`, old frames expire by TTL."""

    def record(self, key: str, frames: Sequence[ServerFrame]) -> None:
        """Write numbered frames, 25 per request."""
        expires = str(int(time.time()) + self._ttl_seconds)
        items = [
            {
                "PutRequest": {
                    "Item": {
                        "thread_key": {"S": key},
                        "seq": {"N": str(frame.seq)},
                        "frame": {"S": encode_frame(frame)},
                        "ttl": {"N": expires},
                    }
                }
            }
            for frame in frames
            if frame.seq is not None
        ]
        for start in range(0, len(items), 25):
            pending: dict[str, Any] = {self.table_name: items[start : start + 25]}
            for _ in range(5):
                unprocessed = self._client.batch_write_item(RequestItems=pending).get("UnprocessedItems")
                if not unprocessed:
                    break
                pending = unprocessed

    def highest_seq(self, key: str) -> int:
        """The highest `seq` logged for the thread (0 when none)."""
        page = self._client.query(
            TableName=self.table_name,
            KeyConditionExpression="thread_key = :key",
            ExpressionAttributeValues={":key": {"S": key}},
            ProjectionExpression="seq",
            ScanIndexForward=False,
            Limit=1,
            ConsistentRead=True,
        )
        return int(page["Items"][0]["seq"]["N"]) if page["Items"] else 0

    def after(self, key: str, after_seq: int, first_seq: int) -> list[ServerFrame]:
        """The frames from `first_seq` on with a `seq` above `after_seq`, in order."""
        query: dict[str, Any] = {
            "TableName": self.table_name,
            "KeyConditionExpression": "thread_key = :key AND seq > :after",
            "ExpressionAttributeValues": {
                ":key": {"S": key},
                ":after": {"N": str(max(after_seq, first_seq - 1))},
            },
            "ConsistentRead": True,
        }
        frames: list[ServerFrame] = []
        while True:
            page = self._client.query(**query)
            frames.extend(_frame_adapter.validate_json(item["frame"]["S"]) for item in page["Items"])
            if "LastEvaluatedKey" not in page:
                return frames
            query["ExclusiveStartKey"] = page["LastEvaluatedKey"]
