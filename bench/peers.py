"""Start the servers the benchmarks compare: our local server and LangGraph's own (`langgraph dev`)."""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Iterator
from pathlib import Path

from tests.support.live_server import free_port
from tests.support.subprocess_server import running

ROOT = Path(__file__).resolve().parents[1]
LANGGRAPH = ROOT / ".tools" / "langgraph" / "bin" / "langgraph"


@contextlib.contextmanager
def local_server(*args: str) -> Iterator[tuple[str, int]]:
    """Our server (`python -m local_server`); yields (ws URL, pid)."""
    port = free_port()
    command = [sys.executable, "-m", "local_server", "--port", str(port), "--log-level", "warning", *args]
    with running(command, f"http://127.0.0.1:{port}/api/health", cwd=ROOT) as process:
        yield f"ws://127.0.0.1:{port}/ws", process.pid


@contextlib.contextmanager
def langgraph_dev() -> Iterator[str]:
    """LangGraph's in-memory server on the same graph; yields its base URL."""
    if not LANGGRAPH.exists():
        raise RuntimeError(
            "LangGraph's server is not installed: run `make bench` (it creates .tools/langgraph)"
        )
    port = free_port()
    env = {
        **os.environ,
        "LANGSMITH_TRACING": "false",
        "LANGGRAPH_CLI_NO_ANALYTICS": "1",
        "LANGGRAPH_NO_VERSION_CHECK": "1",
        "PYTHONPATH": str(ROOT / "layers" / "runtime"),
    }
    command = [
        str(LANGGRAPH),
        "dev",
        "--no-browser",
        "--no-reload",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
    ]
    with running(command, f"http://127.0.0.1:{port}/ok", cwd=ROOT / "bench" / "langgraph_app", env=env):
        yield f"http://127.0.0.1:{port}"
