"""The emulated API Gateway: WebSocket connections in, route handlers invoked, the management API out.

What AWS enforces and the emulator enforces too: the authorizer and `$connect` decide the handshake (401 /
403) and the subprotocol it answers (the `Sec-WebSocket-Protocol` header of `$connect`'s response), one
integration runs at most 29 s (the client then gets API Gateway's "Endpoint request timed out"), messages
over 128 KB close the connection (1009), idle connections close after 10 minutes and every connection after
2 hours (both configurable), and posts to a closed connection answer 410 `GoneException`.
"""

from __future__ import annotations

import asyncio
import ipaddress
import json
import logging
import time
from collections.abc import Coroutine
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, NamedTuple

import anyio.to_thread
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Mount, Route, WebSocketRoute
from starlette.staticfiles import StaticFiles
from starlette.websockets import WebSocket, WebSocketDisconnect

from local_server.app import STATIC, chat_page
from local_server.emulator.api import Connection, EventFactory, WebSocketApiSpec, authorizer_context
from local_server.emulator.functions import Invokes
from local_server.page_config import page_config

logger = logging.getLogger(__name__)

MAX_POST_BYTES = 128 * 1024


@dataclass(frozen=True)
class GatewayLimits:
    """API Gateway's quotas for WebSocket APIs (the defaults are AWS's)."""

    integration_timeout_seconds: float = 29.0
    idle_timeout_seconds: float = 600.0
    max_connection_seconds: float = 7200.0


class LiveSocket(NamedTuple):
    """An open connection: what API Gateway knows of it, its socket, and the event loop serving it."""

    connection: Connection
    websocket: WebSocket
    loop: asyncio.AbstractEventLoop

    async def run(self, action: Coroutine[Any, Any, None]) -> None:
        """Run `action` on the loop serving the socket (a test client may serve it on another loop than
        the management API's)."""
        if self.loop is asyncio.get_running_loop():
            await action
        else:
            await asyncio.wrap_future(asyncio.run_coroutine_threadsafe(action, self.loop))


class Gateway:
    """Live connections and the handlers they reach."""

    def __init__(self, spec: WebSocketApiSpec, invoker: Invokes, events: EventFactory, limits: GatewayLimits):
        self.spec = spec
        self.invoker = invoker
        self.events = events
        self.limits = limits
        self.sockets: dict[str, LiveSocket] = {}

    async def call(self, logical_id: str, event: dict[str, Any], limit_seconds: float | None = None) -> Any:
        """Invoke a function in a worker thread; `TimeoutError` when it outlives `limit_seconds`."""
        work = anyio.to_thread.run_sync(self.invoker.invoke, logical_id, event, abandon_on_cancel=True)
        return await asyncio.wait_for(work, limit_seconds) if limit_seconds else await work

    async def serve(self, websocket: WebSocket) -> None:
        """One client connection, from the handshake to `$disconnect`."""
        connection = Connection(
            source_ip=_source_ip(websocket),
            user_agent=websocket.headers.get("user-agent", ""),
            query=dict(websocket.query_params),
            headers={key.title(): value for key, value in websocket.headers.items()},
        )
        denied = await self._handshake(connection)
        if denied is not None:
            await websocket.send_denial_response(Response(status_code=denied))
            return
        await websocket.accept(subprotocol=connection.subprotocol)
        self.sockets[connection.connection_id] = LiveSocket(connection, websocket, asyncio.get_running_loop())
        watchdog = asyncio.create_task(self._watch(connection, websocket))
        status = 1005
        try:
            while True:
                message = await websocket.receive()
                if message["type"] == "websocket.disconnect":
                    status = int(message.get("code") or 1005)
                    break
                text = message.get("text")
                if text is None:
                    text = (message.get("bytes") or b"").decode(errors="replace")
                connection.last_active = time.monotonic()
                await self._route(connection, websocket, text)
        except WebSocketDisconnect as disconnect:
            status = disconnect.code
        finally:
            watchdog.cancel()
            self.sockets.pop(connection.connection_id, None)
            await self._disconnected(connection, status)

    async def _disconnected(self, connection: Connection, status: int) -> None:
        disconnect_function = self.spec.routes.get("$disconnect")
        if not disconnect_function:
            return
        reason = f"Client-side close frame status code '{status}'"
        try:
            # API Gateway invokes `$disconnect` whatever becomes of the socket: a server shutting down (or a
            # test client leaving) cancels this task, not the invocation.
            await asyncio.shield(
                self.call(disconnect_function, self.events.disconnect(connection, status, reason))
            )
        except Exception:
            logger.exception("$disconnect failed for %s", connection.connection_id)

    async def _handshake(self, connection: Connection) -> int | None:
        """None when the connection may open, else the HTTP status API Gateway answers the upgrade with."""
        if self.spec.authorizer is not None:
            try:
                result = await self.call(self.spec.authorizer, self.events.authorizer(connection), 30)
            except Exception as error:  # the authorizer raised: "Unauthorized" is API Gateway's 401
                logger.info("authorizer refused a connection: %s", error)
                return 401
            context = authorizer_context(result)
            if context is None:
                return 403
            connection.authorizer = context
        connect_function = self.spec.routes.get("$connect")
        if connect_function:
            try:
                response = await self.call(
                    connect_function, self.events.connect(connection), self.limits.integration_timeout_seconds
                )
            except Exception:
                logger.exception("$connect failed")
                return 500
            status = int(response.get("statusCode", 200)) if isinstance(response, dict) else 200
            if not 200 <= status < 300:
                return status
            connection.subprotocol = _accepted_subprotocol(response)
        return None

    async def _route(self, connection: Connection, websocket: WebSocket, body: str) -> None:
        route_key = self.spec.select_route(body)
        event = self.events.message(connection, route_key or "$default", body)
        request_id = event["requestContext"]["requestId"]
        if route_key is None:
            await self._gateway_error(websocket, "Forbidden", connection, request_id)
            return
        try:
            await self.call(self.spec.routes[route_key], event, self.limits.integration_timeout_seconds)
        except TimeoutError:
            logger.error("route %s ran over %s s", route_key, self.limits.integration_timeout_seconds)
            await self._gateway_error(websocket, "Endpoint request timed out", connection, request_id)
        except Exception:
            logger.exception("route %s failed", route_key)
            await self._gateway_error(websocket, "Internal server error", connection, request_id)

    async def _gateway_error(
        self, websocket: WebSocket, message: str, connection: Connection, request_id: str
    ) -> None:
        frame = {"message": message, "connectionId": connection.connection_id, "requestId": request_id}
        await websocket.send_text(json.dumps(frame))

    async def _watch(self, connection: Connection, websocket: WebSocket) -> None:
        """Close the connection when it idles too long or reaches the connection duration limit."""
        limits = self.limits
        while True:
            now = time.monotonic()
            idle_left = limits.idle_timeout_seconds - (now - connection.last_active)
            life_left = limits.max_connection_seconds - (now - connection.opened)
            if idle_left <= 0 or life_left <= 0:
                why = "idle timeout" if idle_left <= 0 else "maximum connection duration"
                logger.info("closing %s: %s", connection.connection_id, why)
                await websocket.close(code=1001, reason="Going away")
                return
            await asyncio.sleep(min(idle_left, life_left, 1.0))

    # ------------------------------------------------------------------ the management API

    async def post(self, request: Request) -> Response:
        """`POST @connections/{id}`: the data, as one text message to the client."""
        live = self.sockets.get(request.path_params["connection_id"])
        if live is None:
            return _gone()
        data = await request.body()
        if len(data) > MAX_POST_BYTES:
            return _aws_error(413, "PayloadTooLargeException", "Message too long")
        live.connection.last_active = time.monotonic()
        try:
            await live.run(live.websocket.send_text(data.decode()))
        except (RuntimeError, WebSocketDisconnect):
            return _gone()
        return Response(status_code=200)

    async def describe(self, request: Request) -> Response:
        """`GET @connections/{id}`."""
        live = self.sockets.get(request.path_params["connection_id"])
        if live is None:
            return _gone()
        connection = live.connection
        last_active = time.time() - (time.monotonic() - connection.last_active)
        return JSONResponse(
            {
                "connectedAt": _iso(connection.connected_at_ms / 1000),
                "identity": {"sourceIp": connection.source_ip, "userAgent": connection.user_agent},
                "lastActiveAt": _iso(last_active),
            }
        )

    async def delete(self, request: Request) -> Response:
        """`DELETE @connections/{id}`: close it (its `$disconnect` follows)."""
        live = self.sockets.get(request.path_params["connection_id"])
        if live is None:
            return _gone()
        await live.run(live.websocket.close(code=1000))
        return Response(status_code=204)


def _accepted_subprotocol(response: Any) -> str | None:
    """The subprotocol a `$connect` response accepts: its `Sec-WebSocket-Protocol` header, as API Gateway
    answers the handshake with it (a client asking for one that is not answered then refuses the socket)."""
    headers = response.get("headers") if isinstance(response, dict) else None
    if not isinstance(headers, dict):
        return None
    found = [str(v) for k, v in headers.items() if str(k).lower() == "sec-websocket-protocol" and v]
    return found[0] if found else None


def _gone() -> Response:
    return _aws_error(410, "GoneException", "Gone")


def _source_ip(websocket: WebSocket) -> str:
    """The client's address; API Gateway always reports an IP (an in-process test client has none)."""
    host = websocket.client.host if websocket.client else ""
    try:
        return str(ipaddress.ip_address(host))
    except ValueError:
        return "127.0.0.1"


def _aws_error(status: int, code: str, message: str) -> Response:
    return JSONResponse({"message": message}, status_code=status, headers={"x-amzn-ErrorType": code})


def _iso(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, UTC).isoformat()


def create_gateway_app(gateway: Gateway) -> Starlette:
    """The emulator's one HTTP server: the stage's WebSocket, `/ws` (the page's default), the management
    API under `/{stage}/@connections/`, and the chat page (with `/api/config`)."""
    stage = gateway.spec.stage
    connections = f"/{stage}/@connections/{{connection_id:path}}"

    async def health(_: Request) -> Response:
        return JSONResponse({"status": "ok", "emulator": True, "stage": stage})

    return Starlette(
        routes=[
            WebSocketRoute(f"/{stage}", gateway.serve),
            WebSocketRoute("/ws", gateway.serve),
            Route(connections, gateway.post, methods=["POST"]),
            Route(connections, gateway.describe, methods=["GET"]),
            Route(connections, gateway.delete, methods=["DELETE"]),
            Route("/api/health", health),
            Route("/api/config", page_config),
            Route("/", chat_page),
            Mount("/static", StaticFiles(directory=STATIC), name="static"),
        ]
    )
