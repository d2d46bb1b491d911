"""Our server frames as AG-UI events: a stateful encoder per connection, one run at a time per thread."""

from __future__ import annotations

import json
import uuid
from collections import deque
from dataclasses import dataclass, field
from typing import Any

from chat_runtime.agui.snapshots import snapshot_events
from chat_runtime.protocol import (
    CustomFrame,
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
    step: str | None = None
    interrupts: list[InterruptFrame] = field(default_factory=list)
    calls: set[str] = field(default_factory=set)


class AguiEncoder:
    """Turns one connection's server frames into AG-UI events, keeping each thread's open run.

    A run opens (RUN_STARTED) with the first frame of its thread, using the run id of the RunAgentInput
    that asked for it (queued by :meth:`begin_run`) or one derived from that frame's `seq` (a replay after
    `resume`: the same frames give the same ids on every transport). It closes with RUN_FINISHED or
    RUN_ERROR; a turn's `interrupt` frames wait for :meth:`end_turn` (or the thread's `state` frame, whose
    snapshots then come first), which finishes the run with all of them in its outcome. Each root-graph
    node is a step: STEP_STARTED with its first output (or its `update`), STEP_FINISHED at its `update`.
    """

    def __init__(self) -> None:
        self._runs: dict[str, _Run] = {}
        self._queued: dict[str, deque[str]] = {}
        self._calls: dict[str, dict[str, tuple[str, dict[str, Any]]]] = {}

    def begin_run(self, thread_id: str, run_id: str) -> None:
        """Queue the run id for the next run of `thread_id`."""
        self._queued.setdefault(thread_id, deque()).append(run_id)

    def queued_run(self, thread_id: str) -> str | None:
        """The run id the next run of `thread_id` will carry, when a RunAgentInput gave one."""
        queued = self._queued.get(thread_id)
        return queued[0] if queued else None

    def awaits_state(self, thread_id: str) -> bool:
        """Whether the thread's run ended with interrupts and waits for its snapshots and RUN_FINISHED."""
        run = self._runs.get(thread_id)
        return run is not None and bool(run.interrupts)

    def encode(self, frame: ServerFrame) -> list[Event]:
        """The AG-UI events for one of our frames (none for frames AG-UI has no place for)."""
        thread_id = getattr(frame, "thread_id", None)
        if thread_id is None:
            return [_run_error(frame)] if isinstance(frame, ErrorFrame) else []
        if isinstance(frame, ResumedFrame):
            return self.end_turn(thread_id) if frame.state == "awaiting_approval" else []
        if isinstance(frame, StateFrame):
            return self._state(frame)
        if isinstance(frame, ValuesFrame):
            return []
        if isinstance(frame, ErrorFrame) and thread_id not in self._runs and not self._queued.get(thread_id):
            return [_run_error(frame)]
        events: list[Event] = []
        run = self._open(thread_id, frame, events)
        if isinstance(frame, TokenFrame):
            if frame.content:
                self._step(run, _step_name(frame.namespace, frame.agent), events)
                self._text(run, frame, events)
        elif isinstance(frame, ToolCallFrame):
            self._step(run, _step_name(frame.namespace, frame.agent), events)
            self._close_text(run, events)
            call_id = frame.call_id or f"{run.run_id}-call-{uuid.uuid4().hex[:8]}"
            self._calls.setdefault(thread_id, {})[call_id] = (frame.tool, frame.args)
            events += _tool_call(run, call_id, frame.tool, frame.args)
        elif isinstance(frame, ToolResultFrame):
            self._step(run, _step_name(frame.namespace, frame.agent), events)
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
        elif isinstance(frame, UpdateFrame):
            if not frame.namespace:  # a subgraph's nodes stay inside the step of the node that runs it
                self._step(run, frame.node, events)
                self._close_step(run, events)
        elif isinstance(frame, CustomFrame):
            events.append({"type": "CUSTOM", "name": "custom", "value": frame.value})
        elif isinstance(frame, InterruptFrame):
            self._close_text(run, events)
            run.interrupts.append(frame)
        elif isinstance(frame, MessageCompleteFrame):
            self._close_step(run, events)
            cancelled = frame.status in ("cancelled", "rolled_back")
            outcome = {"type": "cancelled"} if cancelled else {"type": "success"}
            events.append(self._finish(thread_id, {"outcome": outcome}))
        elif isinstance(frame, ErrorFrame):
            self._close_step(run, events)
            self._runs.pop(thread_id, None)
            events.append(_run_error(frame))
        return events

    def end_turn(self, thread_id: str, state: StateFrame | None = None) -> list[Event]:
        """Finish a run that ended with interrupts (nothing when the run already finished).

        With the thread's `state`, STATE_SNAPSHOT and MESSAGES_SNAPSHOT come first (as ag-ui-langgraph
        sends them), then the legacy `on_interrupt` events, then RUN_FINISHED with the interrupt outcome.
        """
        run = self._runs.get(thread_id)
        if run is None or not run.interrupts:
            return []
        events: list[Event] = []
        self._close_step(run, events)
        if state is not None:
            events += snapshot_events(state)
        events += [
            {"type": "CUSTOM", "name": "on_interrupt", "value": _legacy_value(frame)}
            for frame in run.interrupts
        ]
        calls = self._calls.get(thread_id, {})
        interrupts = [_interrupt(frame, calls) for frame in run.interrupts]
        events.append(self._finish(thread_id, {"outcome": {"type": "interrupt", "interrupts": interrupts}}))
        return events

    def _state(self, frame: StateFrame) -> list[Event]:
        """A `state` frame: the snapshots that end an interrupted run, inside a running one, or a run of
        its own (the answer to `get_state`) that finishes as the thread stands."""
        thread_id = frame.thread_id
        run = self._runs.get(thread_id)
        if run is not None and run.interrupts:
            return self.end_turn(thread_id, frame)
        events: list[Event] = []
        if run is not None:
            self._close_text(run, events)
            return events + snapshot_events(frame)
        run = self._open(thread_id, frame, events)
        events += snapshot_events(frame)
        if frame.interrupts:
            run.interrupts = list(frame.interrupts)
            return events + self.end_turn(thread_id)
        events.append(self._finish(thread_id, {"outcome": {"type": "success"}}))
        return events

    def _open(self, thread_id: str, frame: ServerFrame, events: list[Event]) -> _Run:
        run = self._runs.get(thread_id)
        if run is None:
            queued = self._queued.get(thread_id)
            if queued:
                run_id = queued.popleft()
            elif frame.seq is not None:
                run_id = f"{thread_id}-run-{frame.seq}"
            else:
                run_id = f"run-{uuid.uuid4().hex}"
            run = self._runs[thread_id] = _Run(run_id)
            events.append({"type": "RUN_STARTED", "threadId": thread_id, "runId": run_id})
        return run

    def _step(self, run: _Run, name: str, events: list[Event]) -> None:
        if run.step == name:
            return
        self._close_step(run, events)
        run.step = name
        events.append({"type": "STEP_STARTED", "stepName": name})

    def _close_step(self, run: _Run, events: list[Event]) -> None:
        self._close_text(run, events)
        if run.step is not None:
            events.append({"type": "STEP_FINISHED", "stepName": run.step})
            run.step = None

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


def _step_name(namespace: list[str] | None, agent: str) -> str:
    """The root-graph node a frame came from: its own, or the one whose subgraph wrote it."""
    return namespace[0].split(":", 1)[0] if namespace else agent


def _tool_call(run: _Run, call_id: str, tool: str, args: dict[str, Any]) -> list[Event]:
    run.calls.add(call_id)
    return [
        {"type": "TOOL_CALL_START", "toolCallId": call_id, "toolCallName": tool},
        {"type": "TOOL_CALL_ARGS", "toolCallId": call_id, "delta": json.dumps(args)},
        {"type": "TOOL_CALL_END", "toolCallId": call_id},
    ]


def _run_error(frame: ErrorFrame) -> Event:
    return {"type": "RUN_ERROR", "message": frame.message, "code": frame.code.value}


def _interrupt(frame: InterruptFrame, calls: dict[str, tuple[str, dict[str, Any]]]) -> Event:
    """An interrupt as AG-UI's `Interrupt`, following ag-ui-langgraph where the value says more.

    An approval's `reason` is `approval:<action>`, its `toolCallId` the latest call of that tool (the one
    it gates), its `responseSchema` `{approved, edits}` with only the `editable` fields; an answer's is
    `input` with the question as `message`. A value's own `reason`, `message`, `toolCallId` /
    `tool_call_id` and `responseSchema` / `response_schema` win, as in ag-ui-langgraph.
    """
    extras = {k: v for k, v in frame.model_dump(exclude_none=True).items() if k not in INTERRUPT_FIELDS}
    metadata: Event = {"kind": frame.kind}
    if frame.namespace:
        metadata["namespace"] = frame.namespace
    if frame.kind == "approval":
        metadata.update(action=frame.action, fields=extras)
        editable = extras.get("editable")
        fields = [name for name in editable if isinstance(name, str)] if isinstance(editable, list) else []
        edits = {name: {"type": _json_type(extras.get(name, ""))} for name in fields}
        schema: Event = {
            "type": "object",
            "properties": {
                "approved": {"type": "boolean"},
                "edits": {"type": "object", "properties": edits, "additionalProperties": False},
            },
            "required": ["approved"],
        }
        interrupt: Event = {
            "id": frame.interrupt_id,
            "reason": f"approval:{frame.action}",
            "message": frame.description,
            "responseSchema": schema,
        }
        gated = [call_id for call_id, (tool, _) in calls.items() if tool == frame.action]
        if gated:
            interrupt["toolCallId"] = gated[-1]
        own: dict[str, Any] = extras
    else:
        metadata["value"] = frame.value
        interrupt = {"id": frame.interrupt_id, "reason": "input"}
        if frame.question:
            interrupt["message"] = frame.question
        own = frame.value if isinstance(frame.value, dict) else {}
    for key, (keys, kind) in _VALUE_KEYS.items():
        given = next((own[name] for name in keys if isinstance(own.get(name), kind)), None)
        if given is not None:
            interrupt[key] = given
    interrupt["metadata"] = metadata
    return {k: v for k, v in interrupt.items() if v is not None}


_VALUE_KEYS: dict[str, tuple[tuple[str, ...], type]] = {
    "reason": (("reason",), str),
    "message": (("message",), str),
    "toolCallId": (("toolCallId", "tool_call_id"), str),
    "responseSchema": (("responseSchema", "response_schema"), dict),
}


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
