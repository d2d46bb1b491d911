"""Refusals about a thread's running turn, shared by both transports (no LangGraph import)."""

from __future__ import annotations

from chat_runtime.protocol import ErrorCode, ProtocolError


def turn_running(thread_id: str) -> ProtocolError:
    """A `message` with `multitask_strategy` `reject` while a turn runs (or waits to run) on its thread."""
    return ProtocolError(
        ErrorCode.TURN_RUNNING,
        "A turn is running on this thread: wait for it to end, or cancel it, before sending another message.",
        thread_id,
    )


def no_running_turn(thread_id: str) -> ProtocolError:
    """A `cancel` on a thread with no running turn (it already ended, or none was started)."""
    return ProtocolError(
        ErrorCode.NO_RUNNING_TURN,
        "There is no running turn on this thread to cancel: it already ended.",
        thread_id,
    )
