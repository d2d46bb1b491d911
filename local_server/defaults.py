"""The embedded defaults `make run` serves: no configuration, no network."""

from __future__ import annotations

from typing import Any

from langgraph.checkpoint.memory import InMemorySaver
from langgraph.graph import END, START, MessagesState, StateGraph
from langgraph.graph.state import CompiledStateGraph


def build_default_graph() -> CompiledStateGraph[Any, Any, Any, Any]:
    """A minimal echo graph, until the support agent is wired in."""
    from langchain_core.messages import AIMessage

    def assistant(state: MessagesState) -> dict[str, Any]:
        return {"messages": [AIMessage(content=f"You said: {state['messages'][-1].text}")]}

    builder = StateGraph(MessagesState)
    builder.add_node("assistant", assistant)
    builder.add_edge(START, "assistant")
    builder.add_edge("assistant", END)
    return builder.compile(checkpointer=InMemorySaver())
