"""The turn runner: admit a frame against its thread's session, run the turn, record how it ended.

Callers guarantee that turns of one thread reach `TurnRunner.handle` one at a time, in arrival order
(the local server with a per-thread lock, AWS with an SQS FIFO queue grouped by `thread_id`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from chat_runtime.admission import (
    DEFAULT_MAX_THREADS_PER_OWNER,
    Admitted,
    admit,
    limit_threads,
)
from chat_runtime.auth import thread_key
from chat_runtime.checkpoints import scope_checkpoints
from chat_runtime.control import TurnControl
from chat_runtime.engine import FrameSink, TurnGraph, TurnOutcome, pending_interrupts, run_turn, thread_config
from chat_runtime.protocol import InterruptResponseFrame, MessageFrame, StateFrame, encode_frame
from chat_runtime.replay import FrameLog, SequencedSink
from chat_runtime.sessions import AttemptInProgress, SessionManager, SessionRecord, ThreadStatus, ended

DEFAULT_MAX_TURN_SECONDS = 120.0


@dataclass(slots=True)
class TurnRunner:
    """Runs admitted turns of a graph, keeping each thread's session up to date.

    Attributes:
        graph: The compiled graph (with its checkpointer).
        sessions: Where thread sessions live.
        stream_options: Extra keyword arguments for `graph.astream` (e.g. `durability`).
        max_turn_seconds: A turn running longer is stopped with `turn_timeout` (None: no limit).
        max_threads_per_owner: How many threads one authenticated principal may have (None: no limit).
        frame_log: Where turns' numbered frames are kept for replay (None: frames are numbered, not kept).
        latest_checkpoint: The id of a thread's latest checkpoint when the saver knows it without reading
            (by the thread's storage key), recorded in the session at each turn's end (None: not recorded).
    """

    graph: TurnGraph
    sessions: SessionManager
    stream_options: Mapping[str, Any] = field(default_factory=dict)
    max_turn_seconds: float | None = DEFAULT_MAX_TURN_SECONDS
    max_threads_per_owner: int | None = DEFAULT_MAX_THREADS_PER_OWNER
    frame_log: FrameLog | None = None
    latest_checkpoint: Callable[[str], str | None] | None = None

    def __post_init__(self) -> None:
        scope_checkpoints(self.graph)

    async def handle(
        self,
        frame: MessageFrame | InterruptResponseFrame,
        sink: FrameSink,
        *,
        configurable: Mapping[str, Any] | None = None,
        owner: str | None = None,
        control: TurnControl | None = None,
        request_id: str | None = None,
        read_session: Callable[[str], SessionRecord | None] | None = None,
        lease_until: float | None = None,
    ) -> TurnOutcome | None:
        """Admit `frame`, run its turn and store the thread's new status.

        Args:
            frame: A parsed client frame.
            sink: Where the turn's frames (or the refusal) go.
            configurable: Transport facts for the run's config (e.g. `customer_id`).
            owner: The authenticated principal; threads are scoped to it (None: the demo's single user).
            control: Lets the transport cancel the turn while it runs.
            request_id: The transport's id of the request (AWS: API Gateway's). When given, the turn's
                ending is sent only once the session records it together with this id.
            read_session: How to read the thread's session (default: from `sessions`); the AWS worker
                passes the one it has just read, so that a turn reads its session once.
            lease_until: Until when this attempt may be alive (AWS: its Lambda invocation's deadline); the
                claim of the turn records it, and no other attempt claims or rebuilds the thread before.

        Raises:
            AttemptInProgress: Another attempt holds the thread's running turn (a concurrent delivery).

        Returns:
            The turn's outcome, or None when the frame was refused.
        """
        thread_id = frame.thread_id
        key = thread_key(thread_id, owner)
        record = (read_session or self.sessions.get_state)(key)
        if record is not None and record.leased(self.sessions.now()):
            raise AttemptInProgress(f"a live attempt holds thread {thread_id}'s running turn")
        if (
            record is not None
            and (record.status is ThreadStatus.RUNNING or record.needs_recovery)
            and not record.is_expired(self.sessions.now())
        ):
            record = await self._recover(record)
        decision = admit(frame, record, self.sessions.now())
        if record is None and owner is not None and isinstance(decision, Admitted):
            count = self.sessions.count_threads(owner)
            decision = limit_threads(frame, count, self.max_threads_per_owner) or decision
        if not isinstance(decision, Admitted):
            await sink(decision.error.to_frame())
            for interrupt in decision.resend:
                await sink(interrupt)
            return None
        previous = record or SessionRecord(key, owner=owner)
        first_seq = previous.last_seq + 1
        running = replace(
            previous.transition(ThreadStatus.RUNNING),
            turn_first_seq=first_seq,
            request_id=request_id,
            lease_until=lease_until,
        )
        if self.frame_log is not None:
            self.frame_log.begin_turn(key, first_seq)
        running = self.sessions.touch(running)
        numbered = SequencedSink(sink, self.frame_log, key, first_seq, hold_ending=request_id is not None)
        outcome = await run_turn(
            self.graph,
            thread_id,
            decision.turn_input,
            numbered,
            configurable=configurable,
            stream_options=self.stream_options,
            thread_key=key,
            max_seconds=self.max_turn_seconds,
            control=control,
            extras=frozenset(frame.stream),
        )
        status = ThreadStatus.AWAITING_APPROVAL if outcome.pending_interrupts else ThreadStatus.IDLE
        finished = replace(
            running.transition(status, outcome.pending_interrupts),
            last_seq=numbered.last_seq,
            checkpoint_id=self.latest_checkpoint(key) if self.latest_checkpoint is not None else None,
        )
        if request_id is not None:
            finished = ended(finished, request_id, tuple(encode_frame(f) for f in numbered.held))
        self.sessions.touch(finished)
        await numbered.release()
        return outcome

    async def read_state(
        self,
        thread_id: str,
        key: str,
        *,
        configurable: Mapping[str, Any] | None = None,
        history: int = 0,
    ) -> StateFrame:
        """The `state` frame of a thread, read from its checkpoint under the owner-scoped `key`."""
        from chat_runtime.thread_state import read_state

        config = thread_config(thread_id, configurable, key)
        return await read_state(self.graph, config, self.sessions.get_state(key), thread_id, history)

    async def _recover(self, record: SessionRecord) -> SessionRecord:
        """The session of a thread whose last turn died before recording its end, rebuilt from its checkpoint.

        Turns of a thread never overlap (a per-thread lock, a FIFO group), so a `running` status seen here
        is stale: the checkpoint says which approvals, if any, are still pending.
        """
        state = await self.graph.aget_state(thread_config(record.thread_id))
        pending = pending_interrupts(state)
        status = ThreadStatus.AWAITING_APPROVAL if pending else ThreadStatus.IDLE
        stale = replace(record, status=ThreadStatus.RUNNING, needs_recovery=False)
        return self.sessions.touch(stale.transition(status, pending))
