"""Watching the AWS calls a test makes happen, and telling which DynamoDB calls read a checkpoint.

`watching_calls` shows a callback every call botocore makes in this process. A thread's checkpoints are in
the partition `THREAD#{thread}` (`chat_runtime.aws.thread_saver.layout`), read with one `Query`; a thread
stored in the previous layout has the partition key `CHECKPOINT_{thread}` (`DynamoDBSaver`'s, read through
it: a query or an item by id). Payload (`CHUNK_…`) and pending-writes (`WRITES_…`) reads of that layout are
parts of a checkpoint read, not reads of their own.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from typing import Any

PREFIXES = ("THREAD#", "CHECKPOINT_")


@contextlib.contextmanager
def watching_calls(on_call: Callable[[Any, str, dict[str, Any]], None]) -> Iterator[None]:
    """Call `on_call(client, operation, params)` before each AWS call botocore makes until the block ends."""
    import botocore.client

    original = botocore.client.BaseClient._make_api_call

    def watched(client: Any, operation: str, params: dict[str, Any]) -> Any:
        on_call(client, operation, params)
        return original(client, operation, params)

    botocore.client.BaseClient._make_api_call = watched
    try:
        yield
    finally:
        botocore.client.BaseClient._make_api_call = original


def is_dynamodb(client: Any) -> bool:
    """Whether a botocore client is DynamoDB's."""
    return bool(client.meta.service_model.service_name == "dynamodb")


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
        for prefix in PREFIXES:
            if partition.startswith(prefix):
                return partition[len(prefix) :]
    return None
