"""The saver the worker and the local server's DynamoDB backend run."""

from __future__ import annotations

from typing import Any

from chat_runtime.aws.thread_saver.saver import DynamoDBThreadSaver, item_ttl_seconds
from chat_runtime.aws.thread_saver.table import ThreadTable


def thread_saver(
    table_name: str,
    *,
    bucket: str | None = None,
    endpoint_url: str | None = None,
    s3_endpoint_url: str | None = None,
    ttl_seconds: int | None = None,
    boto_config: Any = None,
    client: Any = None,
) -> DynamoDBThreadSaver:
    """A `DynamoDBThreadSaver` on `table_name`, reading threads of the previous layout through
    `langgraph_checkpoint_aws.DynamoDBSaver` (built, and imported, only when a thread needs it).

    Args:
        table_name: The checkpoints table.
        bucket: Where `DynamoDBSaver` offloaded checkpoints over 350 KB (the previous layout's threads).
        endpoint_url: DynamoDB's endpoint (moto, DynamoDB Local); None: AWS.
        s3_endpoint_url: S3's endpoint, for `bucket`.
        ttl_seconds: Items expire this long after they are written.
        boto_config: botocore `Config` for the clients (timeouts, retries).
        client: A DynamoDB client to use (built from the above when None).
    """
    import boto3

    dynamodb = client or boto3.client("dynamodb", endpoint_url=endpoint_url, config=boto_config)

    def previous_layout() -> Any:
        from langgraph_checkpoint_aws import DynamoDBSaver

        return DynamoDBSaver(
            table_name=table_name,
            endpoint_url=endpoint_url,
            boto_config=boto_config,
            ttl_seconds=ttl_seconds,
            enable_checkpoint_compression=True,
            s3_offload_config={"bucket_name": bucket, "endpoint_url": s3_endpoint_url} if bucket else None,
        )

    return DynamoDBThreadSaver(
        ThreadTable(dynamodb, table_name), ttl_seconds=ttl_seconds, legacy=previous_layout
    )


def expire_for(
    saver: DynamoDBThreadSaver, graph: Any, session_ttl_seconds: int, max_turn_seconds: float
) -> None:
    """Give `saver`'s items the lifetime `graph`'s threads need (`item_ttl_seconds`); none without a TTL."""
    from chat_runtime.delta_lineage import history_turns

    if session_ttl_seconds:
        saver.ttl_seconds = item_ttl_seconds(session_ttl_seconds, history_turns(graph), max_turn_seconds)
