"""What a conversation sends to a hosted model, and what that costs on Bedrock at list price.

The real graph runs a typical five-turn conversation (status, a follow-up, a cancel with its approval, a
policy question, thanks) on the offline model, wrapped so that every model call records what a hosted
model would be sent: the system prompt, the history, and the bound tools' JSON schemas. Tokens are estimated
at 4 characters per token (English text and JSON with Anthropic's and Amazon's tokenizers land between 3.5
and 4.5; the figure is an estimate, the call count and characters are measured). Output tokens are the
characters of the replies and tool-call arguments the model wrote.

Run: `python -m bench.bedrock_cost` (one conversation: `--quick` is accepted and changes nothing).
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from langchain_core.language_models import LanguageModelInput
from langchain_core.messages import AIMessage, BaseMessage
from langchain_core.runnables import Runnable
from langchain_core.utils.function_calling import convert_to_openai_tool
from langgraph.checkpoint.memory import InMemorySaver

from bench.common import table
from chat_runtime.admission import NewMessage, Resume
from chat_runtime.engine import run_turn
from chat_runtime.protocol import ServerFrame
from support_agent.graph import build_support_graph
from support_agent.models.offline import OfflineSupportModel
from support_agent.orders.store import DEMO_CUSTOMER_ID, InMemoryOrderStore

CHARS_PER_TOKEN = 4
# us-east-1 on-demand list prices per million tokens (input, output), Bedrock pricing page, 2026-11.
PRICES = {
    "anthropic.claude-3-5-haiku-20241022-v1:0 (the prod default)": (0.80, 4.00),
    "anthropic.claude-3-5-sonnet-20241022-v2:0": (3.00, 15.00),
    "amazon.nova-lite-v1:0": (0.06, 0.24),
}
CONVERSATION: list[NewMessage | Resume] = [
    NewMessage("What is the status of order 1042?"),
    NewMessage("When will it arrive?"),
    NewMessage("Please cancel order 1043"),
    Resume(True),
    NewMessage("What's your return policy?"),
    NewMessage("Thanks!"),
]


@dataclass
class Meter:
    """What the model calls of one conversation would send and receive."""

    calls: int = 0
    input_chars: int = 0
    output_chars: int = 0
    per_role: dict[str, int] = field(default_factory=dict)


class MeteredModel(OfflineSupportModel):
    """The offline model, counting what a hosted model would be sent and would write."""

    meter: Any = None
    tool_schema_chars: int = 0

    def bind_tools(self, tools: Sequence[Any], **kwargs: Any) -> Runnable[LanguageModelInput, AIMessage]:
        schemas = json.dumps([convert_to_openai_tool(tool) for tool in tools])
        bound = super().bind_tools(tools, **kwargs)
        assert isinstance(bound, MeteredModel)
        return bound.model_copy(update={"tool_schema_chars": len(schemas)})

    def reply(self, messages: Sequence[BaseMessage]) -> AIMessage:
        answer = super().reply(messages)
        sent = sum(len(m.text) + len(json.dumps(getattr(m, "tool_calls", []) or [])) for m in messages)
        wrote = (
            len(answer.text) + len(json.dumps(answer.tool_calls)) if answer.tool_calls else len(answer.text)
        )
        role = self.bound_tools[0] if self.bound_tools else "none"
        self.meter.calls += 1
        self.meter.input_chars += sent + self.tool_schema_chars
        self.meter.output_chars += wrote
        self.meter.per_role[role] = self.meter.per_role.get(role, 0) + 1
        return answer


async def measure() -> Meter:
    meter = Meter()
    graph = build_support_graph(
        MeteredModel(meter=meter), InMemoryOrderStore.with_demo_data(), InMemorySaver()
    )

    async def ignore(frame: ServerFrame) -> None:
        return None

    for turn in CONVERSATION:
        await run_turn(graph, "bench", turn, ignore, configurable={"customer_id": DEMO_CUSTOMER_ID})
    return meter


def main() -> None:
    meter = asyncio.run(measure())
    input_tokens = meter.input_chars / CHARS_PER_TOKEN
    output_tokens = meter.output_chars / CHARS_PER_TOKEN
    print(
        table(
            f"One {len(CONVERSATION)}-turn conversation: what a hosted model is sent (measured)",
            ["model calls", "input chars", "output chars", "input tokens (est.)", "output tokens (est.)"],
            [[meter.calls, meter.input_chars, meter.output_chars, round(input_tokens), round(output_tokens)]],
        )
    )
    rows = []
    for model, (input_price, output_price) in PRICES.items():
        cost = (input_tokens * input_price + output_tokens * output_price) / 1_000_000
        rows.append([model, f"${cost:.4f}", f"${cost * 1000:.2f}"])
    print(table("Bedrock cost at list price", ["model", "per conversation", "per 1,000"], rows))


if __name__ == "__main__":
    main()
