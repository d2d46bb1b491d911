"""The connections table: who is behind each API Gateway connection, and whether it is still there.

Item: `connection_id` (partition key), `principal`, `customer_id` and `expires_at` (the token's `exp`, from
the authorizer), `connected_at`, `gone` (bool), `ttl` (DynamoDB TTL, just past API Gateway's two-hour
connection limit), and `protocol` when the connection chose another wire protocol than ours (`ag-ui`).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from chat_runtime.auth import token_has_expired

MAX_CONNECTION_SECONDS = 2 * 3600
TTL_MARGIN_SECONDS = 600


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
        if item is None:
            return None
        return Connection(
            connection_id,
            item["customer_id"]["S"],
            float(item["connected_at"]["N"]),
            item.get("gone", {}).get("BOOL", False),
            item.get("principal", {}).get("S"),
            float(item["expires_at"]["N"]) if "expires_at" in item else None,
            item.get("protocol", {}).get("S"),
        )

    def allow_frame(
        self, connection_id: str, limit: int, window_seconds: int = 10, now: float | None = None
    ) -> bool:
        """Count a frame in the connection's current window; False once `limit` frames were counted there.

        One conditional write per frame: the window is reset or the count raised atomically.
        """
        from botocore.exceptions import ClientError

        window = int((time.time() if now is None else now) // window_seconds)
        key = {"connection_id": {"S": connection_id}}
        values = {":w": {"N": str(window)}, ":one": {"N": "1"}, ":limit": {"N": str(limit)}}
        try:
            self._client.update_item(
                TableName=self.table_name,
                Key=key,
                UpdateExpression="SET rate_count = rate_count + :one",
                ConditionExpression="rate_window = :w AND rate_count < :limit",
                ExpressionAttributeValues=values,
            )
            return True
        except ClientError as error:
            if error.response["Error"]["Code"] != "ConditionalCheckFailedException":
                raise
        try:
            self._client.update_item(
                TableName=self.table_name,
                Key=key,
                UpdateExpression="SET rate_window = :w, rate_count = :one",
                ConditionExpression="attribute_exists(connection_id) AND "
                "(attribute_not_exists(rate_window) OR rate_window <> :w)",
                ExpressionAttributeValues={":w": values[":w"], ":one": values[":one"]},
            )
            return True
        except ClientError as error:
            if error.response["Error"]["Code"] != "ConditionalCheckFailedException":
                raise
            return False

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
