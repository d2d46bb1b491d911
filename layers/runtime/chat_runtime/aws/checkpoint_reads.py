"""A checkpoint read from `DynamoDBSaver`'s table by id in one request, without its pending writes.

`DynamoDBSaver.get_tuple` makes three requests one after the other: the checkpoint's item (a query for the
latest, or a `GetItem` by id), its payload (a `GetItem`, or S3 for a big one) and its pending writes (a
query), all eventually consistent. A checkpoint the thread's session names has no pending writes
(`chat_runtime.checkpoint_cache`), and its id gives both keys, so one strongly consistent `BatchGetItem`
reads the item and its payload: a checkpoint another worker has just written is never missed.

The keys and the item's layout are those of langgraph-checkpoint-aws 1.2.6 (pinned), and the payload is
deserialized by the saver's own serializer; `tests/integration/test_aws_handed_on_session.py` holds the tuple
equal to `get_tuple`'s. Anything unexpected (keys left unprocessed, a payload elsewhere) goes through the
saver's repository instead.
"""

from __future__ import annotations

from typing import Any

from langchain_core.runnables import RunnableConfig
from langgraph.checkpoint.base import CheckpointTuple
from langgraph_checkpoint_aws.checkpoint.dynamodb.serialization import CompressionType
from langgraph_checkpoint_aws.checkpoint.dynamodb.unified_repository import (
    _checkpoint_pk,
    _checkpoint_ref_pk,
    _checkpoint_sk,
)

CHUNK = "CHUNK"
"""The sort key of a payload stored in the table itself."""


def reader_without_writes(saver: Any) -> Any:
    """`LatestCheckpoints`'s `read_without_writes` for `saver` (a `DynamoDBSaver`)."""
    repo = saver.repo

    def read(thread_id: str, checkpoint_id: str) -> CheckpointTuple | None:
        item_key = {"PK": {"S": _checkpoint_pk(thread_id)}, "SK": {"S": _checkpoint_sk("", checkpoint_id)}}
        payload_key = {"PK": {"S": _checkpoint_ref_pk(thread_id, "", checkpoint_id)}, "SK": {"S": CHUNK}}
        response = repo.dynamodb_client.batch_get_item(
            RequestItems={repo.table_name: {"Keys": [item_key, payload_key], "ConsistentRead": True}}
        )
        if response.get("UnprocessedKeys"):
            return _by_repository(repo, thread_id, checkpoint_id)
        items = response.get("Responses", {}).get(repo.table_name, [])
        item = next((i for i in items if i["SK"]["S"] != CHUNK), None)
        if item is None:
            return None
        chunk = next((i for i in items if i["SK"]["S"] == CHUNK), None)
        if item["ref_loc"]["S"] != "DYNAMODB" or chunk is None:
            payload = repo.storage.retrieve_data(item["ref_key"]["S"], item["ref_loc"]["S"])
        else:
            payload = chunk["payload"]["B"]
        if payload is None:
            return None
        compression = item.get("compression", {}).get("S")
        value = repo.serializer.deserialize(
            item["type"]["S"], payload, CompressionType(compression) if compression else None
        )
        return _tuple(thread_id, checkpoint_id, value, item.get("parent_checkpoint_id", {}).get("S"))

    return read


def _by_repository(repo: Any, thread_id: str, checkpoint_id: str) -> CheckpointTuple | None:
    found = repo.get_checkpoint(thread_id=thread_id, checkpoint_ns="", checkpoint_id=checkpoint_id)
    if not found:
        return None
    return _tuple(thread_id, checkpoint_id, found, found["parent_checkpoint_id"])


def _tuple(thread_id: str, checkpoint_id: str, value: Any, parent_id: str | None) -> CheckpointTuple:
    """The tuple `DynamoDBSaver.get_tuple` builds, with no pending writes."""
    config: RunnableConfig = {
        "configurable": {"thread_id": thread_id, "checkpoint_ns": "", "checkpoint_id": checkpoint_id}
    }
    parent: RunnableConfig | None = (
        {"configurable": {"thread_id": thread_id, "checkpoint_ns": "", "checkpoint_id": parent_id}}
        if parent_id
        else None
    )
    return CheckpointTuple(
        config=config,
        checkpoint=value["checkpoint"],
        metadata=value["metadata"],
        parent_config=parent,
        pending_writes=[],
    )
