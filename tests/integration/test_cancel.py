"""Cancelling a running turn on real compiled graphs: what the checkpoint keeps, and what never runs twice."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from langchain_core.messages import AIMessage
from langgraph.checkpoint.memory import InMemorySaver
from langgraph.graph import END, START, MessagesState, StateGraph
from langgraph.graph.state import CompiledStateGraph
from langgraph.types import interrupt

from chat_runtime.admission import NewMessage, Resume
from chat_runtime.control import CancelMode, TurnControl
from chat_runtime.engine import TurnStatus, run_turn, thread_config
from chat_runtime.protocol import ServerFrame

pytestmark = [pytest.mark.integration, pytest.mark.anyio]


def approving_graph(ledger: list[str]) -> CompiledStateGraph[Any, Any, Any, Any]:
    """`act` runs a write action after its approval (recorded in `ledger`), then `write` streams slowly."""

    def act(state: MessagesState) -> dict[str, Any]:
        if interrupt({"action": "pay", "description": "Pay 10.00?"}) is True:
            ledger.append("paid")
        return {"messages": [AIMessage("Paid.", name="act")]}

    async def write(state: MessagesState) -> dict[str, Any]:
        for index in range(50):
            await asyncio.sleep(0.05)
            if index == 0:
                from langgraph.config import get_stream_writer

                get_stream_writer()({"writing": True})
        return {"messages": [AIMessage("A long receipt.", name="write")]}

    builder = StateGraph(MessagesState)
    builder.add_node("act", act)
    builder.add_node("write", write)
    builder.add_edge(START, "act")
    builder.add_edge("act", "write")
    builder.add_edge("write", END)
    return builder.compile(checkpointer=InMemorySaver())


async def cancel_when(
    graph: Any, turn: Any, mode: CancelMode, started: type[ServerFrame] | str
) -> tuple[Any, list[ServerFrame]]:
    frames: list[ServerFrame] = []
    control = TurnControl()

    async def sink(frame: ServerFrame) -> None:
        frames.append(frame)
        if frame.type == started:
            control.cancel(mode)

    outcome = await run_turn(graph, "t", turn, sink, control=control)
    return outcome, frames


async def test_a_rollback_of_an_approved_action_keeps_it_and_never_runs_it_again() -> None:
    ledger: list[str] = []
    graph = approving_graph(ledger)
    first = await run_turn(graph, "t", NewMessage("pay it"), lambda frame: asyncio.sleep(0))
    assert first.status is TurnStatus.INTERRUPTED
    outcome, frames = await cancel_when(graph, Resume(True), CancelMode.ROLLBACK, "custom")
    assert outcome.status is TurnStatus.CANCELLED
    assert frames[-1].model_dump(exclude_none=True) == {
        "type": "message_complete",
        "thread_id": "t",
        "status": "cancelled",  # not rolled back: the approved payment ran
    }
    assert ledger == ["paid"]
    state = await graph.aget_state(thread_config("t"))
    assert [m.text for m in state.values["messages"]] == ["pay it", "Paid."] and state.next == ("write",)
    assert not state.interrupts  # the approval is not asked again, so it cannot run twice


def quick_then_slow() -> CompiledStateGraph[Any, Any, Any, Any]:
    """`quick` answers at once, then `slow` takes five seconds: something to cancel in between."""

    async def quick(state: MessagesState) -> dict[str, Any]:
        return {"messages": [AIMessage("quick", name="quick")]}

    async def slow(state: MessagesState) -> dict[str, Any]:
        await asyncio.sleep(5)
        return {"messages": [AIMessage("late", name="slow")]}

    builder = StateGraph(MessagesState)
    builder.add_node("quick", quick)
    builder.add_node("slow", slow)
    builder.add_edge(START, "quick")
    builder.add_edge("quick", "slow")
    return builder.compile(checkpointer=InMemorySaver())


async def test_a_rollback_of_a_new_message_returns_the_thread_to_before_the_turn() -> None:
    graph = quick_then_slow()
    kept, _ = await cancel_when(graph, NewMessage("first"), CancelMode.INTERRUPT, "token")
    assert kept.status is TurnStatus.CANCELLED
    before = await graph.aget_state(thread_config("t"))
    assert [m.text for m in before.values["messages"]] == ["first", "quick"]
    outcome, frames = await cancel_when(graph, NewMessage("second"), CancelMode.ROLLBACK, "token")
    assert outcome.status is TurnStatus.CANCELLED and frames[-1].model_dump()["status"] == "rolled_back"
    after = await graph.aget_state(thread_config("t"))
    assert (after.values, after.next) == (before.values, before.next)


async def test_rolling_back_a_threads_first_turn_empties_it() -> None:
    graph = quick_then_slow()
    outcome, frames = await cancel_when(graph, NewMessage("hello"), CancelMode.ROLLBACK, "token")
    assert outcome.status is TurnStatus.CANCELLED and frames[-1].model_dump()["status"] == "rolled_back"
    state = await graph.aget_state(thread_config("t"))
    assert not state.values and not state.next
