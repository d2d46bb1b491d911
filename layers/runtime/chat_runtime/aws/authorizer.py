"""The `$connect` REQUEST authorizer: verify the `token` query parameter, pass the principal on.

API Gateway caches nothing here (the identity source is the token itself) and hands the returned context
to the connect handler as `requestContext.authorizer`. Any failure denies the connection (401); the token
itself is never logged.
"""

from __future__ import annotations

import logging
from typing import Any

from chat_runtime.auth import AuthError, TokenVerifier

logger = logging.getLogger(__name__)


class Unauthorized(Exception):
    """Raised with the message API Gateway maps to 401."""

    def __init__(self) -> None:
        super().__init__("Unauthorized")


def authorize(event: dict[str, Any], verifier: TokenVerifier | None) -> dict[str, Any]:
    """An Allow policy for the connection's routes with the principal as context, or `Unauthorized`."""
    from aws_lambda_powertools.utilities.data_classes.api_gateway_authorizer_event import (
        APIGatewayAuthorizerResponseWebSocket,
    )

    if verifier is None:
        logger.error(
            "no JWT_SECRET, JWT_SECRET_PARAMETER or JWKS_URL configured: every connection is refused"
        )
        raise Unauthorized
    token = (event.get("queryStringParameters") or {}).get("token")
    try:
        principal = verifier.verify(token)
    except AuthError as error:
        logger.info("denied a connection: %s", error)
        raise Unauthorized from None
    response = APIGatewayAuthorizerResponseWebSocket.from_route_arn(
        event["methodArn"],
        principal_id=principal.subject,
        context={
            "principal": principal.subject,
            "customer_id": principal.customer_id,
            "expires_at": int(principal.expires_at or 0),
        },
    )
    response.allow_all_routes()
    result: dict[str, Any] = response.asdict()
    return result
