"""How AG-UI is chosen at connect on the AWS path: the emulated API Gateway's handshake and route selection,
and the route handlers' imports (they must stay light)."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from starlette.testclient import TestClient

from local_server.emulator.api import EventFactory, WebSocketApiSpec
from local_server.emulator.gateway import Gateway, GatewayLimits, create_gateway_app

ROOT = Path(__file__).resolve().parents[2]
SPEC = WebSocketApiSpec(
    api_id="api",
    stage="dev",
    selection_path=("type",),
    routes={"$connect": "Connect", "$default": "Default", "interrupt_response": "Answer"},
    authorizer=None,
)


class Functions:
    """`$connect` accepts the `ag-ui` subprotocol when asked for it, as `chat_runtime.aws.routes` does."""

    def __init__(self) -> None:
        self.events: list[tuple[str, dict[str, Any]]] = []

    def invoke(self, logical_id: str, event: dict[str, Any]) -> Any:
        self.events.append((logical_id, event))
        asked = event.get("headers", {}).get("Sec-Websocket-Protocol", "")
        if logical_id == "Connect" and "ag-ui" in asked:
            return {"statusCode": 200, "headers": {"Sec-WebSocket-Protocol": "ag-ui"}}
        return {"statusCode": 200}


def gateway_client(functions: Functions) -> TestClient:
    gateway = Gateway(SPEC, functions, EventFactory(SPEC, "localhost"), GatewayLimits())
    return TestClient(create_gateway_app(gateway))


def test_the_handshake_answers_the_subprotocol_connect_accepted_and_passes_the_header_to_it() -> None:
    functions = Functions()
    with gateway_client(functions) as test:
        with test.websocket_connect("/dev", subprotocols=["ag-ui"]) as ws:
            assert ws.accepted_subprotocol == "ag-ui"
        with test.websocket_connect("/dev") as plain:
            assert plain.accepted_subprotocol is None
    connects = [event for name, event in functions.events if name == "Connect"]
    assert connects[0]["headers"]["Sec-Websocket-Protocol"] == "ag-ui"


def test_a_frame_without_a_type_goes_to_default_as_api_gateway_routes_it() -> None:
    """A RunAgentInput has no `type`: API Gateway's `$request.body.type` finds nothing and picks `$default`
    (the emulator raised KeyError and closed the socket)."""
    assert SPEC.select_route(json.dumps({"threadId": "t1", "runId": "r1", "messages": []})) == "$default"
    assert SPEC.select_route(json.dumps({"type": "interrupt_response"})) == "interrupt_response"
    functions = Functions()
    with gateway_client(functions) as test, test.websocket_connect("/dev", subprotocols=["ag-ui"]) as ws:
        ws.send_text(json.dumps({"threadId": "t1", "runId": "r1", "messages": []}))
        ws.send_text(json.dumps({"type": "interrupt_response"}))
        deadline = time.monotonic() + 5
        while len(routed(functions)) < 2 and time.monotonic() < deadline:
            time.sleep(0.02)
    assert routed(functions)[:2] == ["$default", "interrupt_response"]


def routed(functions: Functions) -> list[str]:
    return [event["requestContext"]["routeKey"] for name, event in functions.events if name != "Connect"]


def test_the_route_handlers_do_not_load_ag_ui_models_until_an_ag_ui_frame_comes() -> None:
    """`ag_ui.core` builds its pydantic models on import (about 0.3 s here): our-protocol traffic and
    `$connect` never pay for it."""
    code = f"""
import importlib.util, json, sys
for folder in ("connect", "message", "interrupt_response", "dead_letters"):
    spec = importlib.util.spec_from_file_location(folder, {str(ROOT / "functions")!r} + f"/{{folder}}/app.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
from chat_runtime.agui import codec_for
codec_for("ag-ui").decode('{{"type": "cancel", "thread_id": "t1"}}')
before = "ag_ui.core" in sys.modules
codec_for("ag-ui").decode('{{"threadId": "t1", "runId": "r1", "messages": []}}')
print(json.dumps([before, "ag_ui.core" in sys.modules]))
"""
    env = {"CONNECTIONS_TABLE": "c", "SESSIONS_TABLE": "s", "AWS_DEFAULT_REGION": "us-east-1", "PATH": ""}
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True)
    assert json.loads(result.stdout.strip().splitlines()[-1]) == [False, True]
