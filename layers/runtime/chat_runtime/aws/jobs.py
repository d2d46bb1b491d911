"""The hand-off from route handlers to the worker: one SQS FIFO message per admitted frame.

`MessageGroupId` is a hash of the owner-scoped thread key: turns of one thread run in arrival order, never two
at once; different threads, and two customers' threads that share a client-chosen `thread_id`, run in
parallel. (The hash keeps principals out of SQS metadata and within the group id's 128 characters.)
`MessageDeduplicationId` is the client's `message_id` when the frame has one (scoped to the thread, hashed),
so a frame sent again within SQS's five-minute window (after a `SendMessage` that timed out once SQS had it,
the client was told `service_busy` and resent) is the same job; else API Gateway's request id, so a retried
`SendMessage` of one route invocation does not queue the same frame twice.
"""

from __future__ import annotations

import hashlib
import time
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, Field

from chat_runtime.auth import thread_key
from chat_runtime.protocol import GetStateFrame, InterruptResponseFrame, MessageFrame


class JobKind(StrEnum):
    """What the worker is asked to do."""

    TURN = "turn"
    PURGE = "purge"
    STATE = "state"
    """Read the thread's state for `get_state` (in a group of its own: no wait for a running turn)."""


class TurnJob(BaseModel):
    """One unit of work for the worker.

    Attributes:
        kind: Run a turn, remove an expired thread's checkpoints, or read a thread's state.
        frame: The admitted client frame (absent for a purge).
        thread_id: The thread concerned.
        connection_id: The API Gateway connection to answer on.
        endpoint_url: The connection management endpoint (`https://{domain}/{stage}`).
        customer_id: The authenticated customer of the connection.
        owner: The authenticated principal; the thread's storage is scoped to it.
        request_id: API Gateway's id of the request that queued the job.
        message_id: The client's id of the frame, when it gave one.
        queued_at: Unix time the job was queued.
        protocol: The connection's wire protocol when it is not ours (`ag-ui`): frames are encoded for it.
        run_id: The AG-UI run the turn answers (the RunAgentInput's `runId`), for RUN_STARTED/RUN_FINISHED.
        session_seen: The route handler read the thread's session just before queueing the turn, and it was
            neither running nor awaiting recovery: `session_item` is what it read (None: the thread had no
            session). On the job's first delivery the worker starts from it instead of reading it again
            (`chat_runtime.aws.worker`: a turn's claim fails, and the job starts over, if it changed since).
        session_item: The session's DynamoDB item, as read.
    """

    kind: JobKind = JobKind.TURN
    frame: MessageFrame | InterruptResponseFrame | GetStateFrame | None = Field(
        default=None, discriminator="type"
    )
    thread_id: str
    connection_id: str
    endpoint_url: str
    customer_id: str
    owner: str | None = None
    request_id: str
    message_id: str | None = None
    queued_at: float = Field(default_factory=time.time)
    protocol: str | None = None
    run_id: str | None = None
    session_seen: bool = False
    session_item: dict[str, Any] | None = None

    @property
    def group_id(self) -> str:
        """The FIFO group of the job's thread: one per (owner, thread_id), and another for its state reads."""
        group = hashlib.sha256(thread_key(self.thread_id, self.owner).encode()).hexdigest()
        return f"state-{group}" if self.kind is JobKind.STATE else group

    @property
    def deduplication_id(self) -> str:
        """The job's FIFO deduplication id: the client's message id in its thread, else the request id."""
        if self.message_id is None:
            return f"{self.kind.value}:{self.request_id}"
        scoped = f"{thread_key(self.thread_id, self.owner)}\n{self.message_id}"
        return f"{self.kind.value}:m:{hashlib.sha256(scoped.encode()).hexdigest()}"


def enqueue(sqs: Any, queue_url: str, job: TurnJob) -> None:
    """Queue `job` in the thread's FIFO group, deduplicated on the client's message id or the request id."""
    sqs.send_message(
        QueueUrl=queue_url,
        MessageBody=job.model_dump_json(),
        MessageGroupId=job.group_id,
        MessageDeduplicationId=job.deduplication_id,
    )
