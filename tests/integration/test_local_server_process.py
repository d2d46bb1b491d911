"""`python -m local_server` (what `make run` starts) serves `/ws` to a real WebSocket client."""

from __future__ import annotations

import json

import pytest
from websockets.sync.client import connect

from tests.support.live_server import receive_turn, without_seq
from tests.support.subprocess_server import local_server_process

pytestmark = pytest.mark.integration


def test_the_module_serves_the_protocol_on_embedded_defaults() -> None:
    with local_server_process() as url, connect(url) as ws:
        ws.send("not json")
        assert json.loads(ws.recv(timeout=10))["code"] == "invalid_json"
        ws.send(json.dumps({"type": "message", "thread_id": "cli-1", "content": "Hello there"}))
        frames = receive_turn(ws, timeout=30)
    assert without_seq(frames[-1]) == {"type": "message_complete", "thread_id": "cli-1"}
    assert "".join(f["content"] for f in frames if f["type"] == "token")
