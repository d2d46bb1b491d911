"""Run `python -m local_server` as a real process, for tests that exercise what `make run` serves."""

from __future__ import annotations

import contextlib
import subprocess
import sys
import time
from collections.abc import Iterator
from typing import Any

import httpx

from tests.support.live_server import free_port


def wait_for_health(url: str, process: subprocess.Popen[Any], seconds: float = 60) -> None:
    """Return once `url` answers 200; fail with the process's output if it exits first."""
    deadline = time.monotonic() + seconds
    while True:
        if process.poll() is not None:
            output = process.stdout.read() if process.stdout else ""
            raise RuntimeError(f"{process.args!r} exited with {process.returncode}:\n{output!r}")
        with contextlib.suppress(httpx.TransportError):
            if httpx.get(url, timeout=1).status_code == 200:
                return
        if time.monotonic() > deadline:
            raise RuntimeError(f"{url} did not answer within {seconds:.0f} s")
        time.sleep(0.1)


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
        wait_for_health(f"http://127.0.0.1:{port}/api/health", process)
        yield f"ws://127.0.0.1:{port}/ws"
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
