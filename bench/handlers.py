"""The real route handlers and worker under moto, in this process: the set-up of the benchmarks that count
their AWS calls (`bench.dynamodb_cost`, `bench.critical_path`)."""

from __future__ import annotations

import os
from typing import Any

from chat_runtime.aws import gateway, routes
from local_server.stack import Stack, create_stack
from support_agent.orders.dynamodb import DynamoDBOrderStore
from support_agent.orders.store import load_demo_orders
from tests.support.lambdas import REGION

ENVIRONMENT = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_DEFAULT_REGION": REGION,
    "AWS_REGION": REGION,
    "POWERTOOLS_TRACE_DISABLED": "true",
    "POWERTOOLS_METRICS_NAMESPACE": "Bench",
    "POWERTOOLS_LOG_LEVEL": "WARNING",
}


def handler_stack(session: Any, prefix: str) -> Stack:
    """The template's tables and queues (inside `moto.mock_aws()`), the demo orders in them, the message
    route handler's and the worker's environment set, and the handlers' cached clients forgotten."""
    stack = create_stack(session, prefix)
    DynamoDBOrderStore(stack.names["OrdersTable"], resource=session.resource("dynamodb")).put(
        load_demo_orders()
    )
    for function_id in ("MessageFunction", "AgentWorkerFunction"):
        os.environ.update(stack.environment(function_id))
    routes.default_route_deps.cache_clear()
    gateway.management_client.cache_clear()
    return stack
