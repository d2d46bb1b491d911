"""Shared streaming for the offline models: split a finished reply into realistic chunks."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Sequence
from typing import Any

from langchain_core.callbacks import CallbackManagerForLLMRun
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, AIMessageChunk, BaseMessage
from langchain_core.outputs import ChatGeneration, ChatGenerationChunk, ChatResult

_WORD = re.compile(r"\S+\s*|\s+")


def stream_reply(reply: AIMessage, args_piece: int = 12) -> Iterator[ChatGenerationChunk]:
    """Stream `reply` as a provider would: text word by word, tool-call arguments in partial JSON pieces.

    Args:
        reply: The complete reply.
        args_piece: How many characters of a tool call's JSON arguments each chunk carries.

    Yields:
        Chunks whose sum is `reply` (same text, same tool calls).
    """
    for word in _WORD.findall(reply.text):
        yield ChatGenerationChunk(message=AIMessageChunk(content=word))
    for index, call in enumerate(reply.tool_calls):
        arguments = json.dumps(call["args"])
        pieces = [arguments[i : i + args_piece] for i in range(0, len(arguments), args_piece)] or [""]
        for number, piece in enumerate(pieces):
            first = number == 0
            yield ChatGenerationChunk(
                message=AIMessageChunk(
                    content="",
                    tool_call_chunks=[
                        {
                            "name": call["name"] if first else None,
                            "args": piece,
                            "id": call["id"] if first else None,
                            "index": index,
                            "type": "tool_call_chunk",
                        }
                    ],
                )
            )


class ReplyingChatModel(BaseChatModel):
    """A chat model that computes a whole reply, then streams it like a provider (see `stream_reply`).

    Subclasses implement `reply`.
    """

    args_piece: int = 12

    def reply(self, messages: Sequence[BaseMessage]) -> AIMessage:
        """The complete reply to `messages`."""
        raise NotImplementedError

    def _generate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        return ChatResult(generations=[ChatGeneration(message=self.reply(messages))])

    def _stream(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> Iterator[ChatGenerationChunk]:
        yield from stream_reply(self.reply(messages), self.args_piece)
