"""Server -> client frames of the `/ws` protocol, each a pydantic model (re-exported by `protocol`)."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field


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
    TURN_RUNNING = "turn_running"
    NO_RUNNING_TURN = "no_running_turn"
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


Namespace = list[str]
"""The subgraph path of a frame's source, outermost first (`["billing"]`); absent for the root graph."""


class TokenFrame(_ServerFrame):
    """Streamed text from the named agent."""

    type: Literal["token"] = "token"
    thread_id: str
    content: str
    agent: str
    namespace: Namespace | None = None


class ToolCallFrame(_ServerFrame):
    """The agent called a tool; `args` are complete and parsed."""

    type: Literal["tool_call"] = "tool_call"
    thread_id: str
    tool: str
    args: dict[str, Any]
    agent: str
    call_id: str | None = None
    namespace: Namespace | None = None


class ToolResultFrame(_ServerFrame):
    """A tool's result (sent when the client asked for `tool_results`)."""

    type: Literal["tool_result"] = "tool_result"
    thread_id: str
    tool: str
    call_id: str | None = None
    content: str
    agent: str
    namespace: Namespace | None = None


class InterruptFrame(_ServerFrame):
    """The graph waits for the client: an approval (`kind` `approval`) or any answer (`kind` `input`).

    An approval's own data (e.g. `order_id`) travels as extra fields, as the graph's `interrupt()` value
    gave them. Any other value travels as `value`, unchanged, with `question` when it has text to show.
    """

    model_config = ConfigDict(extra="allow", frozen=True)

    type: Literal["interrupt"] = "interrupt"
    thread_id: str
    interrupt_id: str
    kind: Literal["approval", "input"] = "approval"
    action: str | None = None
    description: str | None = None
    question: str | None = None
    value: Any = None
    namespace: Namespace | None = None


class CustomFrame(_ServerFrame):
    """A value the graph wrote with `get_stream_writer()` (LangGraph's `custom` stream mode)."""

    type: Literal["custom"] = "custom"
    thread_id: str
    agent: str | None = None
    value: Any = None
    namespace: Namespace | None = None


class UpdateFrame(_ServerFrame):
    """What a node returned (LangGraph's `updates` stream mode; sent when the client asked for `updates`)."""

    type: Literal["update"] = "update"
    thread_id: str
    node: str
    value: Any = None
    namespace: Namespace | None = None


class ValuesFrame(_ServerFrame):
    """The graph's whole state after a step (LangGraph's `values` mode; sent when asked for `values`)."""

    type: Literal["values"] = "values"
    thread_id: str
    value: Any = None
    namespace: Namespace | None = None


class MessageCompleteFrame(_ServerFrame):
    """The turn finished: normally, or (`status`) cancelled, rolled back, or its questions dismissed."""

    type: Literal["message_complete"] = "message_complete"
    thread_id: str
    status: Literal["cancelled", "rolled_back", "dismissed"] | None = None


class ErrorFrame(_ServerFrame):
    """A clear, human-readable reason why a frame or a turn failed."""

    type: Literal["error"] = "error"
    code: ErrorCode
    message: str
    thread_id: str | None = None


ThreadState = Literal["new", "idle", "running", "awaiting_approval"]


class ResumedFrame(_ServerFrame):
    """The answer to `resume`, after the frames it re-sent: the client is caught up with the thread.

    `state` is where the thread stands: `new` (nothing to resume), `idle`, `awaiting_approval` (its
    `interrupt` frames were just sent) or `running` (the rest of the turn follows live).
    """

    type: Literal["resumed"] = "resumed"
    thread_id: str
    state: ThreadState


class CheckpointInfo(_Frame):
    """One checkpoint of a thread's history, newest first."""

    checkpoint_id: str
    created_at: str | None = None
    step: int | None = None
    source: str | None = None
    next: list[str] = Field(default_factory=list)


class StateFrame(_ServerFrame):
    """The answer to `get_state`: the thread's messages, values, pending interrupts and checkpoint."""

    type: Literal["state"] = "state"
    thread_id: str
    state: ThreadState
    checkpoint_id: str | None = None
    created_at: str | None = None
    next: list[str] = Field(default_factory=list)
    messages: list[dict[str, Any]] = Field(default_factory=list)
    values: dict[str, Any] = Field(default_factory=dict)
    interrupts: list[InterruptFrame] = Field(default_factory=list)
    history: list[CheckpointInfo] | None = None


ServerFrame = Annotated[
    TokenFrame
    | ToolCallFrame
    | ToolResultFrame
    | InterruptFrame
    | CustomFrame
    | UpdateFrame
    | ValuesFrame
    | MessageCompleteFrame
    | ErrorFrame
    | ResumedFrame
    | StateFrame,
    Field(discriminator="type"),
]
TURN_END_FRAMES = (MessageCompleteFrame, InterruptFrame, ErrorFrame)
"""The frames that can end a turn (a turn ends with exactly one of them, or several `interrupt`s)."""
