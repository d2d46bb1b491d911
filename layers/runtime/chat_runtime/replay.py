"""Reconnect and replay: every frame of a turn gets a per-thread `seq`; the latest turn's frames are kept.

A client that reconnects sends `{"type": "resume", "thread_id", "after_seq"}` and receives the frames it
missed, any pending `interrupt` again, and (if the turn is still running) the rest of it live. Clients skip
frames whose `seq` they have already seen, so a frame delivered twice is harmless.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from typing import TYPE_CHECKING, Protocol

from chat_runtime.protocol import TURN_END_FRAMES, InterruptFrame, ResumedFrame, ServerFrame
from chat_runtime.sessions import SessionRecord, ThreadStatus

if TYPE_CHECKING:  # the route handlers import this module and must not load LangGraph
    from chat_runtime.engine import FrameSink


class FrameLog(Protocol):
    """Keeps the frames of each thread's latest turn."""

    def begin_turn(self, key: str, first_seq: int) -> None:
        """A new turn starts at `first_seq`: earlier frames are no longer replayed."""
        ...

    def record(self, key: str, frames: Sequence[ServerFrame]) -> None:
        """Keep frames (already numbered) of the thread's current turn."""
        ...

    def after(self, key: str, after_seq: int, first_seq: int) -> list[ServerFrame]:
        """The current turn's frames (from `first_seq`) with a `seq` above `after_seq`, in order."""
        ...


class InMemoryFrameLog:
    """A `FrameLog` for one process (the local server)."""

    def __init__(self) -> None:
        self._frames: dict[str, list[ServerFrame]] = {}
        self._lock = threading.Lock()

    def begin_turn(self, key: str, first_seq: int) -> None:
        with self._lock:
            self._frames[key] = []

    def record(self, key: str, frames: Sequence[ServerFrame]) -> None:
        with self._lock:
            self._frames.setdefault(key, []).extend(frames)

    def after(self, key: str, after_seq: int, first_seq: int) -> list[ServerFrame]:
        with self._lock:
            kept = list(self._frames.get(key, ()))
        return [f for f in kept if (f.seq or 0) > after_seq and (f.seq or 0) >= first_seq]


class SequencedSink:
    """Numbers a turn's frames, keeps them in the log, and passes them on.

    With `hold_ending`, the turn's ending (its first terminal frame and whatever follows) is numbered but
    held in `held` until `release()`: the caller records the turn's end first, so an attempt that fails
    before that record never tells the client how the turn ended (its retry does).
    """

    def __init__(
        self, inner: FrameSink, log: FrameLog | None, key: str, first_seq: int, *, hold_ending: bool = False
    ) -> None:
        self._inner = inner
        self._log = log
        self._key = key
        self._hold_ending = hold_ending
        self.held: list[ServerFrame] = []
        self.last_seq = first_seq - 1

    async def __call__(self, frame: ServerFrame) -> None:
        self.last_seq += 1
        numbered = frame.model_copy(update={"seq": self.last_seq})
        if self._hold_ending and (self.held or isinstance(numbered, TURN_END_FRAMES)):
            self.held.append(numbered)
            return
        await self._pass_on(numbered)

    async def release(self) -> None:
        """Send the held ending on."""
        held, self.held = self.held, []
        for frame in held:
            await self._pass_on(frame)

    async def _pass_on(self, numbered: ServerFrame) -> None:
        if self._log is not None:
            self._log.record(self._key, [numbered])
        await self._inner(numbered)


def replay_frames(
    record: SessionRecord | None, log: FrameLog | None, key: str, thread_id: str, after_seq: int
) -> list[ServerFrame]:
    """What a resuming client gets now: the missed frames of the latest turn, pending approvals again, and
    a `resumed` frame that says it is caught up (also, alone, for a thread with nothing to resume)."""
    if record is None:
        return [ResumedFrame(thread_id=thread_id, state="new")]
    missed = log.after(key, after_seq, record.turn_first_seq) if log is not None else []
    if record.status is ThreadStatus.AWAITING_APPROVAL:
        sent_again = {f.interrupt_id for f in missed if isinstance(f, InterruptFrame)}
        logged = {
            f.interrupt_id: f
            for f in (log.after(key, 0, record.turn_first_seq) if log is not None else [])
            if isinstance(f, InterruptFrame)
        }
        for pending in record.pending_interrupts:
            if pending.interrupt_id not in sent_again:
                missed.append(logged.get(pending.interrupt_id) or pending.to_frame(thread_id))
    return [*missed, ResumedFrame(thread_id=thread_id, state=record.status.value)]
