"""Run servers as real processes (`python -m local_server`, `langgraph dev`) for tests and benchmarks."""

from __future__ import annotations

import contextlib
import re
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import IO, Any

import httpx

from tests.support.live_server import free_port


def wait_for_health(url: str, process: subprocess.Popen[Any], seconds: float = 60) -> None:
    """Return once `url` answers 200; fail if the process exits first or the time runs out."""
    deadline = time.monotonic() + seconds
    while True:
        if process.poll() is not None:
            raise RuntimeError(f"{process.args!r} exited with {process.returncode}")
        with contextlib.suppress(httpx.TransportError):
            if httpx.get(url, timeout=1).status_code == 200:
                return
        if time.monotonic() > deadline:
            raise RuntimeError(f"{url} did not answer within {seconds:.0f} s")
        time.sleep(0.1)


@contextlib.contextmanager
def running(
    command: list[str], health_url: str, output: IO[bytes] | None = None, **popen: Any
) -> Iterator[subprocess.Popen[bytes]]:
    """Start `command`, wait until `health_url` answers, stop it afterwards; show its output on failure.

    Its output (stdout and stderr) goes to `output` when given, for the caller to read after the block.
    """
    with contextlib.ExitStack() as files:
        output = output or files.enter_context(tempfile.TemporaryFile())
        process = subprocess.Popen(command, stdout=output, stderr=subprocess.STDOUT, **popen)
        try:
            try:
                wait_for_health(health_url, process)
            except RuntimeError as error:
                output.seek(0)
                raise RuntimeError(f"{error}\n{output.read().decode(errors='replace')[-4000:]}") from None
            yield process
        finally:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


@contextlib.contextmanager
def local_server_process(*args: str, **popen: Any) -> Iterator[str]:
    """`python -m local_server` on a free port; yields `ws://127.0.0.1:PORT/ws` once `/api/health` answers."""
    port = free_port()
    command = [sys.executable, "-m", "local_server", "--host", "127.0.0.1", "--port", str(port), *args]
    with running(command, f"http://127.0.0.1:{port}/api/health", **popen):
        yield f"ws://127.0.0.1:{port}/ws"


@dataclass(frozen=True)
class EmulatorProcess:
    """`python -m local_server.emulator` (what `make run-aws` starts), as a client sees it."""

    url: str
    token: str
    moto_url: str
    output: IO[bytes]

    @property
    def signed_in_url(self) -> str:
        """The stage's WebSocket URL with the printed development token."""
        return f"{self.url}?token={self.token}"

    def log(self) -> str:
        self.output.seek(0)
        return self.output.read().decode(errors="replace")


@contextlib.contextmanager
def aws_emulator_process(*args: str, **popen: Any) -> Iterator[EmulatorProcess]:
    """The emulator on a free port, once `/api/health` answers; the stage URL and printed token."""
    port = free_port()
    command = [sys.executable, "-m", "local_server.emulator", "--port", str(port), *args]
    with (
        tempfile.TemporaryFile() as output,
        running(command, f"http://127.0.0.1:{port}/api/health", output=output, **popen),
    ):
        output.seek(0)
        log = output.read().decode(errors="replace")
        token = re.search(r"--token (\S+)", log)
        moto = re.search(r"state in (\S+)", log)
        assert token is not None and moto is not None, log
        yield EmulatorProcess(f"ws://127.0.0.1:{port}/dev", token.group(1), moto.group(1), output)
