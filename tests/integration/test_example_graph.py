"""Another graph than ours (`examples/assistant`), chosen by its `langgraph.json`, served by all three paths:
`make run`'s server, `make run-aws`'s emulator, and the Lambda handlers as AWS invokes them (under moto)."""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from websockets.sync.client import connect

from local_server.emulator.functions import reset_lambda_containers
from tests.support.lambdas import Deployment
from tests.support.live_server import receive_turn
from tests.support.subprocess_server import aws_emulator_process, local_server_process

pytestmark = pytest.mark.integration
CONFIG = Path(__file__).resolve().parents[2] / "examples" / "assistant" / "langgraph.json"
Say = Callable[[dict[str, Any]], list[dict[str, Any]]]


def text(frames: list[dict[str, Any]]) -> str:
    return "".join(f["content"] for f in frames if f["type"] == "token")


def converse(say: Say) -> None:
    """The example's conversation: a greeting with its env, a note behind an approval, edited, then listed."""
    greeting = say({"type": "message", "content": "hi"})
    assert text(greeting).endswith("Write 'note: ...' to save a note (up to 3).")
    assert {f["agent"] for f in greeting if f["type"] == "token"} == {"assistant"}
    interrupt = say({"type": "message", "content": "note: buy milk"})[-1]
    assert (interrupt["type"], interrupt["action"], interrupt["note"]) == (
        "interrupt",
        "save_note",
        "buy milk",
    )
    assert interrupt["description"] == "Save the note \u201cbuy milk\u201d?" and interrupt["editable"] == [
        "note"
    ]
    answer = {"type": "interrupt_response", "approved": True, "interrupt_id": interrupt["interrupt_id"]}
    saved = say({**answer, "edits": {"note": "buy oat milk"}})
    assert text(saved) == "Saved: buy oat milk" and saved[-1]["type"] == "message_complete"
    assert text(say({"type": "message", "content": "notes"})) == "Your notes: buy oat milk"


def converse_over_a_socket(url: str) -> None:
    with connect(url) as ws:

        def say(frame: dict[str, Any]) -> list[dict[str, Any]]:
            ws.send(json.dumps({"thread_id": "notes-1", **frame}))
            return receive_turn(ws, timeout=30)

        converse(say)


def test_make_run_serves_the_example() -> None:
    with local_server_process(env={**os.environ, "LANGGRAPH_CONFIG": str(CONFIG)}) as url:
        converse_over_a_socket(url)


def test_make_run_aws_serves_the_example() -> None:
    with aws_emulator_process(env={**os.environ, "LANGGRAPH_CONFIG": str(CONFIG)}) as emulator:
        converse_over_a_socket(emulator.signed_in_url)
        assert "IAM refused" not in emulator.log()


def test_the_lambda_handlers_serve_the_example(
    deployment: Deployment, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LANGGRAPH_CONFIG", str(CONFIG))
    reset_lambda_containers()
    connection = deployment.connect()

    def say(frame: dict[str, Any]) -> list[dict[str, Any]]:
        return deployment.turn(connection, {"thread_id": "notes-1", **frame})

    converse(say)
