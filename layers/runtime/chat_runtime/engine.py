"""The turn engine: run one turn of a compiled LangGraph graph and turn its stream into protocol frames.

Both transports call :func:`run_turn`; only the sink that delivers frames differs.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Protocol

from langchain_core.messages import AIMessage, AIMessageChunk, HumanMessage
from langchain_core.runnables import RunnableConfig
from langgraph.types import Command, Interrupt, StateSnapshot

from chat_runtime.admission import NewMessage, TurnInput
from chat_runtime.checkpoints import STORAGE_KEY
from chat_runtime.protocol import (
    ErrorCode,
    ErrorFrame,
    MessageCompleteFrame,
    ServerFrame,
    TokenFrame,
    ToolCallFrame,
)
from chat_runtime.sessions import PendingInterrupt

logger = logging.getLogger(__name__)

STREAM_MODES = ["messages", "updates"]
AGENT_ERROR_MESSAGE = "Sorry, the assistant ran into a problem answering that. Please try again."
TURN_TIMEOUT_MESSAGE = "Sorry, that took too long to answer and was stopped. Please try again."
_RESERVED_FRAME_KEYS = frozenset({"type", "thread_id", "interrupt_id", "action", "description"})


class FrameSink(Protocol):
    """Delivers server frames to the client; implementations must not raise on a closed connection."""

    async def __call__(self, frame: ServerFrame) -> None: ...


class TurnGraph(Protocol):
    """What the engine needs of a compiled graph (a `CompiledStateGraph` satisfies it)."""

    @property
    def astream(self) -> Callable[..., AsyncIterator[Any]]: ...

    @property
    def aget_state(self) -> Callable[..., Awaitable[StateSnapshot]]: ...


class TurnStatus(StrEnum):
    """How a turn ended."""

    COMPLETED = "completed"
    INTERRUPTED = "interrupted"
    FAILED = "failed"


@dataclass(frozen=True, slots=True)
class TurnOutcome:
    """How a turn ended and which approvals the thread now waits for."""

    status: TurnStatus
    pending_interrupts: tuple[PendingInterrupt, ...] = ()


def thread_config(
    thread_id: str, configurable: Mapping[str, Any] | None = None, storage_key: str | None = None
) -> RunnableConfig:
    """The run config for a thread: the client's `thread_id`, transport facts such as the customer id, and
    the owner-scoped key its checkpoints are stored under (see `chat_runtime.checkpoints`)."""
    scoped = {STORAGE_KEY: storage_key} if storage_key and storage_key != thread_id else {}
    return {"configurable": {**(configurable or {}), **scoped, "thread_id": thread_id}}


async def run_turn(
    graph: TurnGraph,
    thread_id: str,
    turn_input: TurnInput,
    sink: FrameSink,
    *,
    configurable: Mapping[str, Any] | None = None,
    stream_options: Mapping[str, Any] | None = None,
    thread_key: str | None = None,
    max_seconds: float | None = None,
) -> TurnOutcome:
    """Run one turn and push its frames to `sink`.

    The turn ends with exactly one of: `interrupt` frames (one per pending approval), `message_complete`,
    or an `error` frame with code `agent_error` (details are logged, never sent).

    Args:
        graph: A compiled graph with a checkpointer.
        thread_id: The conversation, used as LangGraph's `thread_id`.
        turn_input: A new user message or an answer to a pending approval.
        sink: Where frames go.
        configurable: Extra `configurable` entries for the run (e.g. `customer_id`).
        stream_options: Extra keyword arguments for `graph.astream` (e.g. `durability`).
        thread_key: The key the thread's checkpoints are stored under, when it differs from the client's
            id (scoped to an owner); the graph still sees the client's `thread_id`.
        max_seconds: Stop the turn after this long with a `turn_timeout` error (the thread stays usable).

    Returns:
        The outcome, with the approvals the thread waits for.
    """
    config = thread_config(thread_id, configurable, thread_key)
    translator = _StreamTranslator(thread_id, sink)
    try:
        async with asyncio.timeout(max_seconds):
            async for item in graph.astream(
                graph_input(turn_input), config=config, stream_mode=STREAM_MODES, **(stream_options or {})
            ):
                await translator.feed(item)
            await translator.flush_all()
        pending = pending_interrupts(await graph.aget_state(config))
    except TimeoutError:
        logger.warning("turn stopped after %s s", max_seconds, extra={"thread_id": thread_id})
        await sink(ErrorFrame(code=ErrorCode.TURN_TIMEOUT, message=TURN_TIMEOUT_MESSAGE, thread_id=thread_id))
        return TurnOutcome(TurnStatus.FAILED, await _pending_after_failure(graph, config))
    except Exception:
        logger.exception("turn failed", extra={"thread_id": thread_id})
        await sink(ErrorFrame(code=ErrorCode.AGENT_ERROR, message=AGENT_ERROR_MESSAGE, thread_id=thread_id))
        return TurnOutcome(TurnStatus.FAILED, await _pending_after_failure(graph, config))
    if pending:
        for interrupt in pending:
            await sink(interrupt.to_frame(thread_id))
        return TurnOutcome(TurnStatus.INTERRUPTED, pending)
    await sink(MessageCompleteFrame(thread_id=thread_id))
    return TurnOutcome(TurnStatus.COMPLETED)


def graph_input(turn_input: TurnInput) -> Any:
    """The graph input for a turn: new messages, or a `Command` that resumes the pending approval."""
    if isinstance(turn_input, NewMessage):
        return {"messages": [HumanMessage(content=turn_input.content)]}
    value: Any = turn_input.approved
    if turn_input.approved and turn_input.edits is not None:
        value = {"approved": True, "edits": turn_input.edits}
    if turn_input.answer_by_id and turn_input.interrupt_id is not None:
        return Command(resume={turn_input.interrupt_id: value})
    return Command(resume=value)


def pending_interrupt(interrupt: Interrupt) -> PendingInterrupt:
    """Describe a LangGraph `Interrupt` as a pending approval (its value's keys become frame fields)."""
    value = interrupt.value
    if not isinstance(value, Mapping):
        return PendingInterrupt(interrupt.id, "approval", str(value))
    action = str(value.get("action", "approval"))
    data = {str(key): _json_safe(item) for key, item in value.items() if str(key) not in _RESERVED_FRAME_KEYS}
    description = value.get("description")
    if not isinstance(description, str) or not description:
        details = ", ".join(f"{key} {item}" for key, item in data.items())
        description = f"Approve {action.replace('_', ' ')}" + (f" ({details})" if details else "") + "?"
    return PendingInterrupt(interrupt.id, action, description, data)


def pending_interrupts(state: StateSnapshot) -> tuple[PendingInterrupt, ...]:
    """The approvals a thread's checkpoint waits for."""
    interrupts = tuple(state.interrupts) or tuple(i for task in state.tasks for i in task.interrupts)
    return tuple(pending_interrupt(interrupt) for interrupt in interrupts)


async def _pending_after_failure(graph: TurnGraph, config: RunnableConfig) -> tuple[PendingInterrupt, ...]:
    """Approvals still pending after a failed turn, so a failed resume can be answered again."""
    try:
        return pending_interrupts(await graph.aget_state(config))
    except Exception:
        logger.exception("could not read the thread's state after a failed turn")
        return ()


def _json_safe(value: Any) -> Any:
    return json.loads(json.dumps(value, default=str))


@dataclass(slots=True)
class _PartialMessage:
    message: AIMessageChunk
    agent: str
    namespace: str


class _StreamTranslator:
    """Maps `(mode, data)` stream items to frames, accumulating tool-call chunks per message."""

    def __init__(self, thread_id: str, sink: FrameSink) -> None:
        self._thread_id = thread_id
        self._sink = sink
        self._partial: dict[str, _PartialMessage] = {}

    async def feed(self, item: Any) -> None:
        mode, data = item
        if mode == "messages":
            message, metadata = data
            await self._on_message(message, metadata)
        elif mode == "updates" and isinstance(data, Mapping):
            # A node finished: its messages are complete.
            finished = {str(node) for node in data if node != "__interrupt__"}
            for key in [k for k, p in self._partial.items() if p.agent in finished]:
                await self._flush(key)

    async def flush_all(self) -> None:
        for key in list(self._partial):
            await self._flush(key)

    async def _on_message(self, message: Any, metadata: Mapping[str, Any]) -> None:
        if not isinstance(message, AIMessage):
            return  # user and tool messages are not agent output
        agent = str(metadata.get("langgraph_node", "agent"))
        text = message.text
        if text:
            await self._sink(TokenFrame(thread_id=self._thread_id, content=text, agent=agent))
        if not isinstance(message, AIMessageChunk):
            for call in message.tool_calls:
                await self._send_tool_call(call["name"], call["args"], call["id"], agent)
            return
        namespace = str(metadata.get("langgraph_checkpoint_ns", ""))
        key = message.id or f"{namespace}:anonymous"
        # A node streams its model calls one after another: a new message id ends the previous one.
        for other in [k for k, p in self._partial.items() if p.namespace == namespace and k != key]:
            await self._flush(other)
        if message.tool_call_chunks:
            partial = self._partial.get(key)
            if partial is None:
                self._partial[key] = _PartialMessage(message, agent, namespace)
            else:
                partial.message = partial.message + message
        if message.chunk_position == "last":
            await self._flush(key)

    async def _flush(self, key: str) -> None:
        partial = self._partial.pop(key, None)
        if partial is None:
            return
        # Re-parse once, as a whole message: per-chunk `tool_calls` are only partial parses.
        whole = AIMessageChunk(
            content="", id=partial.message.id, tool_call_chunks=partial.message.tool_call_chunks
        )
        for call in whole.tool_calls:
            await self._send_tool_call(call["name"], call["args"], call.get("id"), partial.agent)
        for invalid in whole.invalid_tool_calls:
            logger.warning("dropped a tool call whose arguments are not valid JSON: %s", invalid.get("name"))

    async def _send_tool_call(self, name: str, args: Any, call_id: str | None, agent: str) -> None:
        frame = ToolCallFrame(
            thread_id=self._thread_id,
            tool=name,
            args=args if isinstance(args, dict) else {},
            agent=agent,
            call_id=call_id,
        )
        await self._sink(frame)
