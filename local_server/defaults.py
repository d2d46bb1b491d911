"""The embedded defaults `make run` serves: the support agent on the offline model and demo orders."""

from __future__ import annotations

from typing import Any

from langgraph.checkpoint.memory import InMemorySaver
from langgraph.graph.state import CompiledStateGraph

from chat_runtime.graphs import configured_graph
from support_agent.factory import build_agent
from support_agent.settings import Settings


def build_default_graph(settings: Settings | None = None) -> CompiledStateGraph[Any, Any, Any, Any]:
    """The graph `LANGGRAPH_CONFIG` selects, else the support agent as the settings describe it; in memory."""
    saver = InMemorySaver()
    graph: CompiledStateGraph[Any, Any, Any, Any] = configured_graph(saver) or build_agent(
        settings or Settings(), saver
    )
    return graph
