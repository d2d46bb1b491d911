"""RunAgentInput (and AG-UI's abort, our `cancel`) to the client frames our turns understand."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from pydantic import ValidationError

from chat_runtime.protocol import (
    CLIENT_FRAME_TYPES,
    MAX_FRAME_BYTES,
    Answer,
    AnyClientFrame,
    ErrorCode,
    InterruptResponseFrame,
    MessageFrame,
    ProtocolError,
    ResumeFrame,
    parse_client_frame,
)

STREAM_EXTRAS = ["tool_results", "updates"]
"""What every AG-UI run streams besides tokens and tool calls: tool results become TOOL_CALL_RESULT, and
nodes' updates end their steps (STEP_FINISHED)."""
FORWARDED_PROPS = ("multitask_strategy",)

if TYPE_CHECKING:  # ag_ui.core builds its models on import (about 0.3 s): only AG-UI input pays for it
    from ag_ui.core import ResumeEntry, RunAgentInput


@dataclass(frozen=True, slots=True)
class DecodedRun:
    """A RunAgentInput's turn, with the run id its events carry."""

    frame: MessageFrame | InterruptResponseFrame
    run_id: str


def decode_agui(raw: str | bytes) -> DecodedRun | AnyClientFrame | tuple[ProtocolError, str | None]:
    """Decode one frame of an AG-UI connection. Never raises.

    A JSON object with a `type` of our own protocol (`cancel`, `resume`, `get_state`) is parsed as ours
    (AG-UI's abort is `cancel`); any other object must be a RunAgentInput. AG-UI events carry no `seq`,
    so a `resume` replays the thread's latest run from its start (its `after_seq` is taken as 0).

    Returns:
        The run to start, one of our own frames, or the refusal with the run id it answers (when known).
    """
    size = len(raw) if isinstance(raw, bytes) else len(raw.encode("utf-8", "surrogatepass"))
    if size > MAX_FRAME_BYTES:
        return parse_client_frame(raw), None  # type: ignore[return-value]
    try:
        data = json.loads(raw)
    except (ValueError, RecursionError):
        return ProtocolError(
            ErrorCode.INVALID_JSON, "Invalid JSON: every frame must be one JSON object."
        ), None
    if not isinstance(data, dict):
        return ProtocolError(ErrorCode.INVALID_FRAME, "Invalid frame: expected a RunAgentInput object."), None
    if "type" in data:
        if data["type"] in ("message", "interrupt_response") or data["type"] not in CLIENT_FRAME_TYPES:
            return _refused(ErrorCode.UNKNOWN_TYPE, _TYPE_RULE, data), None
        parsed = parse_client_frame(raw)
        if isinstance(parsed, ResumeFrame):
            return parsed.model_copy(update={"after_seq": 0})
        return (parsed, None) if isinstance(parsed, ProtocolError) else parsed
    run_id = data.get("runId") if isinstance(data.get("runId"), str) else None
    from ag_ui.core import RunAgentInput

    try:
        run_input = RunAgentInput.model_validate(data)
    except ValidationError as exc:
        error = exc.errors()[0]
        where = ".".join(str(part) for part in error["loc"]) or "input"
        return _refused(
            ErrorCode.INVALID_FIELD, f"Invalid RunAgentInput at {where}: {error['msg']}.", data
        ), run_id
    frame = _turn_frame(run_input)
    if isinstance(frame, ProtocolError):
        return frame, run_input.run_id
    return DecodedRun(frame, run_input.run_id)


_TYPE_RULE = "An AG-UI connection takes a RunAgentInput, or a frame of type cancel, resume or get_state."


def _refused(code: ErrorCode, message: str, data: dict[str, Any]) -> ProtocolError:
    thread_id = data.get("threadId", data.get("thread_id"))
    valid = thread_id if isinstance(thread_id, str) and 0 < len(thread_id) <= 128 else None
    return ProtocolError(code, message, valid)


def _turn_frame(run_input: RunAgentInput) -> MessageFrame | InterruptResponseFrame | ProtocolError:
    thread_id = run_input.thread_id
    if run_input.tools:
        return ProtocolError(
            ErrorCode.INVALID_FIELD,
            "tools are not supported: the graph's tools run on the server.",
            thread_id,
        )
    if run_input.context:
        return ProtocolError(
            ErrorCode.INVALID_FIELD,
            "context is not supported: send what the agent should know as a message.",
            thread_id,
        )
    props = run_input.forwarded_props if isinstance(run_input.forwarded_props, dict) else {}
    unknown = sorted(set(props) - set(FORWARDED_PROPS))
    if run_input.forwarded_props not in (None, {}) and (
        unknown or not isinstance(run_input.forwarded_props, dict)
    ):
        return ProtocolError(
            ErrorCode.INVALID_FIELD,
            f"forwardedProps may only hold {', '.join(FORWARDED_PROPS)}; "
            f"got {', '.join(unknown) or 'a non-object'}.",
            thread_id,
        )
    fields: dict[str, Any] = {"thread_id": thread_id, "stream": STREAM_EXTRAS}
    if run_input.resume:
        fields["answers"] = [_answer(entry).model_dump() for entry in run_input.resume]
        return _validated(InterruptResponseFrame, {"type": "interrupt_response", **fields})
    content = _newest_user_text(run_input)
    if content is None:
        return ProtocolError(
            ErrorCode.EMPTY_CONTENT,
            "messages must end with a user message (the thread's history stays on the server), "
            "or give resume.",
            thread_id,
        )
    if "multitask_strategy" in props:
        fields["multitask_strategy"] = props["multitask_strategy"]
    return _validated(MessageFrame, {"type": "message", "content": content, **fields})


def _validated(
    model: type[MessageFrame] | type[InterruptResponseFrame], data: dict[str, Any]
) -> MessageFrame | InterruptResponseFrame | ProtocolError:
    parsed = parse_client_frame(json.dumps(data))
    if isinstance(parsed, (ProtocolError, model)):
        return parsed
    return ProtocolError(ErrorCode.INVALID_FRAME, "Invalid RunAgentInput.", data.get("thread_id"))


def _answer(entry: ResumeEntry) -> Answer:
    """One resume entry as our answer: cancelled, an approval (`{approved, edits}`), or any value."""
    if entry.status == "cancelled":
        return Answer(interrupt_id=entry.interrupt_id, cancelled=True)
    payload = entry.payload
    if (
        isinstance(payload, dict)
        and isinstance(payload.get("approved"), bool)
        and set(payload) <= {"approved", "edits"}
    ):
        return Answer(
            interrupt_id=entry.interrupt_id, approved=payload["approved"], edits=payload.get("edits")
        )
    return Answer(interrupt_id=entry.interrupt_id, value=payload)


def _newest_user_text(run_input: RunAgentInput) -> str | None:
    """The text of the last message when it is the user's (text parts joined), else None."""
    if not run_input.messages:
        return None
    message = (
        run_input.messages[-1].root if hasattr(run_input.messages[-1], "root") else run_input.messages[-1]
    )
    if getattr(message, "role", None) != "user":
        return None
    content = message.content
    if isinstance(content, str):
        return content
    if not isinstance(content, list):
        return None
    texts = [getattr(part, "text", None) for part in (getattr(p, "root", p) for p in content)]
    return "".join(t for t in texts if isinstance(t, str)) or None
