"""A compiled subgraph with a model and an approval-gated tool, used as one node of the parent graph.

The subgraph's model streams live (the runtime streams with `subgraphs=True`), its tool call arrives before
the approval that gates it, and the refund runs with the amount the customer approved (edits included).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Literal

from langchain_core.messages import AIMessage, AnyMessage, BaseMessage, HumanMessage, ToolMessage
from langgraph.graph import END, START, MessagesState, StateGraph
from langgraph.types import interrupt
from scripted_model import ScriptedChatModel


def _reply(messages: Sequence[BaseMessage]) -> AIMessage:
    last = messages[-1]
    if isinstance(last, ToolMessage):
        return AIMessage(f"Done: {last.text}")
    if isinstance(last, HumanMessage) and "refund" in last.text.lower():
        call = {
            "name": "refund",
            "args": {"order_id": "1044", "amount": 45.5},
            "id": None,
            "type": "tool_call",
        }
        return AIMessage("Let me refund order 1044 for you.", tool_calls=[call])
    return AIMessage("I can refund an order: say 'refund my order'.")


model = ScriptedChatModel(reply=_reply)


async def agent(state: MessagesState) -> dict[str, Any]:
    """The refunds agent: a model call (streamed token by token)."""
    return {"messages": [await model.ainvoke(state["messages"])]}


def tools(state: MessagesState) -> dict[str, Any]:
    """Run the model's refund calls, each after the customer's approval."""
    last = state["messages"][-1]
    results: list[AnyMessage] = []
    for call in getattr(last, "tool_calls", []):
        order, amount = call["args"]["order_id"], float(call["args"]["amount"])
        answer = interrupt(
            {
                "action": "refund",
                "description": f"Refund {amount:.2f} for order {order}?",
                "order_id": order,
                "amount": amount,
                "editable": ["amount"],
            }
        )
        approved = answer is True or (isinstance(answer, dict) and answer.get("approved") is True)
        edits = answer.get("edits") if isinstance(answer, dict) else None
        if isinstance(edits, dict) and isinstance(edits.get("amount"), int | float):
            amount = float(edits["amount"])
        text = (
            f"Refunded {amount:.2f} for order {order}." if approved else "The customer declined the refund."
        )
        results.append(ToolMessage(text, tool_call_id=call["id"], name="refund"))
    return {"messages": results}


def _next(state: MessagesState) -> Literal["tools", "__end__"]:
    return "tools" if getattr(state["messages"][-1], "tool_calls", None) else "__end__"


refunds_builder = StateGraph(MessagesState)
refunds_builder.add_node("agent", agent)
refunds_builder.add_node("tools", tools)
refunds_builder.add_edge(START, "agent")
refunds_builder.add_conditional_edges("agent", _next)
refunds_builder.add_edge("tools", "agent")
refunds = refunds_builder.compile()

builder = StateGraph(MessagesState)
builder.add_node("refunds", refunds)
builder.add_edge(START, "refunds")
builder.add_edge("refunds", END)
graph = builder
