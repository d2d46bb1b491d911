"""A long-running turn to cancel: a quick `plan` step, then a model that writes for about twenty seconds.

Cancelled with `interrupt`, the thread keeps the plan; with `rollback`, it is as it was before the turn.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from langchain_core.messages import AIMessage, BaseMessage
from langgraph.graph import END, START, MessagesState, StateGraph
from scripted_model import ScriptedChatModel

WORDS = 100


def _essay(messages: Sequence[BaseMessage]) -> AIMessage:
    return AIMessage(" ".join(f"word{index}" for index in range(1, WORDS + 1)) + ".")


writer = ScriptedChatModel(reply=_essay, delay=0.2)


def plan(state: MessagesState) -> dict[str, Any]:
    """Decide the essay's outline (quick)."""
    return {"messages": [AIMessage("Plan: one long paragraph.", name="plan")]}


async def write(state: MessagesState) -> dict[str, Any]:
    """Write the essay, streaming it (slow)."""
    return {"messages": [await writer.ainvoke(state["messages"])]}


builder = StateGraph(MessagesState)
builder.add_node("plan", plan)
builder.add_node("write", write)
builder.add_edge(START, "plan")
builder.add_edge("plan", "write")
builder.add_edge("write", END)
graph = builder
