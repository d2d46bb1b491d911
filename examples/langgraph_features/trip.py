"""Several interrupts pending at once: two parallel nodes each ask something; one frame can answer both.

`flight` asks for an approval (an object naming an `action`); `seat` asks an open question with a JSON
value. Both wait together; the answers come back by interrupt id.
"""

from __future__ import annotations

import operator
from typing import Annotated, Any

from langchain_core.messages import AIMessage
from langgraph.graph import END, START, MessagesState, StateGraph
from langgraph.types import interrupt


class TripState(MessagesState):
    """The conversation and the trip's parts as they are decided."""

    booked: Annotated[list[str], operator.add]


def flight(state: TripState) -> dict[str, Any]:
    """Book the flight once the customer approves it."""
    answer = interrupt(
        {
            "action": "book_flight",
            "description": "Book flight LX 318 to Lisbon for 240.00?",
            "flight": "LX 318",
        }
    )
    approved = answer is True or (isinstance(answer, dict) and answer.get("approved") is True)
    return {"booked": ["flight LX 318" if approved else "no flight"]}


def seat(state: TripState) -> dict[str, Any]:
    """Ask where the customer likes to sit; any JSON answer is fine."""
    choice = interrupt({"question": "Window or aisle?", "options": ["window", "aisle"]})
    return {"booked": [f"seat: {choice}"]}


def summary(state: TripState) -> dict[str, Any]:
    """Say what was booked."""
    return {"messages": [AIMessage("Booked: " + ", ".join(sorted(state["booked"])) + ".", name="summary")]}


builder = StateGraph(TripState)
builder.add_node("flight", flight)
builder.add_node("seat", seat)
builder.add_node("summary", summary)
builder.add_edge(START, "flight")
builder.add_edge(START, "seat")
builder.add_edge(["flight", "seat"], "summary")
builder.add_edge("summary", END)
graph = builder
