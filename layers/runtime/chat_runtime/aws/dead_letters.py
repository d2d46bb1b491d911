"""Jobs that failed every delivery: tell the customer.

The thread's session may still say `running`; the next turn rebuilds it from the checkpoint
(`TurnRunner._recover`), which this LangGraph-free handler cannot read.
"""

from __future__ import annotations

from chat_runtime.aws.gateway import management_client, post_frames
from chat_runtime.aws.jobs import JobKind, TurnJob
from chat_runtime.protocol import ErrorCode, ErrorFrame

FAILED_MESSAGE = "Sorry, we could not process your last message. Please send it again."


def report_dead_letter(job: TurnJob) -> None:
    """Send an `error` frame for a turn that never completed."""
    if job.kind is JobKind.PURGE:
        return
    error = ErrorFrame(code=ErrorCode.INTERNAL_ERROR, message=FAILED_MESSAGE, thread_id=job.thread_id)
    post_frames(management_client(job.endpoint_url), job.connection_id, [error])
