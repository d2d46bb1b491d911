"""The emulated API Gateway's rules, with stand-in functions: route selection, timeouts, errors, denial."""

from __future__ import annotations

import json
import time
from typing import Any

import pytest
from starlette.testclient import TestClient, WebSocketDenialResponse

from local_server.emulator.api import EventFactory, WebSocketApiSpec, authorizer_context
from local_server.emulator.gateway import Gateway, GatewayLimits, create_gateway_app
from local_server.intrinsics import Resolver
from local_server.stack import Stack, load_template

SPEC = WebSocketApiSpec(
    api_id="api",
    stage="dev",
    selection_path=("type",),
    routes={
        "$connect": "Connect",
        "$default": "Default",
        "slow": "Slow",
        "broken": "Broken",
        "$disconnect": "Bye",
    },
    authorizer="Authorizer",
)


class Functions:
    """Stand-ins for the Lambda handlers; records each invocation's route and event type."""

    def __init__(self, allow: bool = True) -> None:
        self.allow = allow
        self.calls: list[tuple[str, str]] = []

    def invoke(self, logical_id: str, event: dict[str, Any]) -> Any:
        self.calls.append((logical_id, event.get("requestContext", {}).get("eventType", "")))
        if logical_id == "Authorizer":
            effect = "Allow" if self.allow else "Deny"
            return {
                "principalId": "alice",
                "policyDocument": {"Statement": [{"Effect": effect}]},
                "context": {"principal": "alice"},
            }
        if logical_id == "Slow":
            time.sleep(1.0)
        if logical_id == "Broken":
            raise RuntimeError("boom")
        return {"statusCode": 200}


def client(functions: Functions, limits: GatewayLimits | None = None) -> TestClient:
    gateway = Gateway(SPEC, functions, EventFactory(SPEC, "localhost"), limits or GatewayLimits())
    return TestClient(create_gateway_app(gateway))


def test_routes_are_selected_by_the_body_type_else_default() -> None:
    assert SPEC.select_route('{"type": "slow"}') == "slow"
    assert SPEC.select_route('{"type": "message"}') == "$default"
    assert SPEC.select_route('{"type": "$connect"}') == "$default"  # special routes are never selected
    assert SPEC.select_route("not json") == "$default"


def test_the_templates_api_is_read_from_its_resources() -> None:
    spec = WebSocketApiSpec.from_template(Resolver(Stack(load_template())), "api")
    assert spec.stage == "dev" and spec.selection_path == ("type",)
    assert spec.routes == {
        "$connect": "ConnectFunction",
        "$disconnect": "DisconnectFunction",
        "$default": "MessageFunction",
        "interrupt_response": "InterruptResponseFunction",
    }
    assert spec.authorizer == "AuthorizerFunction"


def test_an_integration_over_its_timeout_and_a_failing_one_answer_as_api_gateway_does() -> None:
    functions = Functions()
    with client(functions, GatewayLimits(integration_timeout_seconds=0.2)) as test:
        with test.websocket_connect("/dev") as ws:
            ws.send_text(json.dumps({"type": "slow"}))
            assert ws.receive_json()["message"] == "Endpoint request timed out"
            ws.send_text(json.dumps({"type": "broken"}))
            failed = ws.receive_json()
            assert (
                failed["message"] == "Internal server error"
                and failed["connectionId"]
                and failed["requestId"]
            )
        # `$disconnect` runs after the close, as on AWS: wait for it while the gateway still runs (leaving the
        # client first would stop the app before the abandoned slow invocation's thread lets it through).
        deadline = time.monotonic() + 5
        while ("Bye", "DISCONNECT") not in functions.calls and time.monotonic() < deadline:
            time.sleep(0.02)
    assert [call[0] for call in functions.calls][:2] == ["Authorizer", "Connect"]
    assert ("Bye", "DISCONNECT") in functions.calls


def test_a_denying_authorizer_refuses_the_handshake() -> None:
    with (
        client(Functions(allow=False)) as test,
        pytest.raises(WebSocketDenialResponse) as denied,
        test.websocket_connect("/ws"),
    ):
        pass
    assert denied.value.status_code == 403
    assert authorizer_context({"policyDocument": {"Statement": []}}) is None
