"""`make run-aws` with long turns (the `essay` graph): a resume gets each frame once, in order; the log labels
each line with the function that wrote it while several run at once."""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from websockets.sync.client import connect

from tests.support.subprocess_server import EmulatorProcess, aws_emulator_process

pytestmark = pytest.mark.integration

FEATURES = Path(__file__).resolve().parents[2] / "examples" / "langgraph_features" / "langgraph.json"
ESSAY = " ".join(f"word{index}" for index in range(1, 101)) + "."


@pytest.fixture(scope="module")
def essay_emulator() -> Iterator[EmulatorProcess]:
    """The emulator serving the `essay` graph: a word every 200 ms, about twenty seconds a turn."""
    env = {**os.environ, "LANGGRAPH_CONFIG": str(FEATURES), "GRAPH": "essay"}
    with aws_emulator_process(env=env) as process:
        yield process


def _until_end(ws: Any, frames: list[dict[str, Any]]) -> None:
    while True:
        frame = json.loads(ws.recv(timeout=30))
        frames.append(frame)
        if frame["type"] in ("message_complete", "error"):
            return


def test_a_resume_during_a_running_turn_gets_the_missed_frames_then_the_live_rest_once(
    essay_emulator: EmulatorProcess,
) -> None:
    thread = "resume-live"
    before: list[dict[str, Any]] = []
    with connect(essay_emulator.signed_in_url) as ws:
        ws.send(json.dumps({"type": "message", "thread_id": thread, "content": "an essay, please"}))
        while not before or before[-1].get("seq", 0) < 13:
            before.append(json.loads(ws.recv(timeout=30)))
    time.sleep(1.2)  # words go on being written (and posted to the closed connection) meanwhile
    after: list[dict[str, Any]] = []
    with connect(essay_emulator.signed_in_url) as ws:
        ws.send(json.dumps({"type": "resume", "thread_id": thread, "after_seq": before[-1]["seq"]}))
        _until_end(ws, after)
    resumed = [f for f in after if f["type"] == "resumed"]
    assert resumed == [{"type": "resumed", "thread_id": thread, "state": "running"}]
    replayed = after[: after.index(resumed[0])]
    assert replayed, "the frames posted while the client was away are replayed before `resumed`"
    seqs = [f["seq"] for f in before + after if "seq" in f]
    assert seqs == list(range(seqs[0], seqs[-1] + 1)), seqs  # each frame once, in order, none missing
    assert after[-1]["type"] == "message_complete"
    tokens = [f for f in before + after if f["type"] == "token" and f.get("agent") == "write"]
    essay = "".join(f["content"] for f in tokens)
    assert essay == ESSAY


def _log_lines(emulator: EmulatorProcess) -> list[dict[str, Any]]:
    lines = []
    for line in emulator.log().splitlines():
        if line.startswith('{"level"'):
            lines.append(json.loads(line))
    return lines


def test_each_functions_log_lines_carry_its_own_lambda_context_while_others_run(
    essay_emulator: EmulatorProcess,
) -> None:
    thread = "labels"
    with connect(essay_emulator.signed_in_url) as other:
        with connect(essay_emulator.signed_in_url) as ws:
            ws.send(json.dumps({"type": "message", "thread_id": thread, "content": "an essay, please"}))
            while json.loads(ws.recv(timeout=30))["type"] != "token":
                pass  # the worker's invocation is running
            # Another function's invocation while the worker's runs: the route handler answers at once.
            other.send(json.dumps({"type": "resume", "thread_id": "labels-other", "after_seq": 0}))
            assert json.loads(other.recv(timeout=10))["type"] == "resumed"
        # The worker posts its next word to the closed connection and logs that it is gone.
        deadline = time.monotonic() + 10
        while not [line for line in _log_lines(essay_emulator) if "is gone" in line["message"]]:
            assert time.monotonic() < deadline, "the worker did not log the closed connection"
            time.sleep(0.1)
        other.send(json.dumps({"type": "cancel", "thread_id": thread}))
    lines = _log_lines(essay_emulator)
    gone = [line for line in lines if "is gone" in line["message"]]
    queued = [line for line in lines if line["message"] == "queued a turn"]
    assert gone and queued
    assert {line["function_name"] for line in gone} == {"AgentWorkerFunction"}
    assert {line["function_name"] for line in queued} == {"MessageFunction"}
    for line in gone + queued:
        assert line["function_arn"].endswith(f":function:{line['function_name']}")
    assert len({line["function_request_id"] for line in queued}) == len(queued)
