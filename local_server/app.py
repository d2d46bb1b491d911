"""The local server: the `/ws` protocol and `GET /api/health` over the shared runtime, in one process."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import FileResponse
from starlette.routing import Mount, Route, WebSocketRoute
from starlette.staticfiles import StaticFiles
from starlette.websockets import WebSocket

from chat_runtime.auth import TokenVerifier
from chat_runtime.engine import TurnGraph
from chat_runtime.http import HEALTH_ROUTE
from chat_runtime.limits import DEFAULT_BURST, DEFAULT_FRAMES_PER_SECOND, TokenBucket
from chat_runtime.replay import InMemoryFrameLog
from chat_runtime.sessions import DEFAULT_SESSION_TTL_SECONDS, InMemorySessionManager, SessionManager
from chat_runtime.turns import DEFAULT_MAX_TURN_SECONDS, TurnRunner
from local_server.chat_socket import ChatSocket
from local_server.live_turns import LiveTurns
from local_server.page_config import page_config
from local_server.thread_locks import ThreadLocks
from support_agent.orders.store import DEMO_CUSTOMER_ID

logger = logging.getLogger(__name__)

SHUTDOWN_GRACE_SECONDS = 10.0
STATIC = Path(__file__).parent / "static"


async def chat_page(_: Request) -> FileResponse:
    """The chat page."""
    return FileResponse(STATIC / "index.html")


def create_app(
    graph: TurnGraph | None = None,
    session_ttl: int = DEFAULT_SESSION_TTL_SECONDS,
    *,
    session_manager: SessionManager | None = None,
    configurable: Mapping[str, Any] | None = None,
    stream_options: Mapping[str, Any] | None = None,
    verifier: TokenVerifier | None = None,
    rate_limit: tuple[float, int] | None = (DEFAULT_FRAMES_PER_SECOND, DEFAULT_BURST),
    max_turn_seconds: float | None = DEFAULT_MAX_TURN_SECONDS,
    clock: Callable[[], float] = time.time,
) -> Starlette:
    """Build the local server.

    Args:
        graph: The compiled graph to serve; the default is the demo agent on embedded defaults.
        session_ttl: Seconds of inactivity after which a thread expires (0: any later frame).
        session_manager: Where sessions live; defaults to memory with `session_ttl`.
        configurable: Extra run-config entries for every turn; the default acts for the demo customer.
        stream_options: Extra `graph.astream` arguments (e.g. `{"durability": "exit"}` on DynamoDB).
        verifier: Checks each connection's `?token=` JWT; without one the server runs in demo mode, every
            connection acting as the demo customer.
        rate_limit: Frames per second and burst allowed per connection (None: unlimited).
        max_turn_seconds: A turn running longer is stopped with a `turn_timeout` error.
        clock: Wall-clock time, against which a connection's token expiry is judged.

    Returns:
        A Starlette app with `/ws`, `/api/health`, `/api/config`, the page and `app.state.session_manager`.
    """
    if graph is None:
        from local_server.defaults import build_default_graph

        graph = build_default_graph()
    sessions = session_manager or InMemorySessionManager(ttl_seconds=session_ttl)
    runner = TurnRunner(
        graph=graph,
        sessions=sessions,
        stream_options=dict(stream_options or {}),
        max_turn_seconds=max_turn_seconds,
        frame_log=InMemoryFrameLog(),
    )
    live = LiveTurns()
    locks = ThreadLocks()
    turn_tasks: set[asyncio.Task[None]] = set()
    run_config = dict(configurable if configurable is not None else {"customer_id": DEMO_CUSTOMER_ID})

    async def websocket_endpoint(websocket: WebSocket) -> None:
        bucket = TokenBucket(*rate_limit) if rate_limit is not None else None
        await ChatSocket(
            websocket, runner, locks, turn_tasks, run_config, verifier, bucket, live, clock
        ).serve()

    @asynccontextmanager
    async def lifespan(_: Starlette) -> AsyncIterator[None]:
        yield
        await _finish_turns(turn_tasks)

    app = Starlette(
        routes=[
            HEALTH_ROUTE,
            WebSocketRoute("/ws", websocket_endpoint),
            Route("/api/config", page_config),
            Route("/", chat_page),
            Mount("/static", StaticFiles(directory=STATIC), name="static"),
        ],
        lifespan=lifespan,
    )
    app.state.session_manager = sessions
    app.state.turn_runner = runner
    return app


async def _finish_turns(turn_tasks: set[asyncio.Task[None]]) -> None:
    """Let running turns finish (so their checkpoints are written), then cancel stragglers."""
    if not turn_tasks:
        return
    _, stragglers = await asyncio.wait(set(turn_tasks), timeout=SHUTDOWN_GRACE_SECONDS)
    for task in stragglers:
        logger.warning("cancelling a turn still running at shutdown")
        task.cancel()
    await asyncio.gather(*stragglers, return_exceptions=True)
