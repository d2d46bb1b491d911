"""The `/ws` protocol: every frame as a pydantic model, and one parse function for client frames.

Every transport (the local Starlette server, the API Gateway route handlers, the worker) parses client
text with :func:`parse_client_frame` and serializes server frames with :func:`encode_frame`, so the
rules below exist exactly once. Server frames live in `chat_runtime.server_frames` and are re-exported here.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    JsonValue,
    SerializerFunctionWrapHandler,
    StrictBool,
    StrictInt,
    StrictStr,
    TypeAdapter,
    ValidationError,
    model_serializer,
    model_validator,
)

from chat_runtime.server_frames import (
    TURN_END_FRAMES,
    CheckpointInfo,
    CustomFrame,
    ErrorCode,
    ErrorFrame,
    InterruptFrame,
    MessageCompleteFrame,
    ResumedFrame,
    ServerFrame,
    StateFrame,
    TokenFrame,
    ToolCallFrame,
    ToolResultFrame,
    UpdateFrame,
    ValuesFrame,
)

__all__ = [
    "CLIENT_FRAME_TYPES",
    "MAX_FRAME_BYTES",
    "TURN_END_FRAMES",
    "Answer",
    "CancelFrame",
    "CheckpointInfo",
    "ClientFrame",
    "CustomFrame",
    "ErrorCode",
    "ErrorFrame",
    "GetStateFrame",
    "InterruptFrame",
    "InterruptResponseFrame",
    "MessageCompleteFrame",
    "MessageFrame",
    "ProtocolError",
    "ResumeFrame",
    "ResumedFrame",
    "ServerFrame",
    "StateFrame",
    "TokenFrame",
    "ToolCallFrame",
    "ToolResultFrame",
    "TurnFrame",
    "UpdateFrame",
    "ValuesFrame",
    "encode_frame",
    "parse_client_frame",
]

MAX_FRAME_BYTES = 32 * 1024
"""API Gateway's WebSocket frame limit; the local server enforces the same."""

THREAD_ID_PATTERN = r"^[A-Za-z0-9._:-]{1,128}$"
THREAD_ID_RULE = "thread_id must be 1-128 characters of letters, digits, '.', '_', ':' or '-'"

ThreadId = Annotated[StrictStr, Field(pattern=THREAD_ID_PATTERN)]
MessageId = Annotated[StrictStr, Field(pattern=THREAD_ID_PATTERN)]
"""A client's own id for a `message` or `interrupt_response` (same characters as a `thread_id`): sending the
frame again with the same id (after `service_busy`, a timeout or a reconnect) never starts a second turn."""


# ---------------------------------------------------------------------------- client -> server

MultitaskStrategy = Literal["enqueue", "reject", "interrupt", "rollback"]
"""What a `message` does while a turn runs on its thread (LangGraph's double-texting strategies)."""
StreamExtra = Literal["updates", "values", "tool_results"]
"""Frames a client may ask for besides tokens, tool calls, custom events and the turn's end."""
StreamExtras = Annotated[list[StreamExtra], Field(max_length=3)]


class _ClientFrame(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)


class MessageFrame(_ClientFrame):
    """A user message in a conversation."""

    type: Literal["message"]
    thread_id: ThreadId
    content: StrictStr
    multitask_strategy: MultitaskStrategy = "enqueue"
    stream: StreamExtras = Field(default_factory=list)
    message_id: MessageId | None = None


class Answer(_ClientFrame):
    """The answer to one pending interrupt: `approved` (with `edits`), any JSON `value`, or `cancelled`."""

    interrupt_id: StrictStr | None = None
    approved: StrictBool | None = None
    edits: dict[str, Any] | None = None
    value: JsonValue = None
    cancelled: StrictBool = False

    @model_validator(mode="after")
    def _one_kind_of_answer(self) -> Answer:
        given = [self.approved is not None, "value" in self.model_fields_set, self.cancelled]
        if sum(given) > 1:
            raise ValueError("give one of approved, value or cancelled, not several")
        return self

    @model_serializer(mode="wrap")
    def _without_unsent_value(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        # `null` is an answer too: an answer that gave no value must not come back with one (queued jobs).
        data: dict[str, Any] = handler(self)
        if "value" not in self.model_fields_set:
            data.pop("value", None)
        return data

    @property
    def answered(self) -> bool:
        """Whether this answer says anything (the top-level fields of a frame with `answers` do not)."""
        return self.approved is not None or "value" in self.model_fields_set or self.cancelled

    def resume_value(self) -> Any:
        """What the graph's `interrupt()` returns for this answer: exactly the value the client sent."""
        if "value" in self.model_fields_set:
            return self.value
        if self.approved and self.edits is not None:
            return {"approved": True, "edits": self.edits}
        return self.approved


class InterruptResponseFrame(Answer):
    """The client's answer to pending interrupts: one answer in the frame's own fields, or `answers`."""

    type: Literal["interrupt_response"]
    thread_id: ThreadId
    answers: Annotated[list[Answer], Field(min_length=1, max_length=64)] | None = None
    stream: StreamExtras = Field(default_factory=list)
    message_id: MessageId | None = None

    @model_validator(mode="after")
    def _answers_or_one(self) -> InterruptResponseFrame:
        if self.answers is None and not self.answered:
            raise ValueError("an interrupt_response needs approved (true or false), a value, or cancelled")
        if self.answers is not None and (self.answered or self.interrupt_id is not None):
            raise ValueError("give answers, or one answer in the frame's own fields, not both")
        if self.answers is not None and any(a.interrupt_id is None for a in self.answers):
            raise ValueError("each of answers needs its interrupt_id")
        return self

    def all_answers(self) -> list[Answer]:
        """The frame's answers, in order (one when it answers in its own fields)."""
        return list(self.answers) if self.answers is not None else [self]

    @property
    def approval(self) -> bool | None:
        """True or False when the frame approves or rejects one approval, else None (for metrics)."""
        return self.approved if self.answers is None else None


class ResumeFrame(_ClientFrame):
    """After a reconnect: send the thread's frames after `after_seq`, then the rest of a running turn."""

    type: Literal["resume"]
    thread_id: ThreadId
    after_seq: Annotated[StrictInt, Field(ge=0)] = 0


class CancelFrame(_ClientFrame):
    """Stop the thread's running turn, keeping what it did (`interrupt`) or discarding it (`rollback`)."""

    type: Literal["cancel"]
    thread_id: ThreadId
    action: Literal["interrupt", "rollback"] = "interrupt"


class GetStateFrame(_ClientFrame):
    """Read the thread's state (messages, values, pending interrupts), and `history` checkpoints."""

    type: Literal["get_state"]
    thread_id: ThreadId
    history: Annotated[StrictInt, Field(ge=0, le=100)] = 0


AnyClientFrame = MessageFrame | InterruptResponseFrame | ResumeFrame | CancelFrame | GetStateFrame
ClientFrame = Annotated[AnyClientFrame, Field(discriminator="type")]
CLIENT_FRAME_TYPES = ("message", "interrupt_response", "resume", "cancel", "get_state")
TurnFrame = MessageFrame | InterruptResponseFrame


@dataclass(frozen=True, slots=True)
class ProtocolError:
    """Why a client frame was refused; `thread_id` is set when the frame named a valid one."""

    code: ErrorCode
    message: str
    thread_id: str | None = None

    def to_frame(self) -> ErrorFrame:
        """Return the `error` frame that reports this refusal to the client."""
        return ErrorFrame(code=self.code, message=self.message, thread_id=self.thread_id)


_client_frame_adapter: TypeAdapter[AnyClientFrame] = TypeAdapter(ClientFrame)
_thread_id_adapter: TypeAdapter[str] = TypeAdapter(ThreadId)


def encode_frame(frame: ServerFrame) -> str:
    """Serialize a server frame to the JSON text sent on the socket."""
    return frame.model_dump_json(exclude_none=True)


def parse_client_frame(raw: str | bytes) -> AnyClientFrame | ProtocolError:
    """Turn raw socket data into a valid client frame, or the protocol error that refuses it.

    The size limit is checked before anything is decoded. The function never raises.

    Args:
        raw: The frame as received: text, or bytes that should hold UTF-8 text.

    Returns:
        A client frame (`message`, `interrupt_response`, `resume`, `cancel`, `get_state`), or the
        `ProtocolError` refusing it.
    """
    size = len(raw) if isinstance(raw, bytes) else len(raw.encode("utf-8", "surrogatepass"))
    if size > MAX_FRAME_BYTES:
        return ProtocolError(
            ErrorCode.MESSAGE_TOO_LARGE,
            f"Message too large: {size} bytes, the limit is {MAX_FRAME_BYTES} bytes.",
        )
    try:
        data = json.loads(raw)
    except (ValueError, RecursionError):
        return ProtocolError(ErrorCode.INVALID_JSON, "Invalid JSON: every frame must be one JSON object.")
    if not isinstance(data, dict):
        return ProtocolError(ErrorCode.INVALID_FRAME, "Invalid frame: expected a JSON object with a 'type'.")
    frame_type = data.get("type")
    if frame_type not in CLIENT_FRAME_TYPES:
        shown = frame_type if isinstance(frame_type, str) else json.dumps(frame_type)
        return ProtocolError(
            ErrorCode.UNKNOWN_TYPE,
            f"Unknown frame type {shown[:64]!r}: expected one of {', '.join(CLIENT_FRAME_TYPES)}.",
        )
    thread_id = data.get("thread_id")
    try:
        frame = _client_frame_adapter.validate_python(data)
    except ValidationError as exc:
        return _refusal(exc, thread_id)
    if isinstance(frame, MessageFrame) and not frame.content.strip():
        return ProtocolError(ErrorCode.EMPTY_CONTENT, "content must not be empty.", frame.thread_id)
    return frame


def _refusal(exc: ValidationError, thread_id: object) -> ProtocolError:
    """Map pydantic's first complaint to the protocol's code and wording."""
    valid_thread_id = _valid_thread_id(thread_id)
    error = exc.errors()[0]
    loc = error["loc"]
    # The discriminated union prefixes the location with the frame type.
    field = str(loc[1]) if len(loc) > 1 else str(loc[0]) if loc else "frame"
    if error["type"] == "value_error":  # a rule of the frame as a whole (or of one of its answers)
        rule = str(error["msg"]).removeprefix("Value error, ")
        return ProtocolError(ErrorCode.INVALID_FIELD, f"{rule[:1].upper()}{rule[1:]}.", valid_thread_id)
    if field == "thread_id":
        if thread_id is None:
            return ProtocolError(ErrorCode.INVALID_THREAD_ID, "thread_id is required.")
        return ProtocolError(ErrorCode.INVALID_THREAD_ID, f"Invalid thread_id: {THREAD_ID_RULE}.")
    if field == "content":
        if error["type"] == "missing":
            return ProtocolError(ErrorCode.EMPTY_CONTENT, "content is required.", valid_thread_id)
        return ProtocolError(ErrorCode.INVALID_FIELD, "content must be a string.", valid_thread_id)
    if field == "approved":
        return ProtocolError(ErrorCode.INVALID_FIELD, "approved must be true or false.", valid_thread_id)
    if field == "edits":
        return ProtocolError(ErrorCode.INVALID_FIELD, "edits must be a JSON object.", valid_thread_id)
    if field == "message_id":
        return ProtocolError(
            ErrorCode.INVALID_FIELD,
            "message_id must be 1-128 characters of letters, digits, '.', '_', ':' or '-'.",
            valid_thread_id,
        )
    if field == "after_seq":
        return ProtocolError(
            ErrorCode.INVALID_FIELD, "after_seq must be a whole number, 0 or more.", valid_thread_id
        )
    return ProtocolError(ErrorCode.INVALID_FIELD, f"Invalid field {field}: {error['msg']}.", valid_thread_id)


def _valid_thread_id(value: object) -> str | None:
    try:
        return _thread_id_adapter.validate_python(value)
    except ValidationError:
        return None
