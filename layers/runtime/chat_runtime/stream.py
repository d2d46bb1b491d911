"""LangGraph's stream as protocol frames: `(namespace, mode, data)` items in, frames out.

The engine streams `messages` (tokens, whole messages), `updates` (a node finished; interrupts), `custom`
(`get_stream_writer()` values) and, when asked, `values`, with `subgraphs=True`, so a subgraph's model streams
live and every frame names the subgraph it came from (`namespace`).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from langchain_core.messages import AIMessage, AIMessageChunk, ToolMessage

from chat_runtime.interrupts import namespace_names
from chat_runtime.jsonable import jsonable
from chat_runtime.protocol import (
    CustomFrame,
    ServerFrame,
    TokenFrame,
    ToolCallFrame,
    ToolResultFrame,
    UpdateFrame,
    ValuesFrame,
)

logger = logging.getLogger(__name__)

BASE_STREAM_MODES = ("messages", "updates", "custom")


class FrameSink(Protocol):
    """Delivers server frames to the client; implementations must not raise on a closed connection."""

    async def __call__(self, frame: ServerFrame) -> None: ...


def stream_modes(extras: frozenset[str]) -> list[str]:
    """The stream modes a turn asks LangGraph for: the base ones, and `values` when a client asked for it."""
    return [*BASE_STREAM_MODES, *(["values"] if "values" in extras else [])]


@dataclass(slots=True)
class _PartialMessage:
    message: AIMessageChunk
    agent: str
    namespace: tuple[str, ...]


class StreamTranslator:
    """Maps stream items to frames, accumulating tool-call chunks per message.

    Attributes:
        interrupt_namespaces: The subgraph each interrupt of the turn came from, by interrupt id.
    """

    def __init__(self, thread_id: str, sink: FrameSink, extras: frozenset[str] = frozenset()) -> None:
        self._thread_id = thread_id
        self._sink = sink
        self._extras = extras
        self._partial: dict[str, _PartialMessage] = {}
        self.interrupt_namespaces: dict[str, tuple[str, ...]] = {}

    async def feed(self, item: Any) -> None:
        """Translate one item of `graph.astream(..., stream_mode=[...], subgraphs=...)`."""
        namespace, mode, data = item if len(item) == 3 else ((), *item)
        names = namespace_names(namespace)
        if mode == "messages":
            message, metadata = data
            await self._on_message(message, metadata, names)
        elif mode == "updates" and isinstance(data, Mapping):
            await self._on_update(data, names)
        elif mode == "custom":
            agent = names[-1] if names else None
            await self._sink(
                CustomFrame(
                    thread_id=self._thread_id, agent=agent, value=jsonable(data), namespace=_ns(names)
                )
            )
        elif mode == "values" and "values" in self._extras:
            await self._sink(
                ValuesFrame(thread_id=self._thread_id, value=jsonable(data), namespace=_ns(names))
            )

    async def flush_all(self) -> None:
        """Send the tool calls of every message still being accumulated."""
        for key in list(self._partial):
            await self._flush(key)

    async def _on_update(self, data: Mapping[str, Any], names: tuple[str, ...]) -> None:
        interrupts = data.get("__interrupt__")
        if interrupts:
            # Tool calls come before the interrupt that gates them.
            await self.flush_all()
            for interrupt in interrupts:
                self.interrupt_namespaces.setdefault(str(getattr(interrupt, "id", "")), names)
        finished = {str(node) for node in data if node != "__interrupt__"}
        for key in [k for k, p in self._partial.items() if p.agent in finished and p.namespace == names]:
            await self._flush(key)
        if "updates" in self._extras:
            for node in sorted(finished):
                update = UpdateFrame(
                    thread_id=self._thread_id, node=node, value=jsonable(data[node]), namespace=_ns(names)
                )
                await self._sink(update)

    async def _on_message(self, message: Any, metadata: Mapping[str, Any], names: tuple[str, ...]) -> None:
        agent = str(metadata.get("langgraph_node", "agent"))
        if isinstance(message, ToolMessage):
            if "tool_results" in self._extras:
                result = ToolResultFrame(
                    thread_id=self._thread_id,
                    tool=message.name or "",
                    call_id=message.tool_call_id,
                    content=message.text,
                    agent=agent,
                    namespace=_ns(names),
                )
                await self._sink(result)
            return
        if not isinstance(message, AIMessage):
            return  # user messages are not agent output
        text = message.text
        if text:
            await self._sink(
                TokenFrame(thread_id=self._thread_id, content=text, agent=agent, namespace=_ns(names))
            )
        if not isinstance(message, AIMessageChunk):
            for call in message.tool_calls:
                await self._send_tool_call(call["name"], call["args"], call["id"], agent, names)
            return
        key = f"{'|'.join(names)}:{message.id or 'anonymous'}"
        # A node streams its model calls one after another: a new message id ends the previous one.
        for other in [
            k for k, p in self._partial.items() if p.namespace == names and p.agent == agent and k != key
        ]:
            await self._flush(other)
        if message.tool_call_chunks:
            partial = self._partial.get(key)
            if partial is None:
                self._partial[key] = _PartialMessage(message, agent, names)
            else:
                partial.message = partial.message + message
        if message.chunk_position == "last":
            await self._flush(key)

    async def _flush(self, key: str) -> None:
        partial = self._partial.pop(key, None)
        if partial is None:
            return
        # Re-parse once, as a whole message: per-chunk `tool_calls` are only partial parses.
        whole = AIMessageChunk(
            content="", id=partial.message.id, tool_call_chunks=partial.message.tool_call_chunks
        )
        for call in whole.tool_calls:
            await self._send_tool_call(
                call["name"], call["args"], call.get("id"), partial.agent, partial.namespace
            )
        for invalid in whole.invalid_tool_calls:
            logger.warning("dropped a tool call whose arguments are not valid JSON: %s", invalid.get("name"))

    async def _send_tool_call(
        self, name: str, args: Any, call_id: str | None, agent: str, names: tuple[str, ...]
    ) -> None:
        frame = ToolCallFrame(
            thread_id=self._thread_id,
            tool=name,
            args=args if isinstance(args, dict) else {},
            agent=agent,
            call_id=call_id,
            namespace=_ns(names),
        )
        await self._sink(frame)


def _ns(names: tuple[str, ...]) -> list[str] | None:
    return list(names) or None
