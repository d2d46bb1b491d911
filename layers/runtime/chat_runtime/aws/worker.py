"""The agent worker: queued turns run on the shared engine, DynamoDB checkpoints and the API Gateway sink."""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass, field
from functools import partial
from typing import Any

from chat_runtime.agui import FrameCodec, codec_for
from chat_runtime.auth import thread_key
from chat_runtime.aws import redelivery
from chat_runtime.aws.cancel_marks import CancelMarks, watching
from chat_runtime.aws.connections import ConnectionStore
from chat_runtime.aws.dynamodb_sessions import DynamoDBSessionManager, SessionChanged
from chat_runtime.aws.frame_log import DynamoDBFrameLog
from chat_runtime.aws.gateway import WORKER, client_config, management_client
from chat_runtime.aws.job_session import (
    SEQ_ATTEMPTS,
    UNCHECKED,
    StaleSession,
    handed_on_session,
    read_with_checkpoint,
    recorded_refusal,
)
from chat_runtime.aws.jobs import JobKind, TurnJob
from chat_runtime.aws.sender import ApiGatewaySender, SenderStats
from chat_runtime.aws.settings import AwsSettings
from chat_runtime.checkpoint_cache import LatestCheckpoints
from chat_runtime.control import TurnControl
from chat_runtime.engine import FrameSink, TurnOutcome, TurnStatus, pending_interrupts, thread_config
from chat_runtime.protocol import (
    ErrorCode,
    ErrorFrame,
    GetStateFrame,
    InterruptFrame,
    InterruptResponseFrame,
    ServerFrame,
    TokenFrame,
)
from chat_runtime.sessions import AttemptInProgress, SessionRecord, ThreadStatus
from chat_runtime.turns import TurnRunner

# One checkpoint per run (at its end or at an interrupt) instead of one per step: about 10x fewer DynamoDB
# writes (docs/performance.md). Safe because a write action's tool call id is fixed in the checkpoint taken
# at its approval, so a retried resume replays the same idempotency key.
CHECKPOINT_ONCE = {"durability": "exit"}
# Under the worker's 120 s Lambda timeout, so a stopped turn still reports and saves its state.
MAX_TURN_SECONDS = 100.0
STATE_FAILED = "The conversation's state could not be read. Please try again."
logger = logging.getLogger(__name__)


@dataclass
class TurnReport:
    """What one job did, for logs and metrics."""

    outcome: TurnOutcome | None
    seconds: float
    first_token_seconds: float | None
    sender: SenderStats
    approved: bool | None = None
    first_frame_seconds: float | None = None  # since the job started: the turn's first frame (graph output)
    last_frame_seconds: float | None = None  # and its last (the ending, once the session records it)


@dataclass
class WorkerDeps:
    """What the worker talks to; built once per Lambda container."""

    runner: TurnRunner
    checkpointer: Any
    connections: ConnectionStore
    frames: DynamoDBFrameLog
    gateway: Any = field(default=management_client)
    latest: LatestCheckpoints | None = None
    """What the worker remembers of threads' latest checkpoints (None: every read goes to DynamoDB)."""

    @classmethod
    def from_settings(cls, settings: AwsSettings) -> WorkerDeps:
        """The agent on DynamoDB (a partition per thread: `DynamoDBThreadSaver`) with the settings' model."""
        import boto3

        from chat_runtime.aws.thread_saver import expire_for, thread_saver
        from chat_runtime.delta_lineage import delta_channels_of
        from chat_runtime.graphs import configured_graph
        from support_agent.factory import build_agent
        from support_agent.settings import Settings

        dynamodb = boto3.client(
            "dynamodb", endpoint_url=settings.dynamodb_endpoint_url, config=client_config(WORKER)
        )
        saver = thread_saver(
            settings.checkpoints_table,
            bucket=settings.checkpoint_bucket,
            endpoint_url=settings.dynamodb_endpoint_url,
            boto_config=client_config(WORKER),
            client=dynamodb,
        )
        checkpointer = LatestCheckpoints(saver)
        sessions = DynamoDBSessionManager(
            settings.sessions_table, settings.session_ttl_seconds, client=dynamodb
        )
        graph = configured_graph(checkpointer) or build_agent(Settings(), checkpointer)
        checkpointer.delta_channels = delta_channels_of(graph)
        expire_for(saver, graph, settings.session_ttl_seconds, MAX_TURN_SECONDS)
        return cls(
            runner=TurnRunner(
                graph=graph,
                sessions=sessions,
                stream_options=CHECKPOINT_ONCE,
                max_turn_seconds=MAX_TURN_SECONDS,
                latest_checkpoint=checkpointer.remembered_id,
            ),
            checkpointer=checkpointer,
            connections=ConnectionStore(settings.connections_table, client=dynamodb),
            frames=DynamoDBFrameLog(settings.frames_table, client=dynamodb),
            latest=checkpointer,
        )

    @property
    def sessions(self) -> DynamoDBSessionManager:
        """The runner's session store (DynamoDB, which also knows a resumed turn's follower)."""
        sessions = self.runner.sessions
        assert isinstance(sessions, DynamoDBSessionManager)
        return sessions


async def process_job(
    job: TurnJob, deps: WorkerDeps, lease_until: float | None = None, first_delivery: bool = False
) -> TurnReport:
    """Run one job: a turn (streamed to the job's connection) or the purge of an expired thread.

    A redelivered job never says a second last word (`chat_runtime.aws.redelivery`).

    On its first delivery a turn starts from the session its route handler read (`TurnJob.session_seen`),
    without reading it again. That read is as good as the worker's own as long as nothing changed since:
    every change of a session that is not running raises its `last_seq` or makes it `running`, and the
    turn's claim is conditional on both (`DynamoDBSessionManager.touch`); a refusal is checked against a
    fresh read before it is numbered. If either finds a change, nothing has been sent or run yet, and the
    job starts over from a fresh read. A redelivery always reads: an earlier attempt may have run.

    Args:
        job: The queued job.
        deps: The worker's dependencies.
        lease_until: The attempt's deadline (the Lambda invocation's), held on the thread while its turn
            runs; None: no lease (tests that deliver a job again at once, as if its attempt had died).
        first_delivery: No attempt of the job came before (SQS's `ApproximateReceiveCount` is 1).

    Raises:
        AttemptInProgress: Another attempt of the thread's running turn may still be alive.
    """
    started = time.monotonic()
    key = thread_key(job.thread_id, job.owner)
    if job.kind is JobKind.PURGE or job.frame is None:
        await asyncio.to_thread(deps.checkpointer.delete_thread, key)
        return TurnReport(None, time.monotonic() - started, None, SenderStats())
    if isinstance(job.frame, GetStateFrame):
        return await _send_state(job, job.frame, deps, key, started)
    handed_on = first_delivery and job.session_seen
    try:
        try:
            session = await (
                handed_on_session(job, deps.latest, key)
                if handed_on
                else read_with_checkpoint(deps.sessions, deps.latest, key)
            )
            return await _attempt(job, deps, key, session, started, lease_until, handed_on)
        except StaleSession:
            logger.info("the session changed since the route handler read it; reading it again")
            if deps.latest is not None:
                deps.latest.release(key)
            session = await read_with_checkpoint(deps.sessions, deps.latest, key)
            return await _attempt(job, deps, key, session, started, lease_until, False)
    finally:
        if deps.latest is not None:
            deps.latest.release(key)


async def _attempt(
    job: TurnJob,
    deps: WorkerDeps,
    key: str,
    session: SessionRecord | None,
    started: float,
    lease_until: float | None,
    handed_on: bool,
) -> TurnReport:
    try:
        if session is not None and session.leased(deps.sessions.now()):
            raise AttemptInProgress(f"a live attempt holds thread {job.thread_id}'s running turn")
        return await _run_job(job, deps, key, session, started, lease_until, handed_on)
    except (AttemptInProgress, StaleSession):
        raise
    except Exception:  # the attempt has ended (a crash, which nothing catches, leaves its lease to run out)
        if lease_until is not None:
            await _released(deps, key, lease_until)
        raise


async def _released(deps: WorkerDeps, key: str, lease_until: float) -> None:
    try:
        await asyncio.to_thread(deps.sessions.release_lease, key, lease_until)
    except Exception:  # the lease then runs out by itself, well before SQS delivers the job again
        logger.warning("could not release a failed attempt's lease", exc_info=True)


async def _run_job(
    job: TurnJob,
    deps: WorkerDeps,
    key: str,
    session: SessionRecord | None,
    started: float,
    lease_until: float | None,
    handed_on: bool = False,
) -> TurnReport:
    assert job.frame is not None and not isinstance(job.frame, GetStateFrame)
    first_token: list[float] = []
    produced: list[float] = []  # when the turn produced its first and (so far) last frame
    client = deps.gateway(job.endpoint_url)
    on_gone = partial(deps.connections.mark_gone, job.connection_id)
    record = partial(deps.frames.record, key)
    follower = partial(deps.sessions.follower, key)
    async with ApiGatewaySender(
        client,
        job.connection_id,
        on_gone=on_gone,
        record=record,
        follower=follower,
        codec=job_codec(job),
        codec_for=partial(connection_codec, deps.connections),
        post_first_then_log=True,
    ) as sender:
        settled, outcome, session = await _redelivered(job, deps, key, sender, session)
        refusals: list[ServerFrame] = []
        if not settled:

            async def timed(frame: ServerFrame) -> None:
                if frame.seq is None:  # a refusal: numbered and recorded below, then sent
                    refusals.append(frame)
                    return
                now = time.monotonic() - started
                produced[:] = [produced[0] if produced else now, now]
                if isinstance(frame, TokenFrame) and not first_token:
                    first_token.append(now)
                await sender(frame)

            sink: FrameSink = timed
            control = TurnControl()
            async with watching(CancelMarks(deps.sessions.table_name, deps.sessions.client), key, control):
                for attempt in range(SEQ_ATTEMPTS):
                    try:
                        outcome = await deps.runner.handle(
                            job.frame,
                            sink,
                            configurable={"customer_id": job.customer_id},
                            owner=job.owner,
                            request_id=job.request_id,
                            control=control,
                            # The session read before, once; after a refusal took a number, read again.
                            read_session=partial(_known, session) if attempt == 0 else None,
                            lease_until=lease_until,
                        )
                        break
                    except SessionChanged:  # a refusal took a number before the turn started: read again
                        if handed_on and attempt == 0:
                            raise StaleSession from None
                        if attempt + 1 == SEQ_ATTEMPTS:
                            raise
                        refusals.clear()
            expected = session if handed_on and outcome is None else UNCHECKED
            for frame in recorded_refusal(deps.sessions, key, refusals, job.request_id, expected):
                await sender(frame)
        asked = (outcome is not None and bool(outcome.pending_interrupts)) or any(
            isinstance(frame, InterruptFrame)
            for frame in refusals  # a refusal re-sent the pending ones
        )
        if asked and codec_for(job.protocol).state_at_interrupts:
            await _send_run_state(job, deps, key, sender)
    # A refused frame of an expired thread: its checkpoints go (a refusal leaves the session as it was).
    if outcome is None and session is not None and session.is_expired(deps.sessions.now()):
        await asyncio.to_thread(deps.checkpointer.delete_thread, key)
    approved = job.frame.approval if isinstance(job.frame, InterruptResponseFrame) else None
    report = TurnReport(
        outcome, time.monotonic() - started, first_token[0] if first_token else None, sender.stats, approved
    )
    report.first_frame_seconds, report.last_frame_seconds = produced or (None, None)
    return report


def job_codec(job: TurnJob) -> FrameCodec:
    """The codec of the job's connection, expecting the job's AG-UI run (if any)."""
    codec = codec_for(job.protocol)
    codec.begin_run(job.thread_id, job.run_id)
    return codec


def connection_codec(connections: ConnectionStore, connection_id: str) -> FrameCodec:
    """The codec of another connection (a follower that resumed the thread), from its connection item."""
    return codec_for(connections.protocol(connection_id))


async def _send_run_state(job: TurnJob, deps: WorkerDeps, key: str, sink: FrameSink) -> None:
    """The thread's `state` after a turn that ended in interrupts, for AG-UI's snapshots before RUN_FINISHED.

    If it cannot be read, the sender finishes the run without them when it closes.
    """
    try:
        configurable = {"customer_id": job.customer_id}
        state = await deps.runner.read_state(job.thread_id, key, configurable=configurable)
    except Exception:
        logger.exception("reading the state for AG-UI snapshots failed", extra={"thread_id": job.thread_id})
        return
    await sink(state)


async def _send_state(
    job: TurnJob, frame: GetStateFrame, deps: WorkerDeps, key: str, started: float
) -> TurnReport:
    """Answer `get_state` on the job's connection (the frame is not part of a turn: no `seq`, not logged)."""
    try:
        state: ServerFrame = await deps.runner.read_state(
            job.thread_id, key, configurable={"customer_id": job.customer_id}, history=frame.history
        )
    except Exception:
        logger.exception("reading a thread's state failed", extra={"thread_id": job.thread_id})
        state = ErrorFrame(code=ErrorCode.INTERNAL_ERROR, message=STATE_FAILED, thread_id=job.thread_id)
    async with ApiGatewaySender(
        deps.gateway(job.endpoint_url), job.connection_id, codec=codec_for(job.protocol)
    ) as sender:
        await sender(state)
    return TurnReport(None, time.monotonic() - started, None, sender.stats)


async def _redelivered(
    job: TurnJob, deps: WorkerDeps, key: str, sink: ApiGatewaySender, record: SessionRecord | None
) -> tuple[bool, TurnOutcome | None, SessionRecord | None]:
    """Settle a job an earlier attempt already ended, or whose run finished before the attempt died.

    Returns whether the job is settled (not to be run), the outcome it reported (None: it had ended), and
    the thread's session as it now is (`record`, the session read before, with any change made here).
    """
    if record is None:
        return False, None, None
    if job.request_id in record.ended_requests:
        for frame in redelivery.recorded_ending(record, deps.frames, key):
            await sink(frame)
        return True, None, record
    if record.status is not ThreadStatus.RUNNING:
        return False, None, record
    record = redelivery.raise_last_seq(record, deps.sessions, deps.frames)
    if record.request_id == job.request_id and codec_for(job.protocol).protocol is not None:
        # The attempt that died may have started the client's AG-UI run: go on with it, not again.
        sink.prime(deps.frames.after(key, 0, record.turn_first_seq))
    state = await deps.runner.graph.aget_state(thread_config(key))
    if not redelivery.finished_run(record, state, job.request_id):
        return False, None, record
    pending = pending_interrupts(state)
    frames = redelivery.outcome_frames(job.thread_id, state, pending)
    for frame in redelivery.finish_from_checkpoint(record, deps.sessions, frames, pending, job.request_id):
        await sink(frame)
    outcome = TurnOutcome(TurnStatus.INTERRUPTED if pending else TurnStatus.COMPLETED, pending)
    return True, outcome, record


def _known(record: SessionRecord | None, _key: str) -> SessionRecord | None:
    return record


_default_deps: WorkerDeps | None = None


def default_worker_deps() -> WorkerDeps:
    """The worker's dependencies from the environment, built once per Lambda container."""
    global _default_deps
    if _default_deps is None:
        _default_deps = WorkerDeps.from_settings(AwsSettings.from_environment())
    return _default_deps
