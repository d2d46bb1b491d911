"""What a new user does first: install, `make run`, and the README's signed-in recipe, exactly as written."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import pytest
from websockets.sync.client import connect

from tests.support.live_server import free_port, receive_turn
from tests.support.subprocess_server import local_server_process, running

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
    # The server shares the terminal: its log line of the turn may land inside the streamed answer.
    answer = re.sub(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3} INFO local_server[^\n]*\n", "", output)
    assert "[order_info] Order 1042 (Trail running shoes) has shipped with UPS" in answer, output[-3000:]
    assert "DEMO MODE" not in output and "signed-in mode" in output


def test_make_run_logs_one_line_per_turn_with_its_thread_outcome_and_latency() -> None:
    question, cancel = "What is the status of order 1042?", "Please cancel order 1043"
    turns: list[tuple[str, dict[str, Any], str]] = [
        ("first-thread", {"type": "message", "content": question}, "completed"),
        ("second-thread", {"type": "message", "content": cancel}, "interrupted"),
        ("second-thread", {"type": "interrupt_response", "approved": False}, "completed"),
        ("third-thread", {"type": "interrupt_response", "approved": True}, "refused"),  # nothing pending
    ]
    answers: list[str] = []
    with tempfile.TemporaryFile() as output:
        with local_server_process(output=output, env={**os.environ, "PYTHONUNBUFFERED": "1"}) as url:
            with connect(url) as ws:
                for thread, frame, _ in turns:
                    if frame["type"] == "interrupt_response" and thread == "second-thread":
                        frame = {**frame, "interrupt_id": answers[-1]}
                    ws.send(json.dumps({**frame, "thread_id": thread}))
                    ending = receive_turn(ws, timeout=30)
                    answers.append(ending[-1].get("interrupt_id", ""))
                    if ending[-1]["type"] == "message_complete":
                        answers.append("".join(f.get("content", "") for f in ending if f["type"] == "token"))
            time.sleep(0.3)
        output.seek(0)
        log = output.read().decode()
    lines = re.findall(r"turn on thread (\S+): (\w+) in (\d+) ms", log)
    assert [(thread, outcome) for thread, outcome, _ in lines] == [(t, o) for t, _, o in turns], log
    assert all(0 <= int(ms) < 30_000 for _, _, ms in lines)
    for secret in (question, cancel, *[a for a in answers if len(a) > 20]):
        assert secret not in log  # neither what the customer wrote nor what the agent answered
