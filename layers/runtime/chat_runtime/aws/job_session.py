"""The session a job starts from, and the check a refusal decided on it passes before it is numbered.

A job reads its thread's session once before its turn, with the thread's latest checkpoint read meanwhile
(`read_with_checkpoint`); on its first delivery it starts instead from the session its route handler read
and handed on with it (`handed_on_session`, `chat_runtime.aws.worker.process_job` says why that is safe).
A decision taken on a handed-on session that has changed since raises `StaleSession`: the claim of the turn
fails its condition, or a refusal finds the session moved on when it is numbered (`recorded_refusal`).
"""

from __future__ import annotations

import asyncio
from dataclasses import replace

from chat_runtime.aws.dynamodb_sessions import DynamoDBSessionManager, SessionChanged, record_of
from chat_runtime.aws.jobs import TurnJob
from chat_runtime.checkpoint_cache import LatestCheckpoints
from chat_runtime.protocol import ServerFrame, encode_frame
from chat_runtime.sessions import SessionRecord, ThreadStatus, ended

SEQ_ATTEMPTS = 5
"""How often a session is read again when a route handler's refusal took a `seq` meanwhile."""
UNCHECKED = object()
"""`recorded_refusal`'s `expected` when the refusal was decided on a session the worker read itself."""


class StaleSession(RuntimeError):
    """The session the route handler handed on changed before the turn's claim: the job starts over."""


async def read_with_checkpoint(
    sessions: DynamoDBSessionManager, latest: LatestCheckpoints | None, key: str
) -> SessionRecord | None:
    """The thread's session (its one read before the turn), and its latest checkpoint under way.

    The checkpoint is read while the session is, unless this worker remembers one: then the session says
    whether that is still the latest (and only if not, is it read after all).
    """
    if latest is None:
        return await asyncio.to_thread(sessions.get_state, key)
    if not latest.knows(key):
        latest.prefetch(key)
        await asyncio.sleep(0)  # let the read start first
        return await asyncio.to_thread(sessions.get_state, key)
    session = await asyncio.to_thread(sessions.get_state, key)
    trusted = session is not None and session.status is not ThreadStatus.RUNNING
    if not latest.trust(key, session.checkpoint_id if trusted and session is not None else None):
        latest.prefetch(key)
    return session


async def handed_on_session(job: TurnJob, latest: LatestCheckpoints | None, key: str) -> SessionRecord | None:
    """The session the route handler read, and the thread's latest checkpoint known from it (or under way)."""
    session = None if job.session_item is None else record_of(job.session_item)
    if latest is not None:
        latest.expect(key, session is not None, session.checkpoint_id if session is not None else None)
        await asyncio.sleep(0)  # let a read start before the claim
    return session


def recorded_refusal(
    sessions: DynamoDBSessionManager,
    key: str,
    refusals: list[ServerFrame],
    request_id: str,
    expected: object = UNCHECKED,
) -> list[ServerFrame]:
    """A refusal numbered in its thread and recorded as the request's end (a thread never seen: as is).

    Raises `StaleSession` when the session it was decided on (`expected`, handed on by the route handler)
    is no longer the thread's: nothing was refused then, the job starts over.
    """
    for attempt in range(SEQ_ATTEMPTS):
        record = sessions.get_state(key) if refusals else None
        if expected is not UNCHECKED and refusals and attempt == 0 and _changed(expected, record):
            raise StaleSession
        if record is None:
            return refusals
        numbered = [f.model_copy(update={"seq": record.last_seq + i}) for i, f in enumerate(refusals, 1)]
        try:
            sessions.mark_ended(
                ended(
                    replace(record, last_seq=record.last_seq + len(numbered)),
                    request_id,
                    tuple(encode_frame(f) for f in numbered),
                ),
                previous_seq=record.last_seq,
            )
            return numbered
        except SessionChanged:  # a route handler's refusal took a number meanwhile
            if attempt + 1 == SEQ_ATTEMPTS:
                raise
    return refusals


def _changed(expected: object, now: SessionRecord | None) -> bool:
    """Whether the session is not the one a decision was taken on (its `last_seq` or status moved)."""
    if not isinstance(expected, SessionRecord) or now is None:
        return expected is not now
    return (now.last_seq, now.status) != (expected.last_seq, expected.status)
