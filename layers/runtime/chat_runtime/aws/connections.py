"""The connections table: who is behind each API Gateway connection, and whether it is still there.

Item: `connection_id` (partition key), `principal`, `customer_id` and `expires_at` (the token's `exp`, from
the authorizer), `connected_at`, `gone` (bool), `ttl` (DynamoDB TTL, just past API Gateway's two-hour
connection limit), `protocol` when the connection chose another wire protocol than ours (`ag-ui`), and
`rate_<window>`: the frames counted in a rate-limit window (see `count_frame`).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from chat_runtime.auth import token_has_expired

MAX_CONNECTION_SECONDS = 2 * 3600
TTL_MARGIN_SECONDS = 600
RATE_PREFIX = "rate_"
RATE_WINDOWS_REMOVED = 8
"""Each counted frame removes the counters of this many windows before its own (the usual pauses)."""
STALE_RATE_COUNTERS = 4
"""Counters of older windows (longer pauses) are removed, in one more write, once this many are left."""


@dataclass(frozen=True, slots=True)
class Connection:
    """One open (or lately closed) WebSocket connection."""

    connection_id: str
    customer_id: str
    connected_at: float
    gone: bool = False
    principal: str | None = None
    expires_at: float | None = None
    protocol: str | None = None

    def token_expired(self, now: float) -> bool:
        """Whether the token the connection was opened with has expired at `now` (after the skew)."""
        return token_has_expired(self.expires_at, now)


class ConnectionStore:
    """Reads and writes the connections table."""

    def __init__(self, table_name: str, *, client: Any = None) -> None:
        if client is None:
            import boto3

            client = boto3.client("dynamodb")
        self.table_name = table_name
        self._client = client

    def add(
        self,
        connection_id: str,
        customer_id: str,
        principal: str | None = None,
        now: float | None = None,
        expires_at: float | None = None,
        protocol: str | None = None,
    ) -> Connection:
        """Record a new connection, who is behind it, until when their token is valid, and its protocol."""
        connected_at = time.time() if now is None else now
        identity: dict[str, Any] = {"principal": {"S": principal}} if principal else {}
        if expires_at:
            identity["expires_at"] = {"N": str(int(expires_at))}
        if protocol:
            identity["protocol"] = {"S": protocol}
        self._client.put_item(
            TableName=self.table_name,
            Item={
                **identity,
                "connection_id": {"S": connection_id},
                "customer_id": {"S": customer_id},
                "connected_at": {"N": str(int(connected_at))},
                "gone": {"BOOL": False},
                "ttl": {"N": str(int(connected_at) + MAX_CONNECTION_SECONDS + TTL_MARGIN_SECONDS)},
            },
        )
        return Connection(
            connection_id,
            customer_id,
            connected_at,
            principal=principal,
            expires_at=expires_at or None,
            protocol=protocol,
        )

    def get(self, connection_id: str) -> Connection | None:
        """The connection, or None when it is unknown."""
        item = self._client.get_item(
            TableName=self.table_name, Key={"connection_id": {"S": connection_id}}, ConsistentRead=True
        ).get("Item")
        return None if item is None else _connection(connection_id, item)

    def protocol(self, connection_id: str) -> str | None:
        """The wire protocol the connection chose (None: ours, or the connection is unknown)."""
        connection = self.get(connection_id)
        return connection.protocol if connection is not None else None

    def count_frame(
        self, connection_id: str, limit: int, window_seconds: int = 10, now: float | None = None
    ) -> tuple[Connection | None, bool]:
        """Count a frame in the connection's current window and read the connection: one conditional write.

        Returns the connection (None when it is unknown) and whether the frame is within `limit` frames per
        window. Each window counts in an attribute of its own (`rate_<window>`), so a new window needs no
        reset: `if_not_exists` starts it at 0, and the write removes the counters of the windows just
        before it. The item comes back with the write (`ALL_NEW`, or `ALL_OLD` when the limit is reached).
        Counters older than those (a frame after a long pause) are removed once a few have gathered.
        """
        from botocore.exceptions import ClientError

        window = int((time.time() if now is None else now) // window_seconds)
        older = {f"#p{back}": _rate_attribute(window - back) for back in range(1, RATE_WINDOWS_REMOVED + 1)}
        try:
            item = self._client.update_item(
                TableName=self.table_name,
                Key={"connection_id": {"S": connection_id}},
                UpdateExpression="SET #c = if_not_exists(#c, :zero) + :one REMOVE " + ", ".join(older),
                ConditionExpression="attribute_exists(connection_id) AND "
                "(attribute_not_exists(#c) OR #c < :limit)",
                ExpressionAttributeNames={"#c": _rate_attribute(window), **older},
                ExpressionAttributeValues={
                    ":zero": {"N": "0"},
                    ":one": {"N": "1"},
                    ":limit": {"N": str(limit)},
                },
                ReturnValues="ALL_NEW",
                ReturnValuesOnConditionCheckFailure="ALL_OLD",
            )["Attributes"]
        except ClientError as error:
            if error.response["Error"]["Code"] != "ConditionalCheckFailedException":
                raise
            old = error.response.get("Item")  # None: the condition failed on a missing item
            return (None if old is None else _connection(connection_id, old)), False
        stale = [name for name in item if name.startswith(RATE_PREFIX) and name != _rate_attribute(window)]
        if len(stale) >= STALE_RATE_COUNTERS:
            self._client.update_item(
                TableName=self.table_name,
                Key={"connection_id": {"S": connection_id}},
                UpdateExpression="REMOVE " + ", ".join(f"#s{index}" for index in range(len(stale))),
                ExpressionAttributeNames={f"#s{index}": name for index, name in enumerate(stale)},
            )
        return _connection(connection_id, item), True

    def mark_gone(self, connection_id: str) -> None:
        """Remember that API Gateway said the connection is gone (410); unknown connections stay unknown."""
        from botocore.exceptions import ClientError

        try:
            self._client.update_item(
                TableName=self.table_name,
                Key={"connection_id": {"S": connection_id}},
                UpdateExpression="SET gone = :gone",
                ConditionExpression="attribute_exists(connection_id)",
                ExpressionAttributeValues={":gone": {"BOOL": True}},
            )
        except ClientError as error:
            if error.response["Error"]["Code"] != "ConditionalCheckFailedException":
                raise

    def remove(self, connection_id: str) -> None:
        """Forget a closed connection."""
        self._client.delete_item(TableName=self.table_name, Key={"connection_id": {"S": connection_id}})


def _rate_attribute(window: int) -> str:
    return f"{RATE_PREFIX}{window}"


def _connection(connection_id: str, item: dict[str, Any]) -> Connection:
    return Connection(
        connection_id,
        item["customer_id"]["S"],
        float(item["connected_at"]["N"]),
        item.get("gone", {}).get("BOOL", False),
        item.get("principal", {}).get("S"),
        float(item["expires_at"]["N"]) if "expires_at" in item else None,
        item.get("protocol", {}).get("S"),
    )
