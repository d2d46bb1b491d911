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
from chat_runtime.sessions import PendingInterrupt, SessionRecord, ThreadStatus

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


@dataclass(frozen=True, slots=True)
class Answers:
    """A turn that answers pending interrupts with the client's own values.

    Attributes:
        values: `(interrupt_id, value)` pairs; each value reaches the graph's `interrupt()` unchanged.
        by_id: Address the values by interrupt id (several pending); else the one value resumes the thread.
    """

    values: tuple[tuple[str, Any], ...]
    by_id: bool = False


@dataclass(frozen=True, slots=True)
class Dismiss:
    """A turn that closes the thread's pending interrupts without answering them (the graph does not run)."""

    interrupt_ids: tuple[str, ...]


TurnInput = NewMessage | Resume | Answers | Dismiss


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
        return _admit_message(frame, pending if awaiting else (), resend)
    if not awaiting:
        return Rejected(
            ProtocolError(
                ErrorCode.NO_PENDING_APPROVAL,
                "There is no pending approval on this thread: it was already answered, or none was asked.",
                thread_id,
            )
        )
    return _admit_answers(frame, pending, resend)


def _admit_message(
    frame: MessageFrame, pending: tuple[PendingInterrupt, ...], resend: tuple[InterruptFrame, ...]
) -> Admitted | Rejected:
    """A message on a thread that may wait: a plain yes/no answers one approval, any text one question."""
    thread_id = frame.thread_id
    if not pending:
        return Admitted(NewMessage(frame.content))
    if len(pending) == 1 and not pending[0].is_approval:
        return Admitted(Answers(((pending[0].interrupt_id, frame.content),)))
    answer = yes_or_no(frame.content) if all(p.is_approval for p in pending) else None
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
    if any(not p.is_approval for p in pending):
        message = (
            f"{len(pending)} questions are pending on this thread: answer them (interrupt_response) "
            "or dismiss them before sending a new message."
        )
    else:
        message = "An approval is pending on this thread: approve or reject it before sending a new one."
    return Rejected(ProtocolError(ErrorCode.APPROVAL_PENDING, message, thread_id), resend)


def _admit_answers(
    frame: InterruptResponseFrame, pending: tuple[PendingInterrupt, ...], resend: tuple[InterruptFrame, ...]
) -> Admitted | Rejected:
    """Answers to pending interrupts: by id, or the one pending without an id."""
    thread_id = frame.thread_id
    answers = frame.all_answers()
    pending_ids = {p.interrupt_id for p in pending}
    if (
        len(answers) == 1
        and answers[0].interrupt_id is None
        and len(pending) > 1
        and not answers[0].cancelled
    ):
        kinds = "approvals" if all(p.is_approval for p in pending) else "interrupts"
        return Rejected(
            ProtocolError(
                ErrorCode.INVALID_FIELD,
                f"{len(pending)} {kinds} are pending: say which one with interrupt_id.",
                thread_id,
            ),
            resend,
        )
    ids = [answer.interrupt_id or pending[0].interrupt_id for answer in answers]
    if any(interrupt_id not in pending_ids for interrupt_id in ids):
        return Rejected(
            ProtocolError(
                ErrorCode.UNKNOWN_INTERRUPT,
                "That approval is not pending: it was already answered or never existed.",
                thread_id,
            ),
            resend,
        )
    if len(set(ids)) != len(ids):
        return Rejected(
            ProtocolError(
                ErrorCode.INVALID_FIELD, "Each interrupt may be answered once per frame.", thread_id
            ),
            resend,
        )
    cancelled = [answer.cancelled for answer in answers]
    if any(cancelled):
        if not all(cancelled):
            return Rejected(
                ProtocolError(
                    ErrorCode.INVALID_FIELD,
                    "Dismiss every pending interrupt, or answer them: one frame cannot do both.",
                    thread_id,
                ),
                resend,
            )
        return Admitted(Dismiss(tuple(p.interrupt_id for p in pending)))
    by_id = len(pending) > 1
    only = answers[0]
    if len(answers) == 1 and "value" not in only.model_fields_set and only.approved is not None:
        return Admitted(Resume(only.approved, ids[0], only.edits, answer_by_id=by_id))
    return Admitted(Answers(tuple(zip(ids, (a.resume_value() for a in answers), strict=True)), by_id=by_id))


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
