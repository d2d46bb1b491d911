"""The WebSocket API as `template.yaml` declares it, and the events API Gateway sends for it.

Routes, the route selection expression and the `$connect` authorizer are read from the template's
`AWS::ApiGatewayV2::*` resources, not assumed; the events have the shape the recorded AWS events in
`tests/events/` have.
"""

from __future__ import annotations

import base64
import json
import secrets
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

from local_server.emulator.functions import REGION, referenced_function
from local_server.intrinsics import ACCOUNT_ID, Resolver

ROUTE_SELECTION_PREFIX = "$request.body."


@dataclass(frozen=True)
class WebSocketApiSpec:
    """Routes (route key -> function logical id), route selection, authorizer and stage of the API."""

    api_id: str
    stage: str
    selection_path: tuple[str, ...]
    routes: dict[str, str]
    authorizer: str | None

    @classmethod
    def from_template(cls, resolver: Resolver, api_id: str) -> WebSocketApiSpec:
        """Read the template's WebSocket API (the one `AWS::ApiGatewayV2::Api` with protocol WEBSOCKET)."""
        stack = resolver.stack
        [api_logical_id] = [
            logical_id
            for logical_id, api in stack.resources("AWS::ApiGatewayV2::Api").items()
            if api["Properties"].get("ProtocolType") == "WEBSOCKET"
        ]
        expression = str(
            stack.template["Resources"][api_logical_id]["Properties"]["RouteSelectionExpression"]
        )
        if not expression.startswith(ROUTE_SELECTION_PREFIX):
            raise ValueError(f"unsupported route selection expression {expression!r}")
        integrations = stack.resources("AWS::ApiGatewayV2::Integration")
        routes: dict[str, str] = {}
        authorizer = None
        for route in stack.resources("AWS::ApiGatewayV2::Route").values():
            properties = route["Properties"]
            target = properties["Target"]
            integration_id = str(target.get("Fn::Sub", target)).split("${", 1)[1].split("}", 1)[0]
            routes[properties["RouteKey"]] = referenced_function(
                integrations[integration_id]["Properties"]["IntegrationUri"]
            )
            if properties.get("AuthorizationType") == "CUSTOM":
                authorizer_id = properties["AuthorizerId"]["Ref"]
                authorizer_resource = stack.template["Resources"][authorizer_id]["Properties"]
                authorizer = referenced_function(authorizer_resource["AuthorizerUri"])
        [stage_resource] = stack.resources("AWS::ApiGatewayV2::Stage").values()
        stage = str(resolver.resolve(stage_resource["Properties"]["StageName"]))
        path = tuple(expression[len(ROUTE_SELECTION_PREFIX) :].split("."))
        return cls(api_id, stage, path, routes, authorizer)

    def select_route(self, body: str) -> str | None:
        """The route key a message selects (`$default` when its value names no route), or None (no route)."""
        try:
            value: Any = json.loads(body)
            for key in self.selection_path:
                value = value.get(key) if isinstance(value, dict) else None  # e.g. an AG-UI RunAgentInput
        except ValueError:
            value = None
        if isinstance(value, str) and value in self.routes and not value.startswith("$"):
            return value
        return "$default" if "$default" in self.routes else None


@dataclass
class Connection:
    """One client connection, as API Gateway tracks it."""

    connection_id: str = field(default_factory=lambda: base64.b64encode(secrets.token_bytes(11)).decode())
    source_ip: str = "127.0.0.1"
    user_agent: str = ""
    query: dict[str, str] = field(default_factory=dict)
    headers: dict[str, str] = field(default_factory=dict)
    authorizer: dict[str, Any] | None = None
    subprotocol: str | None = None
    """The subprotocol `$connect` accepted (its response's `Sec-WebSocket-Protocol` header)."""
    connected_at_ms: int = field(default_factory=lambda: int(time.time() * 1000))
    opened: float = field(default_factory=time.monotonic)
    last_active: float = field(default_factory=time.monotonic)


class EventFactory:
    """Builds the events API Gateway sends to the authorizer and the route integrations."""

    def __init__(self, spec: WebSocketApiSpec, domain_name: str) -> None:
        self.spec = spec
        self.domain_name = domain_name

    def _context(self, connection: Connection, route_key: str, event_type: str) -> dict[str, Any]:
        now = time.time()
        request_id = base64.b64encode(secrets.token_bytes(9)).decode()
        context: dict[str, Any] = {
            "routeKey": route_key,
            "eventType": event_type,
            "extendedRequestId": request_id,
            "requestTime": time.strftime("%d/%b/%Y:%H:%M:%S +0000", time.gmtime(now)),
            "messageDirection": "IN",
            "stage": self.spec.stage,
            "connectedAt": connection.connected_at_ms,
            "requestTimeEpoch": int(now * 1000),
            "identity": {"sourceIp": connection.source_ip, "userAgent": connection.user_agent},
            "requestId": request_id,
            "domainName": self.domain_name,
            "connectionId": connection.connection_id,
            "apiId": self.spec.api_id,
        }
        if connection.authorizer is not None:
            context["authorizer"] = connection.authorizer
        return context

    def _request(self, connection: Connection) -> dict[str, Any]:
        return {
            "headers": dict(connection.headers),
            "multiValueHeaders": {key: [value] for key, value in connection.headers.items()},
            "queryStringParameters": dict(connection.query) or None,
            "multiValueQueryStringParameters": {k: [v] for k, v in connection.query.items()} or None,
        }

    def authorizer(self, connection: Connection) -> dict[str, Any]:
        """The REQUEST authorizer's event for a connection attempt."""
        arn = f"arn:aws:execute-api:{REGION}:{ACCOUNT_ID}:{self.spec.api_id}/{self.spec.stage}/$connect"
        return {
            "type": "REQUEST",
            "methodArn": arn,
            **self._request(connection),
            "stageVariables": {},
            "requestContext": self._context(connection, "$connect", "CONNECT"),
        }

    def connect(self, connection: Connection) -> dict[str, Any]:
        """The `$connect` route's event."""
        return {
            **self._request(connection),
            "requestContext": self._context(connection, "$connect", "CONNECT"),
            "isBase64Encoded": False,
        }

    def message(self, connection: Connection, route_key: str, body: str) -> dict[str, Any]:
        """A MESSAGE event for the selected route."""
        context = self._context(connection, route_key, "MESSAGE")
        context["messageId"] = base64.b64encode(uuid.uuid4().bytes[:9]).decode()
        return {"requestContext": context, "body": body, "isBase64Encoded": False}

    def disconnect(self, connection: Connection, status_code: int, reason: str) -> dict[str, Any]:
        """The `$disconnect` route's event."""
        context = self._context(connection, "$disconnect", "DISCONNECT")
        context["disconnectStatusCode"] = status_code
        context["disconnectReason"] = reason
        headers = {"Host": self.domain_name, "x-api-key": "", "x-restapi": ""}
        return {
            "headers": headers,
            "multiValueHeaders": {key: [value] for key, value in headers.items()},
            "requestContext": context,
            "isBase64Encoded": False,
        }


def authorizer_context(result: Any) -> dict[str, Any] | None:
    """The `requestContext.authorizer` an authorizer's response grants, or None when it denies."""
    if not isinstance(result, dict):
        return None
    statements = result.get("policyDocument", {}).get("Statement", [])
    if not statements or any(s.get("Effect") != "Allow" for s in statements):
        return None
    context = dict(result.get("context") or {})
    context["principalId"] = result.get("principalId")
    return context
