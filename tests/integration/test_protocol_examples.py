"""docs/protocol.md's examples are the server's own output: each is replayed against a fresh local server.

A `>` line is sent, a `<` line must be the next frame the server sends, `...` lets frames pass until the
next `<` line matches. Ids and times (`interrupt_id`, `checkpoint_id`, message `id`, `created_at`) are
bound on first sight (they differ between runs) and substituted in the client's later frames; after `...`,
a `<` frame documented without `seq` matches one with any. A first line `graph: NAME` serves that graph of
`examples/langgraph_features` instead of the shop's agent.
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


BOUND_KEYS = frozenset({"interrupt_id", "checkpoint_id", "id", "created_at"})
FEATURES = Path(__file__).resolve().parents[2] / "examples" / "langgraph_features" / "langgraph.json"


def bound(value: Any, ids: dict[str, str]) -> Any:
    if isinstance(value, dict):
        return {
            key: ids.get(item, item) if key in BOUND_KEYS and isinstance(item, str) else bound(item, ids)
            for key, item in value.items()
        }
    if isinstance(value, list):
        return [bound(item, ids) for item in value]
    return value


def bind(documented: Any, actual: Any, ids: dict[str, str]) -> None:
    """Bind the documented ids and times not seen yet to the ones the server sent in the same places."""
    if isinstance(documented, dict) and isinstance(actual, dict):
        for key, item in documented.items():
            if key in BOUND_KEYS and isinstance(item, str) and item not in ids and key in actual:
                ids[item] = actual[key]
            elif key in actual:
                bind(item, actual[key], ids)
    elif isinstance(documented, list) and isinstance(actual, list) and len(documented) == len(actual):
        for item, other in zip(documented, actual, strict=True):
            bind(item, other, ids)


def next_matching(ws: ClientConnection, documented: dict[str, Any], ids: dict[str, str], skip: bool) -> None:
    while True:
        actual = json.loads(ws.recv(timeout=10))
        trial = dict(ids)
        bind(documented, actual, trial)
        expected = bound(documented, trial)
        # After `...` the number of frames let pass varies, and so does the next one's seq.
        compared = (
            {k: v for k, v in actual.items() if k != "seq"} if skip and "seq" not in documented else actual
        )
        if compared == expected:
            ids.update(trial)
            return
        assert skip, f"the server sent {actual}, the docs say {expected}"


def test_the_docs_have_the_examples_a_client_needs() -> None:
    kinds = {json.loads(line[2:])["type"] for block in examples() for line in block if line.startswith("<")}
    assert kinds == {
        "tool_call",
        "token",
        "interrupt",
        "message_complete",
        "error",
        "resumed",
        "custom",
        "state",
    }
    assert all(
        line.startswith(("> ", "< ", "...")) or (index == 0 and line.startswith("graph: "))
        for block in examples()
        for index, line in enumerate(block)
    )


def example_id(block: list[str]) -> str:
    first = next(line for line in block if line.startswith("> "))
    graph = block[0].removeprefix("graph: ") + ":" if block[0].startswith("graph: ") else ""
    content: str = json.loads(first[2:])["content"]
    return graph + content[:40]


@pytest.mark.parametrize("example", examples(), ids=example_id)
def test_each_documented_example_is_what_the_server_says(
    example: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    ids: dict[str, str] = {}
    if example[0].startswith("graph: "):
        monkeypatch.setenv("LANGGRAPH_CONFIG", str(FEATURES))
        monkeypatch.setenv("GRAPH", example[0].removeprefix("graph: "))
        example = example[1:]
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
