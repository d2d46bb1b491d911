"""Jobs that failed every delivery: tell the customer, and free the thread for the next message."""

from __future__ import annotations

from chat_runtime.auth import thread_key
from chat_runtime.aws.gateway import management_client, post_frames
from chat_runtime.aws.jobs import JobKind, TurnJob
from chat_runtime.protocol import ErrorCode, ErrorFrame
from chat_runtime.sessions import SessionManager, ThreadStatus

FAILED_MESSAGE = "Sorry, we could not process your last message. Please send it again."


def report_dead_letter(job: TurnJob, sessions: SessionManager) -> None:
    """Send an `error` frame for a turn that never completed, and mark its thread idle again."""
    if job.kind is JobKind.PURGE:
        return
    record = sessions.get_state(thread_key(job.thread_id, job.owner))
    if record is not None and record.status is ThreadStatus.RUNNING:
        sessions.touch(record.transition(ThreadStatus.IDLE))
    error = ErrorFrame(code=ErrorCode.INTERNAL_ERROR, message=FAILED_MESSAGE, thread_id=job.thread_id)
    post_frames(management_client(job.endpoint_url), job.connection_id, [error])
