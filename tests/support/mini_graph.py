"""A small real support graph for the engine's proofs: a scripted tool-calling model, a tool node,
an `interrupt()` approval and `InMemorySaver`. It mirrors the shapes of the acceptance suite's fakes."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, ToolMessage
from langchain_core.tools import tool
from langgraph.checkpoint.memory import InMemorySaver
from langgraph.graph import START, MessagesState, StateGraph
from langgraph.graph.state import CompiledStateGraph
from langgraph.prebuilt import ToolNode
from langgraph.types import interrupt

from support_agent.models.scripted import ScriptedChatModel


@dataclass
class MiniShop:
    """The shop behind the mini graph: order statuses, and a log of executed cancellations."""

    statuses: dict[str, str] = field(default_factory=lambda: {"1042": "shipped", "1043": "processing"})
    cancelled: list[str] = field(default_factory=list)


def _order_id(messages: Sequence[BaseMessage]) -> str:
    for message in reversed(messages):
        if isinstance(message, HumanMessage):
            found = re.search(r"\b\d{4}\b", message.text)
            if found:
                return found.group()
    return "1042"


def _info_reply(messages: Sequence[BaseMessage]) -> AIMessage:
    last = messages[-1]
    if isinstance(last, ToolMessage):
        return AIMessage(content=f"Order {_order_id(messages)} has been {last.text} and is on its way.")
    if re.search(r"status|where|track", last.text, re.I):
        return AIMessage(
            content="",
            tool_calls=[{"name": "get_order_status", "args": {"order_id": _order_id(messages)}, "id": "c1"}],
        )
    asked = sum(isinstance(m, HumanMessage) for m in messages)
    return AIMessage(content=f"This is turn {asked} about order {_order_id(messages)}.")


def _actions_reply(messages: Sequence[BaseMessage]) -> AIMessage:
    last = messages[-1]
    order_id = _order_id(messages)
    if isinstance(last, ToolMessage):
        if "declined" in last.text:
            return AIMessage(content=f"Understood. Order {order_id} will remain active.")
        return AIMessage(content=f"Order {order_id} has been cancelled successfully.")
    return AIMessage(
        content="", tool_calls=[{"name": "cancel_order", "args": {"order_id": order_id}, "id": "c2"}]
    )


def _calls(state: MessagesState) -> list[Any]:
    last = state["messages"][-1]
    return list(last.tool_calls) if isinstance(last, AIMessage) else []


def build_mini_graph(shop: MiniShop | None = None) -> CompiledStateGraph[Any, Any, Any, Any]:
    """Compile the mini graph over `shop` with an in-memory checkpointer."""
    shop = shop or MiniShop()
    info_model = ScriptedChatModel(respond=_info_reply, args_piece=5)
    actions_model = ScriptedChatModel(respond=_actions_reply, args_piece=5)

    @tool
    def get_order_status(order_id: str) -> str:
        """Look up an order's status."""
        return shop.statuses.get(order_id, "not found")

    def route(state: MessagesState) -> Literal["order_info", "order_actions"]:
        return "order_actions" if "cancel" in state["messages"][-1].text.lower() else "order_info"

    def order_info(state: MessagesState) -> dict[str, Any]:
        return {"messages": [info_model.invoke(state["messages"])]}

    def order_actions(state: MessagesState) -> dict[str, Any]:
        return {"messages": [actions_model.invoke(state["messages"])]}

    def approval(state: MessagesState) -> dict[str, Any]:
        call = _calls(state)[0]
        order_id = call["args"]["order_id"]
        approved = interrupt(
            {"action": call["name"], "order_id": order_id, "description": f"Cancel order {order_id}?"}
        )
        if approved:
            shop.cancelled.append(order_id)
            shop.statuses[order_id] = "cancelled"
            result = "cancelled"
        else:
            result = "The customer declined."
        return {"messages": [ToolMessage(content=result, tool_call_id=call["id"])]}

    def after_info(state: MessagesState) -> Literal["tools", "__end__"]:
        return "tools" if _calls(state) else "__end__"

    def after_actions(state: MessagesState) -> Literal["approval", "__end__"]:
        return "approval" if _calls(state) else "__end__"

    builder = StateGraph(MessagesState)
    builder.add_node("order_info", order_info)
    builder.add_node("tools", ToolNode([get_order_status]))
    builder.add_node("order_actions", order_actions)
    builder.add_node("approval", approval)
    builder.add_conditional_edges(START, route)
    builder.add_conditional_edges("order_info", after_info)
    builder.add_edge("tools", "order_info")
    builder.add_conditional_edges("order_actions", after_actions)
    builder.add_edge("approval", "order_actions")
    return builder.compile(checkpointer=InMemorySaver())
