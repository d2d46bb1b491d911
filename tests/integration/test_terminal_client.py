"""`python -m local_server.client` holds a conversation with approvals, driven through its standard input."""

from __future__ import annotations

import os
import select
import subprocess
import sys
import time
from pathlib import Path

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


FEATURES = Path(__file__).resolve().parents[2] / "examples" / "langgraph_features" / "langgraph.json"


def features(graph: str) -> dict[str, str]:
    return {**os.environ, "LANGGRAPH_CONFIG": str(FEATURES), "GRAPH": graph}


def test_a_question_is_printed_and_the_next_line_answers_it() -> None:
    with local_server_process(env=features("question")) as url:
        output = chat(url, "hi\nAda\n/quit\n")
    assert "  ? What is your name?" in output
    assert "[greeter] Nice to meet you, Ada!" in output


def test_options_are_numbered_and_a_number_answers_with_that_option() -> None:
    with local_server_process(env=features("trip")) as url:
        output = chat(url, "Book my trip\ny\n2\n/quit\n")
    assert "? Book flight LX 318 to Lisbon for 240.00?" in output
    assert "  ? Window or aisle?\n    1) window\n    2) aisle\n" in output
    assert "[summary] Booked: flight LX 318, seat: aisle." in output


def test_progress_is_printed_as_it_comes() -> None:
    with local_server_process(env=features("progress")) as url:
        output = chat(url, "How are my orders?\n/quit\n")
    lines = [line.split("you> ")[-1].strip() for line in output.splitlines() if "\u2026" in line]
    assert lines == [
        "\u2026 Reading your orders (33%)",
        "\u2026 Checking the prices (67%)",
        "\u2026 Writing the summary (100%)",
    ]
    assert "[report] Your report is ready" in output


class Typist:
    """The client as a person uses it: lines typed once what they wait for has been printed."""

    def __init__(self, url: str) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "local_server.client", url],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
        )
        self.output = ""

    def type(self, line: str) -> None:
        assert self.process.stdin is not None
        self.process.stdin.write(line.encode() + b"\n")
        self.process.stdin.flush()

    def wait_for(self, text: str, seconds: float = 20) -> str:
        """The output so far, once it shows `text`."""
        assert self.process.stdout is not None
        deadline = time.monotonic() + seconds
        while text not in self.output:
            left = deadline - time.monotonic()
            assert left > 0, f"{text!r} not printed; output so far:\n{self.output}"
            if select.select([self.process.stdout], [], [], left)[0]:
                chunk = os.read(self.process.stdout.fileno(), 4096)
                assert chunk, f"the client exited before printing {text!r}:\n{self.output}"
                self.output += chunk.decode(errors="replace")
        return self.output

    def close(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait(timeout=10)


def test_stop_cancels_a_long_answer_and_state_shows_what_the_thread_kept() -> None:
    with local_server_process(env=features("essay")) as url:
        typist = Typist(url)
        try:
            typist.wait_for("you> ")
            typist.type("Write me an essay")
            typist.wait_for("word3 ")
            typist.type("/stop")
            stopped = typist.wait_for("  (stopped)\n")
            typist.type("/state")
            state = typist.wait_for("    plan: Plan: one long paragraph.\n", seconds=10)[len(stopped) :]
            typist.type("/quit")
            assert typist.process.wait(timeout=10) == 0
        finally:
            typist.close()
    assert "word100" not in stopped
    assert "messages:" in state and "user: Write me an essay" in state
    assert "plan: Plan: one long paragraph." in state
    assert "word1 " not in state  # cancelled (interrupt): the plan was kept, the unfinished essay was not
