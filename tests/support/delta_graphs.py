"""Real compiled graphs with a `DeltaChannel` conversation, for the savers' tests and benchmarks."""

from __future__ import annotations

import operator
from typing import Annotated, Any, TypedDict, cast

from langchain_core.messages import AIMessage, AnyMessage, HumanMessage
from langgraph.channels.delta import DeltaChannel
from langgraph.graph import END, START, StateGraph
from langgraph.types import Send, interrupt

from support_agent.state import add_message_batches


class Conversation(TypedDict):
    messages: Annotated[list[AnyMessage], DeltaChannel(add_message_batches, snapshot_frequency=7)]
    log: Annotated[list[str], operator.add]


def conversation_graph(saver: Any) -> Any:
    """A turn: the question, then one answer; a snapshot every 7 updates, so a test crosses several."""

    def reply(state: Conversation) -> dict[str, Any]:
        return {"messages": [AIMessage(content=f"answer {len(state['messages'])}")], "log": ["reply"]}

    graph = StateGraph(Conversation)
    graph.add_node("reply", reply)
    graph.add_edge(START, "reply")
    graph.add_edge("reply", END)
    return graph.compile(checkpointer=saver)


def branching_graph(saver: Any) -> Any:
    """Parallel tasks writing the conversation (`Send`), then a free-text `interrupt()`, its answer added."""

    def fan_out(state: Conversation) -> list[Send]:
        return [Send("look_up", {"messages": [], "log": [name]}) for name in ("orders", "refunds", "returns")]

    def look_up(task: Conversation) -> dict[str, Any]:
        return {"messages": [AIMessage(content=f"looked up {task['log'][0]}")], "log": task["log"]}

    def ask(state: Conversation) -> dict[str, Any]:
        answer = interrupt("Which one?")
        return {"messages": [HumanMessage(content=str(answer))], "log": ["asked"]}

    graph = StateGraph(Conversation)
    graph.add_node("look_up", cast(Any, look_up))  # a `Send` payload is its input
    graph.add_node("ask", ask)
    graph.add_conditional_edges(START, fan_out, ["look_up"])
    graph.add_edge("look_up", "ask")
    graph.add_edge("ask", END)
    return graph.compile(checkpointer=saver)
