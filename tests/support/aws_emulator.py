"""The acceptance suite on `make run-aws`'s path, in process: the emulator's app for a `TestClient`.

`create_e2e_app(graph)` on this path returns the emulated API Gateway's app over a fresh copy of the stack on
moto's server, with the worker running `graph` (the suite's fake) instead of the support agent. The
handlers post frames over HTTP to the management API, which a real server in a thread serves for the same
gateway. The suite's client is signed in as a browser would be: the development token is added to the
handshake's query string when the client sends none.
"""

from __future__ import annotations

import contextlib
import itertools
from collections.abc import Iterator
from typing import Any

from starlette.applications import Starlette
from starlette.types import ASGIApp, Receive, Scope, Send

from chat_runtime.auth import thread_key
from chat_runtime.sessions import SessionRecord
from local_server.emulator.gateway import create_gateway_app
from local_server.emulator.stack import EmulatedStack, build_emulated_stack, free_port
from tests.support.live_server import serve

PRINCIPAL = "alice"
_stacks = itertools.count(1)


class SignedIn:
    """Adds `?token=` to WebSocket handshakes that carry none (the client signed in, as the page does)."""

    def __init__(self, app: ASGIApp, token: str) -> None:
        self.app = app
        self.token = token

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "websocket" and b"token=" not in scope.get("query_string", b""):
            scope = {**scope, "query_string": f"token={self.token}".encode()}
        await self.app(scope, receive, send)


class OwnerScopedSessions:
    """The stack's sessions as the suite reads them: by the client's thread id (the owner is implied)."""

    def __init__(self, sessions: Any) -> None:
        self.sessions = sessions

    def get_state(self, thread_id: str) -> SessionRecord | None:
        record: SessionRecord | None = self.sessions.get_state(thread_key(thread_id, PRINCIPAL))
        return record


def _run_graph_in_worker(graph: Any) -> None:
    """The worker's container, warm, with `graph` as its agent."""
    from chat_runtime.aws import worker
    from chat_runtime.aws.settings import AwsSettings
    from chat_runtime.turns import TurnRunner

    deps = worker.WorkerDeps.from_settings(AwsSettings.from_environment())
    deps.runner = TurnRunner(
        graph=graph,
        sessions=deps.runner.sessions,
        stream_options=worker.CHECKPOINT_ONCE,
        max_turn_seconds=worker.MAX_TURN_SECONDS,
    )
    worker._default_deps = deps


class AwsPath:
    """Stacks for one test on moto's server at `endpoint_url`; `close()` stops what they started."""

    def __init__(self, endpoint_url: str) -> None:
        self.endpoint_url = endpoint_url
        self._cleanups = contextlib.ExitStack()

    def app(self, graph: Any, session_ttl: int) -> Starlette:
        """The emulated gateway over a fresh stack whose worker runs `graph` (for a `TestClient`)."""
        app, _ = self._start(graph, {"SessionTtlSeconds": str(session_ttl)})
        from chat_runtime.aws import worker

        app.state.session_manager = OwnerScopedSessions(worker.default_worker_deps().sessions)
        return app

    def page_url(self) -> str:
        """The chat page of a fresh stack running the support agent, signed in through its address."""
        _, emulated = self._start(None, {})
        return f"http://{emulated.gateway.events.domain_name}/#token={emulated.token(PRINCIPAL)}"

    def _start(self, graph: Any | None, parameters: dict[str, str]) -> tuple[Starlette, EmulatedStack]:
        """A fresh stack, and its gateway served on a real port (the handlers post there)."""
        port = free_port()
        emulated = build_emulated_stack(
            self.endpoint_url, f"http://127.0.0.1:{port}", prefix=f"e2e{next(_stacks)}", parameters=parameters
        )
        if graph is not None:
            _run_graph_in_worker(graph)
        self._cleanups.enter_context(emulated.running())
        app = create_gateway_app(emulated.gateway)
        app.add_middleware(SignedIn, token=emulated.token(PRINCIPAL))
        self._cleanups.enter_context(serve(app, port=port))
        return app, emulated

    def close(self) -> None:
        self._cleanups.close()


@contextlib.contextmanager
def aws_path(endpoint_url: str) -> Iterator[AwsPath]:
    """An `AwsPath` whose stacks are stopped, and whose environment changes are undone, afterwards."""
    import os

    from local_server.emulator.functions import reset_lambda_containers

    saved = dict(os.environ)
    path = AwsPath(endpoint_url)
    try:
        yield path
    finally:
        path.close()
        os.environ.clear()
        os.environ.update(saved)
        reset_lambda_containers()
