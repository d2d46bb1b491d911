"""LangGraph interrupts as the protocol shows them: approvals (a value naming an `action`) or any question."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import Any

from langgraph.types import Interrupt, StateSnapshot

from chat_runtime.sessions import PendingInterrupt

RESERVED_FRAME_KEYS = frozenset(
    {
        "type",
        "thread_id",
        "interrupt_id",
        "action",
        "description",
        "kind",
        "question",
        "value",
        "namespace",
        "seq",
    }
)
QUESTION_KEYS = ("question", "message", "prompt", "description", "text")
"""Keys of an object value whose text is shown as an `input` interrupt's question, first found wins."""


def json_safe(value: Any) -> Any:
    """`value` as JSON would carry it (objects that JSON cannot hold become their text)."""
    return json.loads(json.dumps(value, default=str))


def pending_interrupt(interrupt: Interrupt, namespace: tuple[str, ...] = ()) -> PendingInterrupt:
    """Describe a LangGraph `Interrupt` for the client.

    A value that is an object with a text `action` is an approval: its other keys become frame fields (and a
    `description` is made up when it has none). Any other value (text, a list, an object without `action`)
    asks for an answer: it travels unchanged, with its text as the question when it has one.
    """
    value = interrupt.value
    if isinstance(value, Mapping) and isinstance(value.get("action"), str) and value["action"]:
        action = str(value["action"])
        data = {
            str(key): json_safe(item) for key, item in value.items() if str(key) not in RESERVED_FRAME_KEYS
        }
        description = value.get("description")
        if not isinstance(description, str) or not description:
            details = ", ".join(f"{key} {item}" for key, item in data.items())
            description = f"Approve {action.replace('_', ' ')}" + (f" ({details})" if details else "") + "?"
        return PendingInterrupt(interrupt.id, action, description, data, namespace=namespace)
    return PendingInterrupt(
        interrupt.id,
        kind="input",
        value=json_safe(value),
        question=_question(value),
        namespace=namespace,
    )


def _question(value: Any) -> str | None:
    if isinstance(value, str):
        return value or None
    if isinstance(value, Mapping):
        for key in QUESTION_KEYS:
            text = value.get(key)
            if isinstance(text, str) and text:
                return text
    return None


def pending_interrupts(
    state: StateSnapshot, namespaces: Mapping[str, tuple[str, ...]] | None = None
) -> tuple[PendingInterrupt, ...]:
    """The interrupts a thread's checkpoint waits for.

    Args:
        state: The thread's state (`aget_state`).
        namespaces: The subgraph each interrupt came from, by interrupt id, as the turn's stream showed it.
    """
    interrupts: Iterable[Interrupt] = tuple(state.interrupts) or tuple(
        i for task in state.tasks for i in task.interrupts
    )
    return tuple(pending_interrupt(i, (namespaces or {}).get(i.id, ())) for i in interrupts)


def namespace_names(namespace: Iterable[str]) -> tuple[str, ...]:
    """LangGraph's namespace (`("billing:<task id>",)`) as node names (`("billing",)`)."""
    return tuple(part.split(":", 1)[0] for part in namespace if part)
