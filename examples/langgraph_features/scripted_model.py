"""A chat model that streams like a hosted one, offline: text word by word, then tool calls in pieces.

Stands in for `init_chat_model(...)` so the examples run without a provider; `reply` decides each answer.
"""

from __future__ import annotations

import asyncio
import json
import re
import uuid
from collections.abc import AsyncIterator, Callable, Iterator, Sequence
from typing import Any

from langchain_core.callbacks import AsyncCallbackManagerForLLMRun, CallbackManagerForLLMRun
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, AIMessageChunk, BaseMessage
from langchain_core.outputs import ChatGeneration, ChatGenerationChunk, ChatResult

Reply = Callable[[Sequence[BaseMessage]], AIMessage]


class ScriptedChatModel(BaseChatModel):
    """Streams `reply(messages)`: its text a word per chunk, `delay` seconds apart, then its tool calls."""

    reply: Reply
    delay: float = 0.05

    @property
    def _llm_type(self) -> str:
        return "scripted"

    def bind_tools(self, tools: Sequence[Any], **kwargs: Any) -> ScriptedChatModel:
        """Tools change nothing: `reply` already knows which it calls."""
        return self

    def _generate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        return ChatResult(generations=[ChatGeneration(message=self.reply(messages))])

    def _chunks(self, messages: list[BaseMessage]) -> Iterator[AIMessageChunk]:
        message = self.reply(messages)
        message_id = f"lc_run--{uuid.uuid4()}"
        for word in re.findall(r"\S+\s*", message.text):
            yield AIMessageChunk(content=word, id=message_id)
        for index, call in enumerate(message.tool_calls):
            text = json.dumps(call["args"])
            middle = len(text) // 2
            call_id = call.get("id") or f"call_{uuid.uuid4().hex[:12]}"
            for part, piece in enumerate((text[:middle], text[middle:])):
                yield AIMessageChunk(
                    content="",
                    id=message_id,
                    tool_call_chunks=[
                        {
                            "name": call["name"] if part == 0 else None,
                            "args": piece,
                            "id": call_id if part == 0 else None,
                            "index": index,
                            "type": "tool_call_chunk",
                        }
                    ],
                )
        yield AIMessageChunk(content="", id=message_id, chunk_position="last")

    async def _astream(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: AsyncCallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> AsyncIterator[ChatGenerationChunk]:
        for chunk in self._chunks(messages):
            await asyncio.sleep(self.delay)
            if run_manager is not None and chunk.text:
                await run_manager.on_llm_new_token(chunk.text, chunk=ChatGenerationChunk(message=chunk))
            yield ChatGenerationChunk(message=chunk)
