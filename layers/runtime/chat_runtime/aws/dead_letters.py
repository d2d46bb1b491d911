"""Jobs that failed every delivery: tell the customer, unless the job had already said its last word.

The thread's session may still say `running`; the next turn rebuilds it from the checkpoint
(`TurnRunner._recover`), which this LangGraph-free handler cannot read. The `internal_error` it sends is
numbered in the thread and kept in the frame log, so a client that reconnects learns it through `resume`.
"""

from __future__ import annotations

import logging
from dataclasses import replace

from chat_runtime.agui import codec_for
from chat_runtime.auth import thread_key
from chat_runtime.aws.dynamodb_sessions import DynamoDBSessionManager
from chat_runtime.aws.frame_log import DynamoDBFrameLog
from chat_runtime.aws.gateway import management_client, post_texts
from chat_runtime.aws.jobs import JobKind, TurnJob
from chat_runtime.aws.redelivery import raise_last_seq, recorded_ending
from chat_runtime.protocol import ErrorCode, ErrorFrame, ServerFrame, encode_frame
from chat_runtime.sessions import ended

logger = logging.getLogger(__name__)
FAILED_MESSAGE = "Sorry, we could not process your last message. Please send it again."


def report_dead_letter(
    job: TurnJob, sessions: DynamoDBSessionManager | None = None, frames: DynamoDBFrameLog | None = None
) -> None:
    """Send an `error` frame for a turn that never completed (a job that had ended: its unlogged ending)."""
    if job.kind is JobKind.PURGE:
        return
    error: ServerFrame = ErrorFrame(
        code=ErrorCode.INTERNAL_ERROR, message=FAILED_MESSAGE, thread_id=job.thread_id
    )
    outgoing = [error]
    if sessions is not None and frames is not None:
        key = thread_key(job.thread_id, job.owner)
        record = sessions.get_state(key)
        if record is not None and job.request_id in record.ended_requests:
            logger.info("a dead letter whose job had ended: nothing more to say")
            outgoing = recorded_ending(record, frames, key)
        elif record is not None:
            record = raise_last_seq(record, sessions, frames)
            error = error.model_copy(update={"seq": record.last_seq + 1})
            outgoing = [error]
            sessions.mark_ended(
                ended(replace(record, last_seq=record.last_seq + 1), job.request_id, (encode_frame(error),))
            )
        frames.record(key, outgoing)
    # A fresh codec: on AG-UI a bare RUN_ERROR, valid whether or not an attempt had started the run.
    codec = codec_for(job.protocol)
    texts = [text for frame in outgoing for text in codec.encode(frame)]
    post_texts(management_client(job.endpoint_url), job.connection_id, texts)
