"""The local server on DynamoDB: the AWS persistence path (sessions, checkpoints, orders) with a real client.

Point it at `moto_server`, DynamoDB Local or a test account; missing tables are created from `template.yaml`
and the demo orders are seeded once.
"""

from __future__ import annotations

from typing import Any

from chat_runtime.aws.dynamodb_sessions import DynamoDBSessionManager
from support_agent.settings import Settings


def dynamodb_backend(
    settings: Settings, endpoint_url: str | None, prefix: str
) -> tuple[Any, DynamoDBSessionManager]:
    """The support graph and sessions on the template's tables (created when missing).

    Returns:
        The compiled graph (checkpoints in DynamoDB, one partition per thread) and the session manager.
    """
    import boto3

    from chat_runtime.aws.thread_saver import expire_for, thread_saver
    from chat_runtime.graphs import configured_graph
    from chat_runtime.turns import DEFAULT_MAX_TURN_SECONDS
    from local_server.stack import create_stack
    from support_agent.factory import build_chat_model
    from support_agent.graph import build_support_graph
    from support_agent.orders.dynamodb import DynamoDBOrderStore
    from support_agent.orders.store import load_demo_orders

    stack = create_stack(boto3.Session(), prefix, endpoint_url=endpoint_url)
    orders = DynamoDBOrderStore(stack.names["OrdersTable"], endpoint_url=endpoint_url)
    if not orders.list_for_customer(settings.demo_customer_id):
        orders.put(load_demo_orders(settings.demo_orders_path))
    checkpointer = thread_saver(
        stack.names["CheckpointsTable"],
        bucket=stack.names["CheckpointBucket"],
        endpoint_url=endpoint_url,
        s3_endpoint_url=endpoint_url,
    )
    sessions = DynamoDBSessionManager(
        stack.names["SessionsTable"],
        settings.session_ttl_seconds,
        client=boto3.client("dynamodb", endpoint_url=endpoint_url),
    )
    graph = configured_graph(checkpointer) or build_support_graph(
        build_chat_model(settings), orders, checkpointer
    )
    expire_for(checkpointer, graph, settings.session_ttl_seconds, DEFAULT_MAX_TURN_SECONDS)
    return graph, sessions
