"""Serve an ASGI app with uvicorn on a free loopback port, in a background thread, for real-socket tests."""

from __future__ import annotations

import contextlib
import json
import threading
import time
from collections.abc import Iterator
from typing import Any

import uvicorn
from websockets.sync.client import ClientConnection

from local_server.emulator.stack import free_port

__all__ = ["free_port", "receive_turn", "serve", "without_seq"]


@contextlib.contextmanager
def serve(app: Any, port: int | None = None) -> Iterator[str]:
    """Run `app` under uvicorn until the block ends; yields its base URL `http://127.0.0.1:PORT`."""
    port = port or free_port()
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 15
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("uvicorn did not start")
        time.sleep(0.01)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=15)


def receive_turn(ws: ClientConnection, timeout: float = 10.0) -> list[dict[str, Any]]:
    """Frames up to and including the one that ends a turn (`message_complete`, `error` or `interrupt`)."""
    frames: list[dict[str, Any]] = []
    while True:
        frame = json.loads(ws.recv(timeout=timeout))
        frames.append(frame)
        if frame["type"] in ("message_complete", "error", "interrupt"):
            return frames


def without_seq(frame: dict[str, Any]) -> dict[str, Any]:
    """A frame without its `seq` (re-sent frames and immediate refusals carry none)."""
    return {key: value for key, value in frame.items() if key != "seq"}
