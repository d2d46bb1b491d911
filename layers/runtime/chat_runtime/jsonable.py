"""Graph values as JSON: messages as plain objects, anything JSON cannot hold as its text."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from langchain_core.messages import BaseMessage

ROLES = {"human": "user", "ai": "assistant", "tool": "tool", "system": "system"}


def message_dict(message: BaseMessage) -> dict[str, Any]:
    """A message as the protocol shows it: `id`, `role`, `content` (its text), its tool calls or call id."""
    shown: dict[str, Any] = {
        "id": message.id,
        "role": ROLES.get(message.type, message.type),
        "content": message.text,
    }
    if message.name:
        shown["name"] = message.name
    tool_calls = getattr(message, "tool_calls", None)
    if tool_calls:
        shown["tool_calls"] = [
            {"id": call.get("id"), "name": call["name"], "args": jsonable(call.get("args", {}))}
            for call in tool_calls
        ]
    tool_call_id = getattr(message, "tool_call_id", None)
    if tool_call_id:
        shown["tool_call_id"] = tool_call_id
    return shown


def jsonable(value: Any) -> Any:
    """`value` with messages as `message_dict`s, pydantic models dumped, and the rest as JSON carries it."""
    if isinstance(value, BaseMessage):
        return message_dict(value)
    if isinstance(value, Mapping):
        return {str(key): jsonable(item) for key, item in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [jsonable(item) for item in value]
    if hasattr(value, "model_dump"):
        return jsonable(value.model_dump(mode="json"))
    return json.loads(json.dumps(value, default=str))
