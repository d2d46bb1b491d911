"""`python -m local_server.client` holds a conversation with approvals, driven through its standard input."""

from __future__ import annotations

import subprocess
import sys

import pytest

from local_server.client import with_token
from tests.support.subprocess_server import local_server_process

pytestmark = pytest.mark.integration


def chat(url: str, script: str, *args: str) -> str:
    result = subprocess.run(
        [sys.executable, "-m", "local_server.client", url, *args],
        input=script,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return result.stdout


def test_a_conversation_with_approve_reject_and_edit() -> None:
    script = "\n".join(
        [
            "What is the status of order 1042?",
            "Please cancel order 1043",
            "y",
            "Refund order 1044",
            "n",
            "Change the address of order 1046 to 12 Oak Street, Springfield",
            "e",
            "99 Elm Road, Shelbyville",
            "/quit",
        ]
    )
    with local_server_process() as url:
        output = chat(url, script + "\n", "--thread", "cli-test")
    assert "Conversation cli-test" in output
    assert ". get_order_status(order_id=1042)" in output
    assert "[order_info] Order 1042 (Trail running shoes) has shipped with UPS" in output
    assert "? Cancel order 1043 (Wireless headphones, total 129.00)?" in output
    assert "[order_actions] Order 1043 has been cancelled." in output
    assert "[order_actions] Understood. I won't request a refund for order 1044." in output
    assert "[order_actions] Order 1046 will now ship to 99 Elm Road, Shelbyville." in output


def test_errors_and_end_of_input() -> None:
    with local_server_process() as url:
        output = chat(url, "x" * 40_000 + "\n")
    assert "! Message too large" in output


def test_tokens_travel_in_the_query_string() -> None:
    assert with_token("wss://a.example/dev", "t.k.n") == "wss://a.example/dev?token=t.k.n"
    assert with_token("ws://h/ws?x=1", "abc") == "ws://h/ws?x=1&token=abc"
    assert with_token("ws://h/ws", None) == "ws://h/ws"
