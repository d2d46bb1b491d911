"""What a new user does first: install, `make run`, and the README's signed-in recipe, exactly as written."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from tests.support.live_server import free_port
from tests.support.subprocess_server import running

pytestmark = pytest.mark.integration
ROOT = Path(__file__).resolve().parents[2]
# This machine's pip configuration names index folders that may be missing: not the project's doing.
FOREIGN_WARNING = re.compile(r"WARNING: Location '.*' is ignored")


def pip_warnings(*args: str) -> list[str]:
    result = subprocess.run(
        [sys.executable, "-m", "pip", "install", "--dry-run", "--disable-pip-version-check", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
    )
    lines = (result.stdout + result.stderr).splitlines()
    return [line for line in lines if "WARNING" in line.upper() and not FOREIGN_WARNING.search(line)]


def test_the_projects_own_install_prints_no_warnings() -> None:
    assert pip_warnings("-r", "requirements/dev.txt") == []
    assert pip_warnings("--no-deps", "-e", ".") == []


def test_the_server_says_where_the_chat_page_and_the_socket_are() -> None:
    port = free_port()
    command = [sys.executable, "-m", "local_server", "--port", str(port)]
    with tempfile.TemporaryFile() as output:
        with running(command, f"http://127.0.0.1:{port}/api/health", output=output):
            pass
        output.seek(0)
        log = output.read().decode()
    assert f"chat page: http://127.0.0.1:{port}/" in log
    assert f"WebSocket: ws://127.0.0.1:{port}/ws" in log
    assert "DEMO MODE" in log


def signed_in_recipe() -> str:
    readme = (ROOT / "README.md").read_text("utf-8")
    start = readme.index("<!-- signed-in recipe")
    block = re.search(r"```bash\n(.*?)```", readme[start:], re.DOTALL)
    assert block is not None
    return block.group(1)


def test_the_readmes_signed_in_recipe_works_as_written() -> None:
    """The recipe's lines run in bash; only the port differs, so a server of the reader's is not hit."""
    port = free_port()
    recipe = signed_in_recipe().replace(
        "local_server.client ", f"local_server.client ws://127.0.0.1:{port}/ws ", 1
    )
    assert "make run &" in recipe and "JWT_SECRET" in recipe
    with tempfile.TemporaryFile("w+") as typed, tempfile.TemporaryFile("w+") as seen:
        typed.write("What is the status of order 1042?\n/quit\n")
        typed.seek(0)
        # A file, not a pipe: the background server keeps its output open after the client is done.
        shell = subprocess.Popen(
            ["bash", "-e", "-c", recipe],
            cwd=ROOT,
            env={**os.environ, "PORT": str(port)},
            stdin=typed,
            stdout=seen,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # `make run &` and the server it starts go with the group
        )
        try:
            shell.wait(timeout=300)
        finally:
            os.killpg(shell.pid, signal.SIGTERM)
        seen.seek(0)
        output = seen.read()
    assert "[order_info] Order 1042 (Trail running shoes) has shipped with UPS" in output, output[-3000:]
    assert "DEMO MODE" not in output and "signed-in mode" in output
