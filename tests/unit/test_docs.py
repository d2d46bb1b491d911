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
