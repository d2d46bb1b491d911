"""A free-text question: `interrupt("What is your name?")`, and the node gets back exactly what was typed."""

from __future__ import annotations

from typing import Any

from langchain_core.messages import AIMessage
from langgraph.graph import START, MessagesState, StateGraph
from langgraph.types import interrupt


def greet(state: MessagesState) -> dict[str, Any]:
    """Ask for the customer's name, then greet them with it."""
    name = interrupt("What is your name?")
    return {"messages": [AIMessage(f"Nice to meet you, {name}!", name="greeter")]}


builder = StateGraph(MessagesState)
builder.add_node("greeter", greet)
builder.add_edge(START, "greeter")
graph = builder
