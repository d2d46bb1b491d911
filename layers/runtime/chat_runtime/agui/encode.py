"""Our server frames as AG-UI events: a stateful encoder per connection, one run at a time per thread."""

from __future__ import annotations

import json
import uuid
from collections import deque
from dataclasses import dataclass, field
from typing import Any

from chat_runtime.protocol import (
    CustomFrame,
    ErrorFrame,
    InterruptFrame,
    MessageCompleteFrame,
    ResumedFrame,
    ServerFrame,
    TokenFrame,
    ToolCallFrame,
    ToolResultFrame,
)

Event = dict[str, Any]
INTERRUPT_FIELDS = {
    "type",
    "thread_id",
    "interrupt_id",
    "kind",
    "action",
    "description",
    "question",
    "value",
    "namespace",
    "seq",
}


@dataclass(slots=True)
class _Run:
    run_id: str
    message_id: str | None = None
    agent: str | None = None
    messages: int = 0
    interrupts: list[InterruptFrame] = field(default_factory=list)
    calls: set[str] = field(default_factory=set)


class AguiEncoder:
    """Turns one connection's server frames into AG-UI events, keeping each thread's open run.

    A run opens (RUN_STARTED) with the first frame of its thread, using the run id of the RunAgentInput
    that asked for it (queued by :meth:`begin_run`) or a fresh one (a turn followed after `resume`). It
    closes with RUN_FINISHED or RUN_ERROR; a turn's `interrupt` frames wait for :meth:`end_turn`, which
    finishes the run with all of them in its outcome.
    """

    def __init__(self) -> None:
        self._runs: dict[str, _Run] = {}
        self._queued: dict[str, deque[str]] = {}
        self._calls: dict[str, dict[str, tuple[str, dict[str, Any]]]] = {}

    def begin_run(self, thread_id: str, run_id: str) -> None:
        """Queue the run id for the next run of `thread_id`."""
        self._queued.setdefault(thread_id, deque()).append(run_id)

    def encode(self, frame: ServerFrame) -> list[Event]:
        """The AG-UI events for one of our frames (none for frames AG-UI has no place for)."""
        thread_id = getattr(frame, "thread_id", None)
        if thread_id is None:
            return [_run_error(frame)] if isinstance(frame, ErrorFrame) else []
        if isinstance(frame, ResumedFrame):
            return self.end_turn(thread_id) if frame.state == "awaiting_approval" else []
        if isinstance(frame, ErrorFrame) and thread_id not in self._runs and not self._queued.get(thread_id):
            return [_run_error(frame)]
        events: list[Event] = []
        run = self._open(thread_id, events)
        if isinstance(frame, TokenFrame):
            if frame.content:
                self._text(run, frame, events)
        elif isinstance(frame, ToolCallFrame):
            self._close_text(run, events)
            call_id = frame.call_id or f"{run.run_id}-call-{uuid.uuid4().hex[:8]}"
            self._calls.setdefault(thread_id, {})[call_id] = (frame.tool, frame.args)
            events += _tool_call(run, call_id, frame.tool, frame.args)
        elif isinstance(frame, ToolResultFrame):
            self._close_text(run, events)
            call_id = frame.call_id or frame.tool
            if call_id not in run.calls:  # called in an earlier run (before its approval): announce it again
                tool, args = self._calls.get(thread_id, {}).get(call_id, (frame.tool, {}))
                events += _tool_call(run, call_id, tool, args)
            events.append(
                {
                    "type": "TOOL_CALL_RESULT",
                    "messageId": f"{call_id}-result",
                    "toolCallId": call_id,
                    "content": frame.content,
                    "role": "tool",
                }
            )
        elif isinstance(frame, CustomFrame):
            events.append({"type": "CUSTOM", "name": "custom", "value": frame.value})
        elif isinstance(frame, InterruptFrame):
            self._close_text(run, events)
            run.interrupts.append(frame)
        elif isinstance(frame, MessageCompleteFrame):
            self._close_text(run, events)
            cancelled = frame.status in ("cancelled", "rolled_back")
            outcome = {"type": "cancelled"} if cancelled else {"type": "success"}
            events.append(self._finish(thread_id, {"outcome": outcome}))
        elif isinstance(frame, ErrorFrame):
            self._close_text(run, events)
            self._runs.pop(thread_id, None)
            events.append(_run_error(frame))
        return events

    def end_turn(self, thread_id: str) -> list[Event]:
        """Finish a run that ended with interrupts (nothing when the run already finished)."""
        run = self._runs.get(thread_id)
        if run is None or not run.interrupts:
            return []
        events: list[Event] = [
            {"type": "CUSTOM", "name": "on_interrupt", "value": _legacy_value(frame)}
            for frame in run.interrupts
        ]
        interrupts = [_interrupt(frame) for frame in run.interrupts]
        events.append(self._finish(thread_id, {"outcome": {"type": "interrupt", "interrupts": interrupts}}))
        return events

    def _open(self, thread_id: str, events: list[Event]) -> _Run:
        run = self._runs.get(thread_id)
        if run is None:
            queued = self._queued.get(thread_id)
            run_id = queued.popleft() if queued else f"run-{uuid.uuid4().hex}"
            run = self._runs[thread_id] = _Run(run_id)
            events.append({"type": "RUN_STARTED", "threadId": thread_id, "runId": run_id})
        return run

    def _text(self, run: _Run, frame: TokenFrame, events: list[Event]) -> None:
        if run.message_id is not None and run.agent != frame.agent:
            self._close_text(run, events)
        if run.message_id is None:
            run.messages += 1
            run.message_id, run.agent = f"{run.run_id}-msg-{run.messages}", frame.agent
            events.append(
                {
                    "type": "TEXT_MESSAGE_START",
                    "messageId": run.message_id,
                    "role": "assistant",
                    "name": frame.agent,
                }
            )
        events.append({"type": "TEXT_MESSAGE_CONTENT", "messageId": run.message_id, "delta": frame.content})

    @staticmethod
    def _close_text(run: _Run, events: list[Event]) -> None:
        if run.message_id is not None:
            events.append({"type": "TEXT_MESSAGE_END", "messageId": run.message_id})
            run.message_id = run.agent = None

    def _finish(self, thread_id: str, extra: Event) -> Event:
        run = self._runs.pop(thread_id)
        return {"type": "RUN_FINISHED", "threadId": thread_id, "runId": run.run_id, **extra}


def _tool_call(run: _Run, call_id: str, tool: str, args: dict[str, Any]) -> list[Event]:
    run.calls.add(call_id)
    return [
        {"type": "TOOL_CALL_START", "toolCallId": call_id, "toolCallName": tool},
        {"type": "TOOL_CALL_ARGS", "toolCallId": call_id, "delta": json.dumps(args)},
        {"type": "TOOL_CALL_END", "toolCallId": call_id},
    ]


def _run_error(frame: ErrorFrame) -> Event:
    return {"type": "RUN_ERROR", "message": frame.message, "code": frame.code.value}


def _interrupt(frame: InterruptFrame) -> Event:
    """An interrupt as AG-UI's `Interrupt`: an approval's schema names its editable fields."""
    extras = {k: v for k, v in frame.model_dump(exclude_none=True).items() if k not in INTERRUPT_FIELDS}
    metadata: Event = {"kind": frame.kind}
    if frame.namespace:
        metadata["namespace"] = frame.namespace
    if frame.kind == "approval":
        metadata.update(action=frame.action, fields=extras)
        edits = {name: {"type": _json_type(value)} for name, value in extras.items()}
        schema: Event = {
            "type": "object",
            "properties": {"approved": {"type": "boolean"}, "edits": {"type": "object", "properties": edits}},
            "required": ["approved"],
        }
        interrupt: Event = {
            "id": frame.interrupt_id,
            "reason": f"approval:{frame.action}",
            "message": frame.description,
            "responseSchema": schema,
        }
    else:
        metadata["value"] = frame.value
        interrupt = {"id": frame.interrupt_id, "reason": "input"}
        if frame.question:
            interrupt["message"] = frame.question
    tool_call_id = extras.get("tool_call_id")
    if isinstance(tool_call_id, str):
        interrupt["toolCallId"] = tool_call_id
    interrupt["metadata"] = metadata
    return {k: v for k, v in interrupt.items() if v is not None}


def _legacy_value(frame: InterruptFrame) -> str:
    """ag-ui-langgraph's `on_interrupt` value: the interrupt's value, as text (JSON unless it is text)."""
    if frame.kind == "input":
        return frame.value if isinstance(frame.value, str) else json.dumps(frame.value)
    return json.dumps(frame.model_dump(exclude_none=True, exclude={"type", "seq", "thread_id"}))


def _json_type(value: Any) -> str:
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "string"
    return "array" if isinstance(value, list) else "object"
