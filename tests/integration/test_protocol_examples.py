"""docs/protocol.md's examples are the server's own output: each is replayed against a fresh local server.

A `>` line is sent, a `<` line must be the next frame the server sends, `...` lets frames pass until the next
`<` line matches. `interrupt_id` values are bound on first sight (they differ between runs) and substituted in
the client's later frames.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from websockets.sync.client import ClientConnection, connect

from local_server import create_app
from tests.support.live_server import serve

pytestmark = pytest.mark.integration
PROTOCOL = Path(__file__).resolve().parents[2] / "docs" / "protocol.md"
_BLOCK = re.compile(r"```json\n(.*?)```", re.DOTALL)


def examples() -> list[list[str]]:
    text = PROTOCOL.read_text("utf-8")
    section = text[text.index("## Examples") : text.index("## Clients")]
    return [block.strip().splitlines() for block in _BLOCK.findall(section)]


def bound(value: Any, ids: dict[str, str]) -> Any:
    if isinstance(value, dict):
        return {
            key: ids.get(item, item) if key == "interrupt_id" else bound(item, ids)
            for key, item in value.items()
        }
    return value


def next_matching(ws: ClientConnection, documented: dict[str, Any], ids: dict[str, str], skip: bool) -> None:
    while True:
        actual = json.loads(ws.recv(timeout=10))
        expected = dict(documented)
        if "interrupt_id" in expected and expected["interrupt_id"] not in ids and "interrupt_id" in actual:
            expected["interrupt_id"] = actual["interrupt_id"]
        expected = bound(expected, ids)
        if actual == expected:
            if "interrupt_id" in documented:
                ids.setdefault(documented["interrupt_id"], actual["interrupt_id"])
            return
        assert skip, f"the server sent {actual}, the docs say {expected}"


def test_the_docs_have_the_examples_a_client_needs() -> None:
    kinds = {json.loads(line[2:])["type"] for block in examples() for line in block if line.startswith("<")}
    assert kinds == {"tool_call", "token", "interrupt", "message_complete", "error", "resumed"}
    assert all(line.startswith(("> ", "< ", "...")) for block in examples() for line in block)


@pytest.mark.parametrize("example", examples(), ids=lambda block: json.loads(block[0][2:])["content"][:40])
def test_each_documented_example_is_what_the_server_says(example: list[str]) -> None:
    ids: dict[str, str] = {}
    with serve(create_app()) as url, connect(url.replace("http", "ws") + "/ws") as ws:
        skip = False
        for line in example:
            if line == "...":
                skip = True
            elif line.startswith("> "):
                ws.send(json.dumps(bound(json.loads(line[2:]), ids)))
            else:
                next_matching(ws, json.loads(line[2:]), ids, skip)
                skip = False
        with pytest.raises(TimeoutError):  # and nothing more than the docs show
            ws.recv(timeout=0.3)
