"""The turn engine on real compiled graphs: stream mapping, interrupts, resumes and failures."""

from __future__ import annotations

import operator
from typing import Annotated, Any, TypedDict

import pytest
from langchain_core.messages import AIMessage, AIMessageChunk
from langgraph.checkpoint.memory import InMemorySaver
from langgraph.graph import END, START, MessagesState, StateGraph
from langgraph.graph.state import CompiledStateGraph
from langgraph.types import interrupt

from chat_runtime.admission import NewMessage, Resume
from chat_runtime.engine import AGENT_ERROR_MESSAGE, TurnStatus, run_turn
from chat_runtime.protocol import InterruptResponseFrame, MessageFrame, ServerFrame
from chat_runtime.sessions import InMemorySessionManager, ThreadStatus
from chat_runtime.turns import TurnRunner
from support_agent.models.scripted import ScriptedChatModel

pytestmark = pytest.mark.anyio


class Frames(list[dict[str, Any]]):
    async def __call__(self, frame: ServerFrame) -> None:
        self.append(frame.model_dump(exclude_none=True))

    def of(self, kind: str) -> list[dict[str, Any]]:
        return [f for f in self if f["type"] == kind]


def model_graph(model: Any, node: str = "order_info") -> CompiledStateGraph[Any, Any, Any, Any]:
    def call(state: MessagesState) -> dict[str, Any]:
        return {"messages": [model.invoke(state["messages"])]}

    builder = StateGraph(MessagesState)
    builder.add_node(node, call)
    builder.add_edge(START, node)
    builder.add_edge(node, END)
    return builder.compile(checkpointer=InMemorySaver())


async def test_parallel_tool_calls_streamed_in_pieces_become_one_frame_each() -> None:
    reply = AIMessage(
        content="Checking both.",
        tool_calls=[
            {"name": "get_order_status", "args": {"order_id": "1042"}, "id": "a"},
            {"name": "track_shipment", "args": {"order_id": "1044", "verbose": True}, "id": "b"},
        ],
    )
    frames = Frames()
    outcome = await run_turn(
        model_graph(ScriptedChatModel.from_replies([reply]).model_copy(update={"args_piece": 3})),
        "t",
        NewMessage("hi"),
        frames,
    )
    assert outcome.status is TurnStatus.COMPLETED
    assert [(f["tool"], f["args"], f["call_id"], f["agent"]) for f in frames.of("tool_call")] == [
        ("get_order_status", {"order_id": "1042"}, "a", "order_info"),
        ("track_shipment", {"order_id": "1044", "verbose": True}, "b", "order_info"),
    ]
    tokens = frames.of("token")
    assert [t["content"] for t in tokens] == ["Checking ", "both."]  # the empty closing chunk is not sent
    assert frames[-1] == {"type": "message_complete", "thread_id": "t"}


async def test_content_blocks_and_whole_messages_are_streamed_as_text() -> None:
    def blocks(state: MessagesState) -> dict[str, Any]:
        return {"messages": [AIMessageChunk(content=[{"type": "text", "text": "From blocks.", "index": 0}])]}

    def whole(state: MessagesState) -> dict[str, Any]:
        return {
            "messages": [
                AIMessage(content="Done.", tool_calls=[{"name": "list_orders", "args": {}, "id": "w"}])
            ]
        }

    builder = StateGraph(MessagesState)
    builder.add_node("router", blocks)
    builder.add_node("order_actions", whole)
    builder.add_edge(START, "router")
    builder.add_edge("router", "order_actions")
    builder.add_edge("order_actions", END)
    frames = Frames()
    await run_turn(builder.compile(checkpointer=InMemorySaver()), "t", NewMessage("hi"), frames)
    assert [(f["type"], f.get("content") or f.get("tool"), f["agent"]) for f in frames[:-1]] == [
        ("token", "From blocks.", "router"),
        ("token", "Done.", "order_actions"),
        ("tool_call", "list_orders", "order_actions"),
    ]


async def test_a_failing_graph_yields_a_safe_agent_error_and_the_thread_stays_usable(
    caplog: pytest.LogCaptureFixture,
) -> None:
    calls = {"n": 0}

    def flaky(messages: Any) -> AIMessage:
        calls["n"] += 1
        if calls["n"] == 1:
            raise RuntimeError("database password is hunter2")
        return AIMessage(content="Back on track.")

    runner = TurnRunner(model_graph(ScriptedChatModel(respond=flaky)), InMemorySessionManager())
    frames = Frames()
    outcome = await runner.handle(MessageFrame(type="message", thread_id="t", content="hi"), frames)
    assert outcome is not None and outcome.status is TurnStatus.FAILED
    assert frames == [
        {"type": "error", "code": "agent_error", "message": AGENT_ERROR_MESSAGE, "thread_id": "t", "seq": 1}
    ]
    assert "hunter2" in caplog.text and "hunter2" not in str(frames)
    assert runner.sessions.get_state("t").status is ThreadStatus.IDLE  # type: ignore[union-attr]

    frames.clear()
    await runner.handle(MessageFrame(type="message", thread_id="t", content="again"), frames)
    assert "".join(f["content"] for f in frames.of("token")) == "Back on track."
    assert frames[-1]["type"] == "message_complete"


class Approvals(TypedDict):
    decisions: Annotated[list[str], operator.add]


def parallel_approvals_graph() -> CompiledStateGraph[Any, Any, Any, Any]:
    def ask(order_id: str, action: str) -> Any:
        def node(state: Approvals) -> dict[str, Any]:
            answer = interrupt({"action": action, "order_id": order_id})
            return {"decisions": [f"{action} {order_id}: {answer}"]}

        return node

    builder = StateGraph(Approvals)
    builder.add_node("cancel", ask("1043", "cancel_order"))
    builder.add_node("refund", ask("1044", "request_refund"))
    builder.add_edge(START, "cancel")
    builder.add_edge(START, "refund")
    builder.add_edge("cancel", END)
    builder.add_edge("refund", END)
    return builder.compile(checkpointer=InMemorySaver())


async def test_parallel_approvals_are_answered_one_by_one_by_interrupt_id() -> None:
    graph = parallel_approvals_graph()
    runner = TurnRunner(graph, InMemorySessionManager())
    frames = Frames()
    await runner.handle(MessageFrame(type="message", thread_id="p", content="go"), frames)
    interrupts = {f["action"]: f for f in frames.of("interrupt")}
    assert set(interrupts) == {"cancel_order", "request_refund"}
    assert interrupts["request_refund"]["description"] == "Approve request refund (order_id 1044)?"
    assert not frames.of("message_complete")

    frames.clear()
    refund_id = interrupts["request_refund"]["interrupt_id"]
    answer = InterruptResponseFrame(
        type="interrupt_response", thread_id="p", approved=False, interrupt_id=refund_id
    )
    await runner.handle(answer, frames)
    assert [f["action"] for f in frames.of("interrupt")] == ["cancel_order"]  # still pending, sent again

    frames.clear()
    await runner.handle(answer, frames)
    assert frames.of("error")[0]["code"] == "unknown_interrupt"  # already answered

    frames.clear()
    await runner.handle(
        InterruptResponseFrame(type="interrupt_response", thread_id="p", approved=True), frames
    )
    assert frames[-1]["type"] == "message_complete"
    state = await graph.aget_state({"configurable": {"thread_id": "p"}})
    assert sorted(state.values["decisions"]) == ["cancel_order 1043: True", "request_refund 1044: False"]


async def test_edits_reach_the_graph_with_the_approval() -> None:
    graph = parallel_approvals_graph()
    frames = Frames()
    await run_turn(graph, "e", NewMessage("go"), frames)
    pending = {f["action"]: f["interrupt_id"] for f in frames.of("interrupt")}
    edits = {"order_id": "1046"}
    await run_turn(graph, "e", Resume(True, pending["cancel_order"], edits, answer_by_id=True), frames)
    await run_turn(graph, "e", Resume(False, pending["request_refund"]), frames)
    state = await graph.aget_state({"configurable": {"thread_id": "e"}})
    assert sorted(state.values["decisions"]) == [
        "cancel_order 1043: {'approved': True, 'edits': {'order_id': '1046'}}",
        "request_refund 1044: False",
    ]
