"""The embedded defaults `make run` serves: the support agent on the offline model and demo orders."""

from __future__ import annotations

from typing import Any

from langgraph.checkpoint.memory import InMemorySaver
from langgraph.graph.state import CompiledStateGraph

from support_agent.factory import build_agent
from support_agent.settings import Settings


def build_default_graph(settings: Settings | None = None) -> CompiledStateGraph[Any, Any, Any, Any]:
    """The support agent as the settings (environment variables) describe it, saved in memory."""
    return build_agent(settings or Settings(), InMemorySaver())
