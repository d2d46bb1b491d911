"""A thread's `state` frame as AG-UI snapshots: STATE_SNAPSHOT (its values) and MESSAGES_SNAPSHOT."""

from __future__ import annotations

import json
from typing import Any

from chat_runtime.protocol import StateFrame

Event = dict[str, Any]


def snapshot_events(state: StateFrame) -> list[Event]:
    """STATE_SNAPSHOT with the state's values besides `messages`, then MESSAGES_SNAPSHOT with its messages."""
    messages = [shown for message in state.messages if (shown := agui_message(message)) is not None]
    return [
        {"type": "STATE_SNAPSHOT", "snapshot": state.values},
        {"type": "MESSAGES_SNAPSHOT", "messages": messages},
    ]


def agui_message(message: dict[str, Any]) -> Event | None:
    """One message of a `state` frame (`{id, role, content, name, tool_calls, tool_call_id}`) as AG-UI's.

    Messages without an id, and roles AG-UI has no place for, are left out.
    """
    message_id, role = message.get("id"), message.get("role")
    if not isinstance(message_id, str) or not message_id:
        return None
    content = message.get("content") if isinstance(message.get("content"), str) else ""
    if role in ("user", "system"):
        return {"id": message_id, "role": role, "content": content}
    if role == "assistant":
        shown: Event = {"id": message_id, "role": "assistant", "content": content}
        if isinstance(message.get("name"), str):
            shown["name"] = message["name"]
        calls = [
            {
                "id": call["id"],
                "type": "function",
                "function": {"name": call.get("name", ""), "arguments": json.dumps(call.get("args", {}))},
            }
            for call in message.get("tool_calls") or []
            if isinstance(call, dict) and isinstance(call.get("id"), str)
        ]
        if calls:
            shown["toolCalls"] = calls
        return shown
    if role == "tool" and isinstance(message.get("tool_call_id"), str):
        return {"id": message_id, "role": "tool", "content": content, "toolCallId": message["tool_call_id"]}
    return None
