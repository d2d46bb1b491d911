"""The hand-off from route handlers to the worker: one SQS FIFO message per admitted frame.

`MessageGroupId = thread_id`: turns of one thread run in arrival order, never two at once; different threads
run in parallel. `MessageDeduplicationId` is API Gateway's request id, so a retried route invocation does not
queue the same frame twice.
"""

from __future__ import annotations

import time
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, Field

from chat_runtime.protocol import InterruptResponseFrame, MessageFrame


class JobKind(StrEnum):
    """What the worker is asked to do."""

    TURN = "turn"
    PURGE = "purge"


class TurnJob(BaseModel):
    """One unit of work for the worker.

    Attributes:
        kind: Run a turn, or remove an expired thread's checkpoints.
        frame: The admitted client frame (absent for a purge).
        thread_id: The thread concerned.
        connection_id: The API Gateway connection to answer on.
        endpoint_url: The connection management endpoint (`https://{domain}/{stage}`).
        customer_id: The authenticated customer of the connection.
        owner: The authenticated principal; the thread's storage is scoped to it.
        request_id: API Gateway's id of the request that queued the job.
        queued_at: Unix time the job was queued.
    """

    kind: JobKind = JobKind.TURN
    frame: MessageFrame | InterruptResponseFrame | None = Field(default=None, discriminator="type")
    thread_id: str
    connection_id: str
    endpoint_url: str
    customer_id: str
    owner: str | None = None
    request_id: str
    queued_at: float = Field(default_factory=time.time)


def enqueue(sqs: Any, queue_url: str, job: TurnJob) -> None:
    """Queue `job` in the thread's FIFO group, deduplicated on the request id."""
    sqs.send_message(
        QueueUrl=queue_url,
        MessageBody=job.model_dump_json(),
        MessageGroupId=job.thread_id,
        MessageDeduplicationId=f"{job.kind.value}:{job.request_id}",
    )
