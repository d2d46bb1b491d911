"""Admission: may this valid frame start a turn on its thread, given the thread's session?

Pure functions with no I/O and no LangGraph import, so the API Gateway route handlers can refuse a frame
early and the worker (or the local server) can decide again, authoritatively, when the turn's time comes.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from chat_runtime.protocol import (
    ErrorCode,
    InterruptFrame,
    InterruptResponseFrame,
    MessageFrame,
    ProtocolError,
)
from chat_runtime.sessions import SessionRecord, ThreadStatus

DEFAULT_MAX_THREADS_PER_OWNER = 100
# A whole message that only says yes or no, while an approval is pending, answers it.
_POLITE = r"(?:\s*(?:please|thanks|thank you))?[\s.!]*"
_YES = re.compile(
    rf"^\s*(?:yes|yeah|yep|yup|sure|ok|okay|go ahead|do it|please do|approve|approved|confirm|i approve)"
    rf"{_POLITE}$",
    re.IGNORECASE,
)
_NO = re.compile(
    rf"^\s*(?:no|nope|nah|don'?t|do not|reject|decline|never mind|no thanks|stop){_POLITE}$", re.IGNORECASE
)


def yes_or_no(content: str) -> bool | None:
    """True for a plain yes, False for a plain no, None for anything else."""
    if _YES.match(content):
        return True
    if _NO.match(content):
        return False
    return None


@dataclass(frozen=True, slots=True)
class NewMessage:
    """A turn started by a user message."""

    content: str


@dataclass(frozen=True, slots=True)
class Resume:
    """A turn that answers a pending approval.

    Attributes:
        approved: The customer's decision.
        interrupt_id: The approval answered.
        edits: Replacement arguments for the action, when the customer edited them.
        answer_by_id: Address the answer to `interrupt_id` (needed when several approvals are pending).
    """

    approved: bool
    interrupt_id: str | None = None
    edits: dict[str, Any] | None = None
    answer_by_id: bool = False


TurnInput = NewMessage | Resume


@dataclass(frozen=True, slots=True)
class Admitted:
    """The frame may run as a turn."""

    turn_input: TurnInput


@dataclass(frozen=True, slots=True)
class Rejected:
    """The frame is refused; `resend` holds pending `interrupt` frames the client should see again."""

    error: ProtocolError
    resend: tuple[InterruptFrame, ...] = ()


def admit(
    frame: MessageFrame | InterruptResponseFrame, record: SessionRecord | None, now: float
) -> Admitted | Rejected:
    """Decide whether `frame` may start a turn on its thread.

    Args:
        frame: A client frame that passed `parse_client_frame`.
        record: The thread's session, or None for a thread never seen.
        now: The current Unix time, from the session manager's clock.

    Returns:
        `Admitted` with the turn's input, or `Rejected` with the error to send.
    """
    thread_id = frame.thread_id
    if record is not None and record.is_expired(now):
        return Rejected(
            ProtocolError(
                ErrorCode.SESSION_EXPIRED,
                "This conversation has expired. Start a new conversation with a new thread_id.",
                thread_id,
            )
        )
    pending = record.pending_interrupts if record is not None else ()
    awaiting = record is not None and record.status is ThreadStatus.AWAITING_APPROVAL and bool(pending)
    resend = tuple(p.to_frame(thread_id) for p in pending) if awaiting else ()
    if isinstance(frame, MessageFrame):
        answer = yes_or_no(frame.content) if awaiting else None
        if answer is not None and len(pending) == 1:
            return Admitted(Resume(answer, pending[0].interrupt_id))
        if answer is not None:
            return Rejected(
                ProtocolError(
                    ErrorCode.APPROVAL_PENDING,
                    f"{len(pending)} approvals are pending: approve or reject each one on its own card.",
                    thread_id,
                ),
                resend,
            )
        if awaiting:
            return Rejected(
                ProtocolError(
                    ErrorCode.APPROVAL_PENDING,
                    "An approval is pending on this thread: approve or reject it before sending a new one.",
                    thread_id,
                ),
                resend,
            )
        return Admitted(NewMessage(frame.content))
    if not awaiting:
        return Rejected(
            ProtocolError(
                ErrorCode.NO_PENDING_APPROVAL,
                "There is no pending approval on this thread: it was already answered, or none was asked.",
                thread_id,
            )
        )
    if frame.interrupt_id is None:
        if len(pending) > 1:
            return Rejected(
                ProtocolError(
                    ErrorCode.INVALID_FIELD,
                    f"{len(pending)} approvals are pending: say which one with interrupt_id.",
                    thread_id,
                ),
                resend,
            )
        return Admitted(Resume(frame.approved, pending[0].interrupt_id, frame.edits))
    if frame.interrupt_id not in {p.interrupt_id for p in pending}:
        return Rejected(
            ProtocolError(
                ErrorCode.UNKNOWN_INTERRUPT,
                "That approval is not pending: it was already answered or never existed.",
                thread_id,
            ),
            resend,
        )
    return Admitted(Resume(frame.approved, frame.interrupt_id, frame.edits, answer_by_id=len(pending) > 1))


def limit_threads(
    frame: MessageFrame | InterruptResponseFrame, existing: int, limit: int | None
) -> Rejected | None:
    """The refusal of a new thread for an owner who already has `limit` of them (None: no limit)."""
    if limit is None or existing < limit:
        return None
    return Rejected(
        ProtocolError(
            ErrorCode.TOO_MANY_THREADS,
            f"You have reached the limit of {limit} conversations. Continue an existing one.",
            frame.thread_id,
        )
    )
