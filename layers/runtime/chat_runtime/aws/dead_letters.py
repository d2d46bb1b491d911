"""Jobs that failed every delivery: tell the customer, unless the job had already said its last word.

The `internal_error` it sends is numbered in the thread and kept in the frame log, so a client that
reconnects learns it through `resume`. A thread whose turn this job was running is settled: no longer
`running` (its cancel mark and follower cleared), `idle`, and marked `recover`: this LangGraph-free handler
cannot read the checkpoint, so route handlers leave every decision on the thread to the worker, whose next
turn rebuilds the session from the checkpoint (`TurnRunner._recover`). An approval the dead turn had
consumed is then no longer pending (its answer is refused with `no_pending_approval`); one it had not is
still answerable.
"""

from __future__ import annotations

import logging
from dataclasses import replace

from chat_runtime.agui import codec_for
from chat_runtime.auth import thread_key
from chat_runtime.aws.dynamodb_sessions import DynamoDBSessionManager, SessionChanged
from chat_runtime.aws.frame_log import DynamoDBFrameLog
from chat_runtime.aws.gateway import management_client, post_texts
from chat_runtime.aws.jobs import JobKind, TurnJob
from chat_runtime.aws.redelivery import raise_last_seq, recorded_ending
from chat_runtime.protocol import ErrorCode, ErrorFrame, ServerFrame, encode_frame
from chat_runtime.sessions import SessionRecord, ThreadStatus, ended

logger = logging.getLogger(__name__)
SEQ_ATTEMPTS = 5
FAILED_MESSAGE = "Sorry, we could not process your last message. Please send it again."


class AnotherTurnRuns(RuntimeError):
    """The thread runs another job's turn: numbering a frame beside it could reuse a `seq`."""


def report_dead_letter(
    job: TurnJob, sessions: DynamoDBSessionManager | None = None, frames: DynamoDBFrameLog | None = None
) -> None:
    """Send an `error` frame for a turn that never completed (a job that had ended: its unlogged ending).

    Raises `AnotherTurnRuns` while the thread runs another job's turn: the record fails, and the queue
    delivers it again later.
    """
    if job.kind is JobKind.PURGE:
        return
    error: ServerFrame = ErrorFrame(
        code=ErrorCode.INTERNAL_ERROR, message=FAILED_MESSAGE, thread_id=job.thread_id
    )
    outgoing = [error]
    if sessions is not None and frames is not None:
        key = thread_key(job.thread_id, job.owner)
        outgoing = _numbered_ending(job, error, sessions, frames, key)
        frames.record(key, outgoing)
    # A fresh codec: on AG-UI a bare RUN_ERROR, valid whether or not an attempt had started the run.
    codec = codec_for(job.protocol)
    texts = [text for frame in outgoing for text in codec.encode(frame)]
    post_texts(management_client(job.endpoint_url), job.connection_id, texts)


def _numbered_ending(
    job: TurnJob, error: ServerFrame, sessions: DynamoDBSessionManager, frames: DynamoDBFrameLog, key: str
) -> list[ServerFrame]:
    """The job's last word, numbered and recorded (settling the thread when its turn was this job's)."""
    for attempt in range(SEQ_ATTEMPTS):
        record = sessions.get_state(key)
        if record is None:
            return [error]
        if job.request_id in record.ended_requests:
            logger.info("a dead letter whose job had ended: nothing more to say")
            return recorded_ending(record, frames, key)
        if record.status is ThreadStatus.RUNNING and record.request_id != job.request_id:
            # The thread's next job may be running now (SQS released the group): its worker numbers alone.
            raise AnotherTurnRuns("another turn runs on the thread: the dead letter is tried again later")
        record = raise_last_seq(record, sessions, frames)
        numbered = error.model_copy(update={"seq": record.last_seq + 1})
        last = ended(replace(record, last_seq=record.last_seq + 1), job.request_id, (encode_frame(numbered),))
        try:
            if record.status is ThreadStatus.RUNNING and record.request_id == job.request_id:
                sessions.settle(settled(last), previous_seq=record.last_seq)
            else:
                sessions.mark_ended(last, previous_seq=record.last_seq)
            return [numbered]
        except SessionChanged:  # a refusal took a number, or the next turn started: read again
            if attempt + 1 == SEQ_ATTEMPTS:
                raise
    return [error]


def settled(record: SessionRecord) -> SessionRecord:
    """A dead turn's session, no longer running: idle, to be rebuilt from the checkpoint by the next turn."""
    return replace(record.transition(ThreadStatus.IDLE), needs_recovery=True)
