"""The acceptance suite's fakes stream what a real compiled graph streams; the engine treats both alike."""

from __future__ import annotations

from typing import Any

import pytest
from langchain_core.messages import AIMessageChunk
from langgraph.types import Command, Interrupt, StateSnapshot

from chat_runtime.admission import NewMessage, Resume
from chat_runtime.engine import TurnGraph, run_turn, thread_config
from chat_runtime.protocol import ServerFrame
from chat_runtime.stream import stream_modes
from tests.e2e.conftest import make_chunk, make_graph, make_state, make_tool_chunk
from tests.support.mini_graph import build_mini_graph

pytestmark = [pytest.mark.integration, pytest.mark.anyio]


async def collect(graph: TurnGraph, graph_input: Any, thread_id: str) -> list[Any]:
    return [
        item
        async for item in graph.astream(
            graph_input,
            config=thread_config(thread_id),
            stream_mode=stream_modes(frozenset()),
            subgraphs=True,
        )
    ]


def shape(item: Any) -> tuple[str, str, frozenset[str]]:
    """What a consumer of the stream relies on: the mode, the payload's type and its metadata keys."""
    namespace, mode, data = item
    assert namespace == ()  # the root graph's items (subgraphs=True names a subgraph's)
    if mode == "messages":
        message, metadata = data
        return mode, type(message).__name__, frozenset(metadata)
    if "__interrupt__" in data:
        return mode, "__interrupt__", frozenset(type(i).__name__ for i in data["__interrupt__"])
    return mode, "node_update", frozenset(key for update in data.values() for key in update)


def ai_shapes(items: list[Any]) -> set[tuple[str, str, frozenset[str]]]:
    return {shape(i) for i in items if i[1] != "messages" or isinstance(i[2][0], AIMessageChunk)}


async def test_tool_call_and_text_items_have_the_real_shapes() -> None:
    real = await collect(build_mini_graph(), {"messages": [("user", "Status of order 1042?")]}, "f-1")
    fake_graph = make_graph(
        chunks=[make_tool_chunk("get_order_status", {"order_id": "1042"}), make_chunk("Order 1042 shipped.")]
    )
    fake = await collect(fake_graph, {"messages": [("user", "Status of order 1042?")]}, "f-1")

    assert ai_shapes(fake) <= ai_shapes(real)
    real_chunk = next(i[2][0] for i in real if i[1] == "messages" and i[2][0].tool_call_chunks)
    fake_chunk = next(i[2][0] for i in fake if i[1] == "messages" and i[2][0].tool_call_chunks)
    assert set(fake_chunk.tool_call_chunks[0]) == set(real_chunk.tool_call_chunks[0])
    assert real[0][2][1]["thread_id"] == fake[0][2][1]["thread_id"] == "f-1"


async def test_interrupt_items_and_states_have_the_real_shapes() -> None:
    real_graph = build_mini_graph()
    real = await collect(real_graph, {"messages": [("user", "Cancel order 1042")]}, "f-2")
    fake_graph = make_graph(
        state=make_state(interrupt=True, data={"action": "cancel_order", "order_id": "1042"}),
        resume_chunks=[make_chunk("Order 1042 has been cancelled.", "order_actions")],
    )
    fake = await collect(fake_graph, {"messages": [("user", "Cancel order 1042")]}, "f-2")

    real_interrupt = real[-1][2]["__interrupt__"]
    fake_interrupt = fake[-1][2]["__interrupt__"]
    assert type(real_interrupt) is type(fake_interrupt) is tuple
    assert all(isinstance(i, Interrupt) for i in (*real_interrupt, *fake_interrupt))
    assert {"action", "order_id"} <= set(real_interrupt[0].value) & set(fake_interrupt[0].value)

    config = thread_config("f-2")
    states = [await real_graph.aget_state(config), await fake_graph.aget_state(config)]
    for state in states:
        assert isinstance(state, StateSnapshot)
        assert state.next and state.interrupts
        assert state.tasks[0].interrupts == state.interrupts

    await collect(real_graph, Command(resume=True), "f-2")
    await collect(fake_graph, Command(resume=True), "f-2")
    for state in [await real_graph.aget_state(config), await fake_graph.aget_state(config)]:
        assert state.next == () and state.interrupts == ()


async def engine_frames(graph: TurnGraph, turns: list[NewMessage | Resume]) -> list[dict[str, Any]]:
    """The engine's frames, with ids dropped and each run of tokens merged (streaming granularity differs)."""
    frames: list[ServerFrame] = []

    async def sink(frame: ServerFrame) -> None:
        frames.append(frame)

    for turn in turns:
        await run_turn(graph, "f-3", turn, sink)
    merged: list[dict[str, Any]] = []
    for frame in frames:
        data = frame.model_dump(exclude={"interrupt_id", "call_id", "description"})
        if merged and data["type"] == "token" == merged[-1]["type"] and data["agent"] == merged[-1]["agent"]:
            merged[-1]["content"] += data["content"]
        else:
            merged.append(data)
    return merged


async def test_the_engine_turns_fake_and_real_streams_into_the_same_frames() -> None:
    turns: list[NewMessage | Resume] = [NewMessage("Cancel order 1043"), Resume(approved=True)]
    real = await engine_frames(build_mini_graph(), turns)
    fake = await engine_frames(
        make_graph(
            state=make_state(interrupt=True, data={"action": "cancel_order", "order_id": "1043"}),
            resume_chunks=[make_chunk("Order 1043 has been cancelled successfully.", "order_actions")],
        ),
        turns,
    )
    # The real graph also reports the model's tool call before the approval; the fake scripts only the stop.
    assert [f for f in real if f["type"] != "tool_call"] == fake
