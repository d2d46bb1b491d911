"""A deterministic chat model that answers with a script: for tests, benchmarks and model-swap proofs."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from typing import Any

from langchain_core.callbacks import CallbackManagerForLLMRun
from langchain_core.language_models import BaseChatModel, LanguageModelInput
from langchain_core.messages import AIMessage, BaseMessage
from langchain_core.outputs import ChatGeneration, ChatGenerationChunk, ChatResult
from langchain_core.runnables import Runnable

from support_agent.models.streaming import stream_reply

Responder = Callable[[Sequence[BaseMessage]], AIMessage]


class ScriptedChatModel(BaseChatModel):
    """Answers each call with `respond(messages)` and streams it like a provider (text and tool chunks).

    `bind_tools` returns the model itself: the script decides which tools to call.
    """

    respond: Responder
    args_piece: int = 12

    @classmethod
    def from_replies(cls, replies: Sequence[AIMessage]) -> ScriptedChatModel:
        """A model that gives `replies` in order, one per call, starting again after the last."""
        state = {"next": 0}

        def respond(_: Sequence[BaseMessage]) -> AIMessage:
            reply = replies[state["next"] % len(replies)]
            state["next"] += 1
            return reply

        return cls(respond=respond)

    @property
    def _llm_type(self) -> str:
        return "scripted"

    def bind_tools(self, tools: Sequence[Any], **kwargs: Any) -> Runnable[LanguageModelInput, AIMessage]:
        """Accept the tools; the script names them itself."""
        return self

    def _generate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        return ChatResult(generations=[ChatGeneration(message=self.respond(messages))])

    def _stream(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> Iterator[ChatGenerationChunk]:
        yield from stream_reply(self.respond(messages), self.args_piece)
