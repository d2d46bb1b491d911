"""API Gateway's connection management API: clients per endpoint, and direct posts for route handlers."""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Iterable
from functools import lru_cache
from typing import Any

logger = logging.getLogger(__name__)

GONE_CODES = frozenset({"GoneException"})
THROTTLE_CODES = frozenset(
    {
        "LimitExceededException",
        "TooManyRequestsException",
        "ThrottlingException",
        "ProvisionedThroughputExceededException",
        "RequestLimitExceeded",
    }
)


def error_code(error: BaseException) -> str | None:
    """The AWS error code of a botocore `ClientError`, else None."""
    response = getattr(error, "response", None)
    return response.get("Error", {}).get("Code") if isinstance(response, dict) else None


def endpoint_url(domain_name: str, stage: str) -> str:
    """The management endpoint of a WebSocket API stage, as the route events name it.

    `MANAGEMENT_API_URL` (set by the local emulator, never on AWS) replaces `https://{domain_name}`.
    """
    base = os.environ.get("MANAGEMENT_API_URL") or f"https://{domain_name}"
    return f"{base.rstrip('/')}/{stage}"


@lru_cache(maxsize=8)
def management_client(endpoint: str) -> Any:
    """A (cached) `apigatewaymanagementapi` client for `endpoint`."""
    import boto3

    return boto3.client("apigatewaymanagementapi", endpoint_url=endpoint, config=client_config(POST))


def post_texts(
    client: Any, connection_id: str, texts: Iterable[str], attempts: int = 4, delay: float = 0.05
) -> bool:
    """Post texts (frames already encoded for the connection's protocol) in order from a route handler;
    False when the connection is gone.

    A failed post (throttled, 5xx, timed out) is tried again, `attempts` times in all; after that the error
    propagates to the caller.
    """
    for text in texts:
        data = text.encode()
        for attempt in range(attempts):
            try:
                client.post_to_connection(ConnectionId=connection_id, Data=data)
                break
            except Exception as error:
                if error_code(error) in GONE_CODES:
                    return False
                if attempt + 1 == attempts:
                    raise
                time.sleep(delay * 2**attempt)
    return True


ROUTE = "route"
WORKER = "worker"
POST = "post"


def client_config(role: str) -> Any:
    """The botocore retry and timeout settings of each caller (docs/performance.md has what they absorb).

    - `route`: a route handler answers well inside its 10 s Lambda timeout and API Gateway's 29 s, so three
      attempts (standard mode: exponential backoff with jitter, retrying throttles, 5xx and timeouts) with
      1 s to connect and 2 s to read; what is left is answered with `service_busy`.
    - `worker`: the worker has 120 s; adaptive mode adds client-side rate limiting under sustained
      throttling, five attempts, 2 s to connect, 10 s to read (a checkpoint write can be large).
    - `post`: `post_to_connection` is retried by the sender itself (throttles with backoff, 410 never), so
      botocore makes two attempts, 1 s to connect, 3 s to read.
    """
    from botocore.config import Config

    if role == WORKER:
        return Config(
            retries={"mode": "adaptive", "total_max_attempts": 5}, connect_timeout=2, read_timeout=10
        )
    if role == POST:
        return Config(
            retries={"mode": "standard", "total_max_attempts": 2}, connect_timeout=1, read_timeout=3
        )
    return Config(retries={"mode": "standard", "total_max_attempts": 3}, connect_timeout=1, read_timeout=2)
