"""Redelivered jobs: SQS delivers at least once, and an attempt may die anywhere.

The worker asks three questions of a job's thread before it runs the job:

- Did this request already end (its id is in the session's `ended_requests`)? Then its last word was
  recorded: the redelivery says nothing more, except that an ending the attempt recorded but never wrote to
  the frame log (it died in between) is logged and sent now.
- Did an attempt die mid-turn (the session still says `running`)? Then its numbered frames may be in the
  frame log beyond the session's `last_seq`, and its first frame may have been posted before it was logged:
  the session's `last_seq` is raised past both, so no `seq` is handed out twice.
- Did that attempt belong to this very request, and did the graph finish its run (a checkpoint newer than
  the turn's start)? Then the run is not repeated (an approved action has run, a message has its answer):
  the outcome is read from the checkpoint and reported.
"""

from __future__ import annotations

import logging
from dataclasses import replace
from datetime import datetime
from typing import Any

from pydantic import TypeAdapter

from chat_runtime.aws.dynamodb_sessions import DynamoDBSessionManager
from chat_runtime.aws.frame_log import DynamoDBFrameLog
from chat_runtime.protocol import MessageCompleteFrame, ServerFrame, TokenFrame, encode_frame
from chat_runtime.sessions import SessionRecord, ThreadStatus, ended

logger = logging.getLogger(__name__)
_frames: TypeAdapter[ServerFrame] = TypeAdapter(ServerFrame)


def recorded_ending(record: SessionRecord, frames: DynamoDBFrameLog, key: str) -> list[ServerFrame]:
    """The recorded ending of a request that already ended, if the frame log lacks it (else nothing).

    The sender logs a frame before posting it: an ending missing from the log was never posted either.
    """
    ending = [_frames.validate_json(text) for text in record.ending]
    seqs = [frame.seq for frame in ending if frame.seq is not None]
    if not seqs:
        return []
    logged = {frame.seq for frame in frames.after(key, min(seqs) - 1, min(seqs))}
    return [frame for frame in ending if frame.seq not in logged]


def raise_last_seq(
    record: SessionRecord, sessions: DynamoDBSessionManager, frames: DynamoDBFrameLog
) -> SessionRecord:
    """After a turn died: the session's `last_seq` past every frame that turn logged (stored), and past its
    first frame, which the worker posts before logging it (`ApiGatewaySender(post_first_then_log=True)`)."""
    first = record.turn_first_seq if record.status is ThreadStatus.RUNNING else 0
    highest = max(frames.highest_seq(record.thread_id), first)
    if highest <= record.last_seq:
        return record
    logger.info("a turn died after frame %d; numbering continues after it", highest)
    sessions.raise_last_seq(record.thread_id, highest)
    return replace(record, last_seq=highest)


def finished_run(record: SessionRecord, state: Any, request_id: str) -> bool:
    """Whether the graph's run of `request_id` finished before its attempt died.

    True when the turn the session records as running is this request's and the thread's checkpoint was
    written after that turn started (with `durability="exit"`, only the end of a run or an interrupt writes
    one).
    """
    if record.status is not ThreadStatus.RUNNING or record.request_id != request_id:
        return False
    created = getattr(state, "created_at", None)
    if not created:
        return False
    return datetime.fromisoformat(created).timestamp() > record.last_active_at


def outcome_frames(thread_id: str, state: Any, pending: tuple[Any, ...]) -> list[ServerFrame]:
    """How a finished run ended, from its checkpoint: its pending approvals, or its last answer."""
    if pending:
        return [interrupt.to_frame(thread_id) for interrupt in pending]
    from langchain_core.messages import AIMessage

    messages = (getattr(state, "values", None) or {}).get("messages", [])
    answer = next((m for m in reversed(messages) if isinstance(m, AIMessage)), None)
    text = answer.text if answer is not None else ""
    agent = (answer.name if answer is not None else None) or "assistant"
    frames: list[ServerFrame] = []
    if text:
        frames.append(TokenFrame(thread_id=thread_id, content=text, agent=agent))
    frames.append(MessageCompleteFrame(thread_id=thread_id))
    return frames


def finish_from_checkpoint(
    record: SessionRecord,
    sessions: DynamoDBSessionManager,
    frames: list[ServerFrame],
    pending: tuple[Any, ...],
    request_id: str,
) -> list[ServerFrame]:
    """Number the frames after `last_seq`, record the turn's end with them; returns the numbered frames."""
    numbered = [
        frame.model_copy(update={"seq": record.last_seq + index}) for index, frame in enumerate(frames, 1)
    ]
    status = ThreadStatus.AWAITING_APPROVAL if pending else ThreadStatus.IDLE
    finished = replace(record.transition(status, pending), last_seq=record.last_seq + len(numbered))
    sessions.touch(ended(finished, request_id, tuple(encode_frame(f) for f in numbered)))
    return numbered
