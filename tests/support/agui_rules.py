"""The rules AG-UI's client (`@ag-ui/client` 1.0.0's `verifyEvents`) enforces, for streams the tests receive.

Every event is also validated against `ag-ui-protocol`'s own models (camelCase, as on the wire).
"""

from __future__ import annotations

from typing import Any

from ag_ui.core import Event as AguiEvent
from ag_ui.core import EventType
from pydantic import TypeAdapter

_events: TypeAdapter[Any] = TypeAdapter(AguiEvent)


def agui_violations(events: list[dict[str, Any]]) -> list[str]:
    """What AG-UI's client would refuse in `events` (one connection's stream of one or more runs)."""
    problems: list[str] = []
    running = finished = errored = False
    texts: set[str] = set()
    calls: set[str] = set()
    steps: set[str] = set()
    snapshots: set[str] = set()
    for index, event in enumerate(events):
        kind = event.get("type")
        where = f"event {index} ({kind})"
        try:
            _events.validate_python(event)
        except ValueError as error:
            problems.append(f"{where}: not a valid AG-UI event: {error}")
        if index == 0 and kind not in ("RUN_STARTED", "RUN_ERROR"):
            problems.append(f"{where}: the first event must be RUN_STARTED")
        if kind == "RUN_STARTED":
            if running:
                problems.append(f"{where}: RUN_STARTED while a run is active")
            running, finished, errored = True, False, False
            texts, calls, steps, snapshots = set(), set(), set(), set()
            continue
        if errored or (finished and kind != "RUN_ERROR"):
            problems.append(f"{where}: after the run's terminal event")
        if kind == "RUN_ERROR":
            running, errored = False, True
        elif kind == "RUN_FINISHED":
            open_things = sorted(texts | calls | steps)
            if open_things:
                problems.append(f"{where}: RUN_FINISHED while {open_things} are open")
            if (event.get("outcome") or {}).get("type") == "interrupt" and snapshots != {
                "STATE_SNAPSHOT",
                "MESSAGES_SNAPSHOT",
            }:
                problems.append(f"{where}: an interrupt's RUN_FINISHED without both snapshots before it")
            running, finished = False, True
        elif kind == "TEXT_MESSAGE_START":
            _open(texts, event["messageId"], where, problems)
        elif kind in ("TEXT_MESSAGE_CONTENT", "TEXT_MESSAGE_END"):
            _use(texts, event["messageId"], where, problems, close=kind == "TEXT_MESSAGE_END")
        elif kind == "TOOL_CALL_START":
            _open(calls, event["toolCallId"], where, problems)
        elif kind in ("TOOL_CALL_ARGS", "TOOL_CALL_END"):
            _use(calls, event["toolCallId"], where, problems, close=kind == "TOOL_CALL_END")
        elif kind == "STEP_STARTED":
            _open(steps, event["stepName"], where, problems)
        elif kind == "STEP_FINISHED":
            _use(steps, event["stepName"], where, problems, close=True)
        elif kind in (EventType.STATE_SNAPSHOT.value, EventType.MESSAGES_SNAPSHOT.value):
            snapshots.add(kind)
    return problems


def _open(active: set[str], key: str, where: str, problems: list[str]) -> None:
    if key in active:
        problems.append(f"{where}: {key!r} is already open")
    active.add(key)


def _use(active: set[str], key: str, where: str, problems: list[str], *, close: bool) -> None:
    if key not in active:
        problems.append(f"{where}: {key!r} was not started")
    elif close:
        active.discard(key)
