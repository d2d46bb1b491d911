"""A node that reports its progress with `get_stream_writer()` (LangGraph's `custom` stream mode)."""

from __future__ import annotations

import asyncio
from typing import Any

from langchain_core.messages import AIMessage
from langgraph.config import get_stream_writer
from langgraph.graph import START, MessagesState, StateGraph

STEPS = ("Reading your orders", "Checking the prices", "Writing the summary")


async def report(state: MessagesState) -> dict[str, Any]:
    """Work through the steps, telling the client how far it got."""
    write = get_stream_writer()
    for done, step in enumerate(STEPS, 1):
        write({"step": step, "progress": round(done / len(STEPS), 2)})
        await asyncio.sleep(0.05)
    return {"messages": [AIMessage("Your report is ready: 4 orders, 320.50 in total.", name="report")]}


builder = StateGraph(MessagesState)
builder.add_node("report", report)
builder.add_edge(START, "report")
graph = builder
