"""The turn engine: run one turn of a compiled LangGraph graph and turn its stream into protocol frames.

Both transports call :func:`run_turn`; only the sink that delivers frames differs.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Protocol

from langchain_core.messages import HumanMessage
from langchain_core.runnables import RunnableConfig
from langgraph.types import Command, StateSnapshot

from chat_runtime.admission import Answers, Dismiss, NewMessage, Resume, TurnInput
from chat_runtime.checkpoints import STORAGE_KEY
from chat_runtime.control import CancelMode, TurnControl
from chat_runtime.interrupts import pending_interrupt, pending_interrupts
from chat_runtime.protocol import ErrorCode, ErrorFrame, MessageCompleteFrame
from chat_runtime.rollback import TURN_ID, roll_back
from chat_runtime.sessions import PendingInterrupt
from chat_runtime.stream import FrameSink, StreamTranslator, stream_modes

__all__ = [
    "FrameSink",
    "TurnGraph",
    "TurnOutcome",
    "TurnStatus",
    "graph_input",
    "pending_interrupt",
    "pending_interrupts",
    "run_turn",
    "thread_config",
]

logger = logging.getLogger(__name__)

AGENT_ERROR_MESSAGE = "Sorry, the assistant ran into a problem answering that. Please try again."
TURN_TIMEOUT_MESSAGE = "Sorry, that took too long to answer and was stopped. Please try again."


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
    CANCELLED = "cancelled"
    FAILED = "failed"


@dataclass(frozen=True, slots=True)
class TurnOutcome:
    """How a turn ended and which interrupts the thread now waits for."""

    status: TurnStatus
    pending_interrupts: tuple[PendingInterrupt, ...] = ()


def thread_config(
    thread_id: str,
    configurable: Mapping[str, Any] | None = None,
    storage_key: str | None = None,
    turn_id: str | None = None,
) -> RunnableConfig:
    """The run config for a thread: the client's `thread_id`, transport facts such as the customer id, the
    owner-scoped key its checkpoints are stored under (see `chat_runtime.checkpoints`), and the turn's id,
    which LangGraph copies into the metadata of the checkpoints the turn writes."""
    scoped = {STORAGE_KEY: storage_key} if storage_key and storage_key != thread_id else {}
    config: RunnableConfig = {"configurable": {**(configurable or {}), **scoped, "thread_id": thread_id}}
    if turn_id is not None:
        config["metadata"] = {TURN_ID: turn_id}
    return config


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
    control: TurnControl | None = None,
    extras: frozenset[str] = frozenset(),
) -> TurnOutcome:
    """Run one turn and push its frames to `sink`.

    The turn ends with exactly one of: `interrupt` frames (one per pending interrupt), `message_complete`
    (with a `status` when it was cancelled, rolled back or dismissed its interrupts), or an `error` frame
    (`agent_error`, `turn_timeout`; details are logged, never sent).

    Args:
        graph: A compiled graph with a checkpointer.
        thread_id: The conversation, used as LangGraph's `thread_id`.
        turn_input: A new user message, answers to pending interrupts, or their dismissal.
        sink: Where frames go.
        configurable: Extra `configurable` entries for the run (e.g. `customer_id`).
        stream_options: Extra keyword arguments for `graph.astream` (e.g. `durability`).
        thread_key: The key the thread's checkpoints are stored under, when it differs from the client's
            id (scoped to an owner); the graph still sees the client's `thread_id`.
        max_seconds: Stop the turn after this long with a `turn_timeout` error (the thread stays usable).
        control: Lets the transport cancel the turn while it runs.
        extras: Frames the client asked for besides the usual ones (`updates`, `values`, `tool_results`).

    Returns:
        The outcome, with the interrupts the thread waits for.
    """
    if isinstance(turn_input, Dismiss):
        await sink(MessageCompleteFrame(thread_id=thread_id, status="dismissed"))
        return TurnOutcome(TurnStatus.COMPLETED)
    turn_id = uuid.uuid4().hex
    config = thread_config(thread_id, configurable, thread_key, turn_id)
    translator = StreamTranslator(thread_id, sink, extras)

    async def stream() -> None:
        async for item in graph.astream(
            graph_input(turn_input),
            config=config,
            stream_mode=stream_modes(extras),
            subgraphs=True,
            **(stream_options or {}),
        ):
            await translator.feed(item)
        await translator.flush_all()

    try:
        async with asyncio.timeout(max_seconds):
            mode = await _until_done_or_cancelled(stream(), control)
        if mode is not None:
            return await _cancelled(graph, config, turn_id, turn_input, mode, sink)
        pending = pending_interrupts(await graph.aget_state(config), translator.interrupt_namespaces)
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


async def _until_done_or_cancelled(work: Awaitable[None], control: TurnControl | None) -> CancelMode | None:
    """Await `work`; if the turn is cancelled first, stop it and return the cancel's mode."""
    task = asyncio.ensure_future(work)
    if control is None:
        await task
        return None
    waiter = asyncio.ensure_future(control.wait())
    try:
        await asyncio.wait({task, waiter}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        waiter.cancel()
        if not task.done():
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
    if task.cancelled():
        return control.mode
    task.result()  # the graph's own failure, if it failed before the cancel
    return None


async def _cancelled(
    graph: TurnGraph,
    config: RunnableConfig,
    turn_id: str,
    turn_input: TurnInput,
    mode: CancelMode,
    sink: FrameSink,
) -> TurnOutcome:
    """End a cancelled turn: keep its checkpoint, or roll back to the one before it."""
    thread_id = str(config["configurable"]["thread_id"])
    if mode is CancelMode.ROLLBACK and isinstance(turn_input, Resume | Answers):
        # The answer may have let an approved action run: undoing the checkpoint would ask for it again.
        logger.info(
            "a cancelled resume keeps its progress instead of rolling back", extra={"thread_id": thread_id}
        )
        mode = CancelMode.INTERRUPT
    if mode is CancelMode.ROLLBACK:
        await roll_back(graph, config, turn_id)
    logger.info("turn cancelled (%s)", mode.value, extra={"thread_id": thread_id})
    status = "rolled_back" if mode is CancelMode.ROLLBACK else "cancelled"
    await sink(MessageCompleteFrame(thread_id=thread_id, status=status))
    return TurnOutcome(TurnStatus.CANCELLED)


def graph_input(turn_input: TurnInput) -> Any:
    """The graph input for a turn: new messages, or a `Command` that resumes pending interrupts."""
    if isinstance(turn_input, NewMessage):
        return {"messages": [HumanMessage(content=turn_input.content)]}
    if isinstance(turn_input, Answers):
        if turn_input.by_id:
            return Command(resume=dict(turn_input.values))
        return Command(resume=turn_input.values[0][1])
    if isinstance(turn_input, Dismiss):
        raise ValueError("dismissing interrupts does not run the graph")
    value: Any = turn_input.approved
    if turn_input.approved and turn_input.edits is not None:
        value = {"approved": True, "edits": turn_input.edits}
    if turn_input.answer_by_id and turn_input.interrupt_id is not None:
        return Command(resume={turn_input.interrupt_id: value})
    return Command(resume=value)


async def _pending_after_failure(graph: TurnGraph, config: RunnableConfig) -> tuple[PendingInterrupt, ...]:
    """Interrupts still pending after a failed turn, so a failed resume can be answered again."""
    try:
        return pending_interrupts(await graph.aget_state(config))
    except Exception:
        logger.exception("could not read the thread's state after a failed turn")
        return ()
