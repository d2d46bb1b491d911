"""The docs show what the code does."""

from __future__ import annotations

from pathlib import Path

from support_agent.graph import build_support_graph
from support_agent.models.offline import OfflineSupportModel
from support_agent.orders.store import InMemoryOrderStore

ROOT = Path(__file__).resolve().parents[2]


def test_the_agent_diagram_is_the_graphs_own_drawing() -> None:
    drawing = (
        build_support_graph(OfflineSupportModel(), InMemoryOrderStore([]), None).get_graph().draw_mermaid()
    )
    assert f"```mermaid\n{drawing.rstrip()}\n```" in (ROOT / "docs" / "agent.md").read_text()


def test_the_asyncapi_document_is_generated_from_the_frame_models() -> None:
    from local_server.asyncapi import build_document, render

    assert (ROOT / "docs" / "asyncapi.yaml").read_text() == render(), (
        "run: python -m local_server.asyncapi > docs/asyncapi.yaml"
    )
    document = build_document()
    assert document["asyncapi"] == "3.0.0"
    messages = document["components"]["messages"]
    assert set(messages) == {
        "message",
        "interrupt_response",
        "resume",
        "cancel",
        "get_state",
        "token",
        "tool_call",
        "tool_result",
        "interrupt",
        "custom",
        "update",
        "values",
        "message_complete",
        "error",
        "resumed",
        "state",
    }
    for operation in document["operations"].values():
        for ref in operation["messages"]:
            assert ref["$ref"].rsplit("/", 1)[1] in document["channels"]["chat"]["messages"]
    for message in messages.values():
        assert message["payload"]["$ref"].rsplit("/", 1)[1] in document["components"]["schemas"]


def test_every_error_code_is_documented() -> None:
    from chat_runtime.protocol import ErrorCode

    protocol = (ROOT / "docs" / "protocol.md").read_text()
    for code in ErrorCode:
        assert f"| `{code.value}` |" in protocol, code
