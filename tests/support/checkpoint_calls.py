"""Which DynamoDB calls read a checkpoint (`DynamoDBSaver`'s table layout, langgraph-checkpoint-aws 1.2.6).

A checkpoint's item has the partition key `CHECKPOINT_{thread}`: the saver queries that partition for the
latest, or gets one item by id; the worker reads a named one with its payload in a `BatchGetItem`
(`chat_runtime.aws.checkpoint_reads`). Payload (`CHUNK_…`) and pending-writes (`WRITES_…`) reads are parts
of a checkpoint read, not reads of their own.
"""

from __future__ import annotations

from typing import Any

PREFIX = "CHECKPOINT_"


def checkpoint_read(operation: str, params: dict[str, Any]) -> str | None:
    """The thread (storage key) whose checkpoint a DynamoDB call reads, or None for any other call."""
    keys: list[dict[str, Any]] = []
    if operation == "GetItem":
        keys = [params.get("Key", {})]
    elif operation == "BatchGetItem":
        keys = [key for request in params.get("RequestItems", {}).values() for key in request.get("Keys", [])]
    elif operation == "Query":
        keys = [{"PK": params.get("ExpressionAttributeValues", {}).get(":pk", {})}]
    for key in keys:
        partition = str(key.get("PK", {}).get("S", ""))
        if partition.startswith(PREFIX):
            return partition[len(PREFIX) :]
    return None
