"""Run `python -m local_server` as a real process, for tests that exercise what `make run` serves."""

from __future__ import annotations

import contextlib
import subprocess
import sys
import time
from collections.abc import Iterator

import httpx

from tests.support.live_server import free_port


@contextlib.contextmanager
def local_server_process(*args: str) -> Iterator[str]:
    """Start the server on a free port; yields `ws://127.0.0.1:PORT/ws` once `/api/health` answers."""
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "local_server", "--host", "127.0.0.1", "--port", str(port), *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            if process.poll() is not None:
                output = process.stdout.read() if process.stdout else ""
                raise RuntimeError(f"local_server exited with {process.returncode}:\n{output}")
            with contextlib.suppress(httpx.TransportError):
                if httpx.get(f"http://127.0.0.1:{port}/api/health", timeout=1).status_code == 200:
                    break
            if time.monotonic() > deadline:
                raise RuntimeError("local_server did not start within 30 s")
            time.sleep(0.1)
        yield f"ws://127.0.0.1:{port}/ws"
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
