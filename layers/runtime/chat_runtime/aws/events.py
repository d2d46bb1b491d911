"""The WebSocket message event as the client-frame route handlers read it (`$default`, `interrupt_response`).

Powertools' `APIGatewayWebSocketMessageEventModel` requires every field of the request context, some of which
API Gateway may leave out (`identity`, `extendedRequestId`, `messageId`, `connectedAt`, ...) and none of which
the handlers use: a frame would then be refused by the parser, never answered. This model holds only what the
handlers read (the connection, the request id, where to post back, and the body) and ignores the rest.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class MessageRequestContext(BaseModel):
    """The request context fields a route handler needs to answer on the connection and queue the turn."""

    model_config = ConfigDict(populate_by_name=True, extra="ignore")

    connection_id: str = Field(alias="connectionId", min_length=1)
    request_id: str = Field(alias="requestId", min_length=1)
    domain_name: str = Field(alias="domainName", min_length=1)
    stage: str = Field(alias="stage", min_length=1)
    authorizer: dict[str, Any] | None = Field(None, alias="authorizer")
    """What the `$connect` authorizer granted; API Gateway repeats it on every message of the connection."""


class MessageEvent(BaseModel):
    """A client frame's event: its request context, and the body (base64 when `isBase64Encoded`)."""

    model_config = ConfigDict(populate_by_name=True, extra="ignore")

    request_context: MessageRequestContext = Field(alias="requestContext")
    is_base64_encoded: bool = Field(False, alias="isBase64Encoded")
    body: str | None = Field(None, alias="body")
