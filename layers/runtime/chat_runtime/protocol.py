"""The `/ws` protocol: every frame as a pydantic model, and one parse function for client frames.

Every transport (the local Starlette server, the API Gateway route handlers, the worker) parses client
text with :func:`parse_client_frame` and serializes server frames with :func:`encode_frame`, so the
rules below exist exactly once.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StrictBool,
    StrictInt,
    StrictStr,
    TypeAdapter,
    ValidationError,
)

MAX_FRAME_BYTES = 32 * 1024
"""API Gateway's WebSocket frame limit; the local server enforces the same."""

THREAD_ID_PATTERN = r"^[A-Za-z0-9._:-]{1,128}$"
THREAD_ID_RULE = "thread_id must be 1-128 characters of letters, digits, '.', '_', ':' or '-'"

ThreadId = Annotated[StrictStr, Field(pattern=THREAD_ID_PATTERN)]


class ErrorCode(StrEnum):
    """Machine-readable reasons carried by `error` frames."""

    MESSAGE_TOO_LARGE = "message_too_large"
    INVALID_JSON = "invalid_json"
    INVALID_FRAME = "invalid_frame"
    UNKNOWN_TYPE = "unknown_type"
    INVALID_THREAD_ID = "invalid_thread_id"
    EMPTY_CONTENT = "empty_content"
    INVALID_FIELD = "invalid_field"
    SESSION_EXPIRED = "session_expired"
    NO_PENDING_APPROVAL = "no_pending_approval"
    APPROVAL_PENDING = "approval_pending"
    UNKNOWN_INTERRUPT = "unknown_interrupt"
    RATE_LIMITED = "rate_limited"
    TOO_MANY_THREADS = "too_many_threads"
    TOKEN_EXPIRED = "token_expired"
    TURN_TIMEOUT = "turn_timeout"
    SERVICE_BUSY = "service_busy"
    AGENT_ERROR = "agent_error"
    INTERNAL_ERROR = "internal_error"


class _Frame(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)


class _ServerFrame(_Frame):
    seq: int | None = None
    """The frame's position in its thread (frames of turns; immediate refusals carry none)."""


# ---------------------------------------------------------------------------- client -> server


class MessageFrame(_Frame):
    """A user message in a conversation."""

    type: Literal["message"]
    thread_id: ThreadId
    content: StrictStr


class InterruptResponseFrame(_Frame):
    """The customer's answer to a pending approval."""

    type: Literal["interrupt_response"]
    thread_id: ThreadId
    approved: StrictBool
    interrupt_id: StrictStr | None = None
    edits: dict[str, Any] | None = None


class ResumeFrame(_Frame):
    """After a reconnect: send the thread's frames after `after_seq`, then the rest of a running turn."""

    type: Literal["resume"]
    thread_id: ThreadId
    after_seq: Annotated[StrictInt, Field(ge=0)] = 0


ClientFrame = Annotated[MessageFrame | InterruptResponseFrame | ResumeFrame, Field(discriminator="type")]
CLIENT_FRAME_TYPES = ("message", "interrupt_response", "resume")
TurnFrame = MessageFrame | InterruptResponseFrame

# ---------------------------------------------------------------------------- server -> client


class TokenFrame(_ServerFrame):
    """Streamed text from the named agent."""

    type: Literal["token"] = "token"
    thread_id: str
    content: str
    agent: str


class ToolCallFrame(_ServerFrame):
    """The agent called a tool; `args` are complete and parsed."""

    type: Literal["tool_call"] = "tool_call"
    thread_id: str
    tool: str
    args: dict[str, Any]
    agent: str
    call_id: str | None = None


class InterruptFrame(_ServerFrame):
    """An approval is needed; the action's own data (e.g. `order_id`) travels as extra fields."""

    model_config = ConfigDict(extra="allow", frozen=True)

    type: Literal["interrupt"] = "interrupt"
    thread_id: str
    interrupt_id: str
    action: str
    description: str


class MessageCompleteFrame(_ServerFrame):
    """The turn finished normally."""

    type: Literal["message_complete"] = "message_complete"
    thread_id: str


class ErrorFrame(_ServerFrame):
    """A clear, human-readable reason why a frame or a turn failed."""

    type: Literal["error"] = "error"
    code: ErrorCode
    message: str
    thread_id: str | None = None


class ResumedFrame(_ServerFrame):
    """The answer to `resume`, after the frames it re-sent: the client is caught up with the thread.

    `state` is where the thread stands: `new` (nothing to resume), `idle`, `awaiting_approval` (its
    `interrupt` frames were just sent) or `running` (the rest of the turn follows live).
    """

    type: Literal["resumed"] = "resumed"
    thread_id: str
    state: Literal["new", "idle", "running", "awaiting_approval"]


ServerFrame = Annotated[
    TokenFrame | ToolCallFrame | InterruptFrame | MessageCompleteFrame | ErrorFrame | ResumedFrame,
    Field(discriminator="type"),
]


@dataclass(frozen=True, slots=True)
class ProtocolError:
    """Why a client frame was refused; `thread_id` is set when the frame named a valid one."""

    code: ErrorCode
    message: str
    thread_id: str | None = None

    def to_frame(self) -> ErrorFrame:
        """Return the `error` frame that reports this refusal to the client."""
        return ErrorFrame(code=self.code, message=self.message, thread_id=self.thread_id)


_client_frame_adapter: TypeAdapter[MessageFrame | InterruptResponseFrame | ResumeFrame] = TypeAdapter(
    ClientFrame
)
_thread_id_adapter: TypeAdapter[str] = TypeAdapter(ThreadId)


def encode_frame(frame: ServerFrame) -> str:
    """Serialize a server frame to the JSON text sent on the socket."""
    return frame.model_dump_json(exclude_none=True)


def parse_client_frame(
    raw: str | bytes,
) -> MessageFrame | InterruptResponseFrame | ResumeFrame | ProtocolError:
    """Turn raw socket data into a valid client frame, or the protocol error that refuses it.

    The size limit is checked before anything is decoded. The function never raises.

    Args:
        raw: The frame as received: text, or bytes that should hold UTF-8 text.

    Returns:
        A `MessageFrame`, `InterruptResponseFrame` or `ResumeFrame`, or the `ProtocolError` refusing it.
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
