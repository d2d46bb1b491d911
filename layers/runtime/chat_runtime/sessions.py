"""Sessions: what the runtime knows about each thread between turns.

A session is keyed by `thread_id`. It records the thread's status, the approvals it waits for and when it
expires. Expiry slides with activity; an expired session stays expired (it is never silently recreated,
because the thread's checkpoint would come back to life with it).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from enum import StrEnum
from typing import Any, Protocol

from chat_runtime.protocol import InterruptFrame

DEFAULT_SESSION_TTL_SECONDS = 1800

Clock = Callable[[], float]


class ThreadStatus(StrEnum):
    """Where a thread stands between frames."""

    IDLE = "idle"
    RUNNING = "running"
    AWAITING_APPROVAL = "awaiting_approval"


class IllegalTransition(RuntimeError):
    """A status change the turn lifecycle does not allow."""


_ALLOWED_TRANSITIONS: dict[ThreadStatus, frozenset[ThreadStatus]] = {
    ThreadStatus.IDLE: frozenset({ThreadStatus.RUNNING}),
    ThreadStatus.AWAITING_APPROVAL: frozenset({ThreadStatus.RUNNING}),
    # RUNNING -> RUNNING: the next turn finds a turn whose worker died before recording its end.
    ThreadStatus.RUNNING: frozenset(ThreadStatus),
}


@dataclass(frozen=True, slots=True)
class PendingInterrupt:
    """One interrupt the thread waits for: its id and the `interrupt` frame's payload.

    Attributes:
        interrupt_id: LangGraph's id of the interrupt.
        action: The approval's action (empty for an `input` interrupt).
        description: The approval's question (empty for an `input` interrupt).
        data: The approval's other fields, sent as frame fields.
        kind: `approval` (the value named an `action`) or `input` (any other value: any answer is expected).
        value: An `input` interrupt's value, as the graph gave it (JSON).
        question: The text to show for an `input` interrupt, when its value has one.
        namespace: The subgraph that interrupted, outermost first (empty for the root graph).
    """

    interrupt_id: str
    action: str = ""
    description: str = ""
    data: dict[str, Any] = field(default_factory=dict)
    kind: str = "approval"
    value: Any = None
    question: str | None = None
    namespace: tuple[str, ...] = ()

    @property
    def is_approval(self) -> bool:
        """Whether this interrupt asks for an approval (rather than any answer)."""
        return self.kind == "approval"

    def to_frame(self, thread_id: str) -> InterruptFrame:
        """The `interrupt` frame that asks the client for this approval or answer."""
        namespace = list(self.namespace) or None
        if not self.is_approval:
            return InterruptFrame(
                thread_id=thread_id,
                interrupt_id=self.interrupt_id,
                kind="input",
                question=self.question,
                value=self.value,
                namespace=namespace,
            )
        return InterruptFrame(
            thread_id=thread_id,
            interrupt_id=self.interrupt_id,
            action=self.action,
            description=self.description,
            namespace=namespace,
            **self.data,
        )


@dataclass(frozen=True, slots=True)
class SessionRecord:
    """The state of one thread, as stored between turns.

    Attributes:
        thread_id: The conversation's id, as the client names it.
        status: Idle, running a turn, or waiting for approvals.
        pending_interrupts: The approvals the thread waits for (empty unless awaiting approval).
        created_at: Unix time the session started.
        last_active_at: Unix time of the last activity.
        expires_at: Unix time from which any new frame finds the session expired.
        owner: The principal that started the thread, when the transport knows one.
        last_seq: The `seq` of the thread's last numbered frame.
        turn_first_seq: The `seq` the latest turn started at (replay starts there).
        request_id: The transport's id of the request that started the latest turn (None: not tracked).
        ended_requests: The latest requests whose turn end (or refusal) was recorded, newest last: a
            redelivered job found here has already said its last word.
        ending: The frames that ended the latest tracked turn (its terminal frame, numbered), as sent.
        needs_recovery: The latest turn failed every delivery (AWS: the dead-letter function settled it):
            how far it got is only in the checkpoint, so the next turn rebuilds the session from there.
        lease_until: While `running` (AWS): until when the attempt that claimed the turn may still be alive
            (its Lambda invocation's deadline). No other attempt claims or rebuilds the thread before then:
            a second delivery of the same job at the same time is sent back to the queue instead.
        checkpoint_id: The thread's latest checkpoint as the turn that just ended left it, when the runtime
            knows it (AWS); any change of status forgets it (see `chat_runtime.checkpoint_cache`).
    """

    thread_id: str
    status: ThreadStatus = ThreadStatus.IDLE
    pending_interrupts: tuple[PendingInterrupt, ...] = ()
    created_at: float = 0.0
    last_active_at: float = 0.0
    expires_at: float = 0.0
    owner: str | None = None
    last_seq: int = 0
    turn_first_seq: int = 1
    request_id: str | None = None
    ended_requests: tuple[str, ...] = ()
    ending: tuple[str, ...] = ()
    needs_recovery: bool = False
    checkpoint_id: str | None = None
    lease_until: float | None = None

    def transition(
        self, status: ThreadStatus, pending_interrupts: tuple[PendingInterrupt, ...] = ()
    ) -> SessionRecord:
        """Return a copy in `status`, raising `IllegalTransition` for a change the lifecycle forbids."""
        if status not in _ALLOWED_TRANSITIONS[self.status]:
            raise IllegalTransition(f"thread {self.thread_id}: {self.status} -> {status} is not allowed")
        if (status is ThreadStatus.AWAITING_APPROVAL) != bool(pending_interrupts):
            raise IllegalTransition("a thread awaits approval exactly when it has pending interrupts")
        return replace(
            self, status=status, pending_interrupts=pending_interrupts, checkpoint_id=None, lease_until=None
        )

    def leased(self, now: float) -> bool:
        """Whether a live attempt holds the thread's running turn at `now` (see `lease_until`)."""
        return self.status is ThreadStatus.RUNNING and self.lease_until is not None and self.lease_until > now

    def is_expired(self, now: float) -> bool:
        """Whether a frame arriving at `now` finds this session expired (TTL 0: any later frame)."""
        return now >= self.expires_at and now > self.last_active_at


class AttemptInProgress(RuntimeError):
    """Another attempt of the thread's running turn may still be alive (its lease has not run out): this
    delivery must go back to the queue, to be delivered again once that attempt has ended."""


MAX_ENDED_REQUESTS = 32


def ended(record: SessionRecord, request_id: str, ending: tuple[str, ...] = ()) -> SessionRecord:
    """`record` with `request_id` remembered as ended (the oldest forgotten past `MAX_ENDED_REQUESTS`)."""
    remembered = (*[r for r in record.ended_requests if r != request_id], request_id)
    return replace(record, ended_requests=remembered[-MAX_ENDED_REQUESTS:], ending=ending)


class SessionManager(Protocol):
    """Stores session records; implementations exist for memory and DynamoDB."""

    ttl_seconds: int

    def get_state(self, thread_id: str) -> SessionRecord | None:
        """Return the thread's record (expired or not), or None for a thread never seen."""
        ...

    def touch(self, record: SessionRecord) -> SessionRecord:
        """Store `record` as the thread's latest state and slide its expiry from now.

        Returns:
            The stored record, with `last_active_at` and `expires_at` set (and `created_at` for a new one).
        """
        ...

    def count_threads(self, owner: str) -> int:
        """How many live (unexpired) threads `owner` has."""
        ...

    def now(self) -> float:
        """The manager's clock, so callers judge expiry against the same time source."""
        ...


def slide(record: SessionRecord, now: float, ttl_seconds: int) -> SessionRecord:
    """`record` active at `now`: the session expires `ttl_seconds` later (and was created now if new)."""
    return replace(
        record, created_at=record.created_at or now, last_active_at=now, expires_at=now + ttl_seconds
    )


class InMemorySessionManager:
    """A `SessionManager` for one process: the local server and tests."""

    def __init__(self, ttl_seconds: int = DEFAULT_SESSION_TTL_SECONDS, clock: Clock = time.time) -> None:
        if ttl_seconds < 0:
            raise ValueError("ttl_seconds must be zero or positive")
        self.ttl_seconds = ttl_seconds
        self._clock = clock
        self._records: dict[str, SessionRecord] = {}
        self._lock = threading.Lock()

    def get_state(self, thread_id: str) -> SessionRecord | None:
        """Return the thread's record (expired or not), or None for a thread never seen."""
        with self._lock:
            return self._records.get(thread_id)

    def touch(self, record: SessionRecord) -> SessionRecord:
        """Store `record` and slide its expiry from now."""
        stored = slide(record, self._clock(), self.ttl_seconds)
        with self._lock:
            self._records[record.thread_id] = stored
        return stored

    def count_threads(self, owner: str) -> int:
        """How many live (unexpired) threads `owner` has."""
        now = self._clock()
        with self._lock:
            return sum(
                1 for record in self._records.values() if record.owner == owner and not record.is_expired(now)
            )

    def now(self) -> float:
        """The manager's clock, so callers judge expiry against the same time source."""
        return self._clock()
