"""A deterministic chat model that answers with a script: for tests, benchmarks and model-swap proofs."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from langchain_core.language_models import LanguageModelInput
from langchain_core.messages import AIMessage, BaseMessage
from langchain_core.runnables import Runnable

from support_agent.models.streaming import ReplyingChatModel

Responder = Callable[[Sequence[BaseMessage]], AIMessage]


class ScriptedChatModel(ReplyingChatModel):
    """Answers each call with `respond(messages)` and streams it like a provider (text and tool chunks).

    `bind_tools` returns the model itself: the script decides which tools to call.
    """

    respond: Responder

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

    def reply(self, messages: Sequence[BaseMessage]) -> AIMessage:
        """The script's answer."""
        return self.respond(messages)
