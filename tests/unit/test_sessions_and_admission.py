"""Session expiry and the turn lifecycle, and the admission rules built on them."""

from __future__ import annotations

import pytest

from chat_runtime.admission import Admitted, NewMessage, Rejected, Resume, admit
from chat_runtime.protocol import ErrorCode, InterruptResponseFrame, MessageFrame
from chat_runtime.sessions import (
    IllegalTransition,
    InMemorySessionManager,
    PendingInterrupt,
    SessionRecord,
    ThreadStatus,
)


class Clock:
    def __init__(self) -> None:
        self.now = 1_000.0

    def __call__(self) -> float:
        return self.now


def message(content: str = "hi") -> MessageFrame:
    return MessageFrame(type="message", thread_id="t", content=content)


def answer(approved: bool = True, interrupt_id: str | None = None) -> InterruptResponseFrame:
    return InterruptResponseFrame(
        type="interrupt_response", thread_id="t", approved=approved, interrupt_id=interrupt_id
    )


PENDING = PendingInterrupt("i1", "cancel_order", "Cancel order 1043?", {"order_id": "1043"})


def awaiting(*pending: PendingInterrupt) -> SessionRecord:
    return SessionRecord("t", ThreadStatus.AWAITING_APPROVAL, pending, 1.0, 1.0, 10**12)


def test_expiry_slides_with_activity() -> None:
    clock = Clock()
    sessions = InMemorySessionManager(ttl_seconds=60, clock=clock)
    assert sessions.get_state("t") is None
    record = sessions.touch(SessionRecord("t"))
    assert (record.created_at, record.expires_at) == (1_000.0, 1_060.0)
    clock.now = 1_059.0
    assert not record.is_expired(clock.now)
    record = sessions.touch(record)
    assert (record.created_at, record.expires_at) == (1_000.0, 1_119.0)
    clock.now = 1_119.0
    assert sessions.get_state("t") == record and record.is_expired(clock.now)


def test_ttl_zero_expires_at_any_later_frame() -> None:
    clock = Clock()
    record = InMemorySessionManager(ttl_seconds=0, clock=clock).touch(SessionRecord("t"))
    assert not record.is_expired(clock.now)
    assert record.is_expired(clock.now + 0.000001)


def test_negative_ttl_is_refused() -> None:
    with pytest.raises(ValueError, match="ttl_seconds"):
        InMemorySessionManager(ttl_seconds=-1)


def test_lifecycle_transitions() -> None:
    idle = SessionRecord("t")
    running = idle.transition(ThreadStatus.RUNNING)
    waiting = running.transition(ThreadStatus.AWAITING_APPROVAL, (PENDING,))
    assert waiting.pending_interrupts == (PENDING,)
    assert waiting.transition(ThreadStatus.RUNNING).pending_interrupts == ()
    assert running.transition(ThreadStatus.RUNNING).status is ThreadStatus.RUNNING  # a dead worker's turn
    with pytest.raises(IllegalTransition):
        idle.transition(ThreadStatus.AWAITING_APPROVAL, (PENDING,))
    with pytest.raises(IllegalTransition):
        waiting.transition(ThreadStatus.IDLE)
    with pytest.raises(IllegalTransition):
        running.transition(ThreadStatus.AWAITING_APPROVAL)  # awaiting approval needs something pending


def test_a_new_or_idle_thread_admits_messages_and_refuses_answers() -> None:
    assert admit(message("hello"), None, 5.0) == Admitted(NewMessage("hello"))
    idle = SessionRecord("t", expires_at=100.0, last_active_at=1.0)
    assert admit(message(), idle, 5.0) == Admitted(NewMessage("hi"))
    for record in (None, idle):
        refused = admit(answer(), record, 5.0)
        assert isinstance(refused, Rejected) and refused.error.code is ErrorCode.NO_PENDING_APPROVAL


def test_an_expired_thread_refuses_everything() -> None:
    expired = SessionRecord("t", ThreadStatus.AWAITING_APPROVAL, (PENDING,), 1.0, 1.0, 2.0)
    for frame in (message(), answer()):
        refused = admit(frame, expired, 3.0)
        assert isinstance(refused, Rejected)
        assert refused.error.code is ErrorCode.SESSION_EXPIRED and "expired" in refused.error.message
        assert refused.error.thread_id == "t"


def test_a_message_while_awaiting_approval_is_refused_and_the_interrupt_resent() -> None:
    refused = admit(message(), awaiting(PENDING), 5.0)
    assert isinstance(refused, Rejected) and refused.error.code is ErrorCode.APPROVAL_PENDING
    assert [f.model_dump(exclude_none=True) for f in refused.resend] == [
        {
            "type": "interrupt",
            "thread_id": "t",
            "interrupt_id": "i1",
            "kind": "approval",
            "action": "cancel_order",
            "description": "Cancel order 1043?",
            "order_id": "1043",
        }
    ]


def test_answers_are_matched_to_their_interrupt() -> None:
    one = awaiting(PENDING)
    assert admit(answer(False), one, 5.0) == Admitted(Resume(False, "i1"))
    assert admit(answer(True, "i1"), one, 5.0) == Admitted(Resume(True, "i1"))
    unknown = admit(answer(True, "nope"), one, 5.0)
    assert isinstance(unknown, Rejected) and unknown.error.code is ErrorCode.UNKNOWN_INTERRUPT

    second = PendingInterrupt("i2", "request_refund", "Refund order 1044?", {"order_id": "1044"})
    two = awaiting(PENDING, second)
    ambiguous = admit(answer(), two, 5.0)
    assert isinstance(ambiguous, Rejected) and "interrupt_id" in ambiguous.error.message
    assert len(ambiguous.resend) == 2
    assert admit(answer(True, "i2"), two, 5.0) == Admitted(Resume(True, "i2", answer_by_id=True))


@pytest.mark.parametrize(
    ("content", "answer"),
    [
        ("yes", True),
        ("Yes please!", True),
        ("ok", True),
        ("go ahead.", True),
        ("no", False),
        ("No thanks.", False),
    ],
)
def test_a_plain_yes_or_no_answers_the_one_pending_approval(content: str, answer: bool) -> None:
    admitted = admit(message(content), awaiting(PENDING), 5.0)
    assert admitted == Admitted(Resume(answer, "i1"))


@pytest.mark.parametrize("content", ["no, what about 1042?", "yes and cancel 1043 too", "maybe"])
def test_anything_more_than_yes_or_no_is_still_refused_while_an_approval_is_pending(content: str) -> None:
    refused = admit(message(content), awaiting(PENDING), 5.0)
    assert isinstance(refused, Rejected) and refused.error.code is ErrorCode.APPROVAL_PENDING
