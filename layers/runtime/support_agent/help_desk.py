"""The help-desk tools: the shop's policies, and a hand-off to a person through a support ticket.

Neither changes an order, so neither asks for approval; a hand-off happens because the customer asked for it.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Annotated, Any

from langchain_core.runnables import RunnableConfig
from langchain_core.tools import BaseTool, InjectedToolCallId, StructuredTool
from pydantic import BaseModel, Field

from support_agent.orders.store import OrderStore
from support_agent.tools import NO_CUSTOMER, customer_id_of, idempotency_key

HAND_OFF_TOOL = "hand_off_to_human"
POLICY_TOOL = "get_policy"


class PolicyArgs(BaseModel):
    """Arguments of a policy question."""

    topic: str = Field(description="The policy topic: returns, refunds or shipping.", max_length=40)


class HandOffArgs(BaseModel):
    """Arguments of a hand-off to the support team."""

    summary: str = Field(
        description="What the customer needs and what was tried, for the person who takes over.",
        min_length=1,
        max_length=1000,
    )
    order_id: str | None = Field(default=None, description="The order it is about, if any.", max_length=32)
    tool_call_id: Annotated[str, InjectedToolCallId]


def build_help_tools(store: OrderStore, policies: Mapping[str, str]) -> list[BaseTool]:
    """The policy and hand-off tools over `store` and the shop's `policies` (sections by topic)."""

    def get_policy(topic: str) -> str:
        key = topic.strip().lower()
        match = next((name for name in policies if key and (key in name or name in key)), None)
        if match is None:
            return _json(
                {"found": False, "topics": sorted(policies), "message": f"There is no {topic} policy."}
            )
        return _json({"found": True, "topic": match, "policy": policies[match]})

    def hand_off_to_human(
        summary: str,
        tool_call_id: Annotated[str, InjectedToolCallId],
        config: RunnableConfig,
        order_id: str | None = None,
    ) -> str:
        customer = customer_id_of(config)
        if customer is None:
            return _json({"ok": False, "message": NO_CUSTOMER})
        ticket = store.open_ticket(customer, summary, idempotency_key(config, tool_call_id), order_id)
        return _json(
            {
                "ok": True,
                "ticket_id": ticket.ticket_id,
                "message": f"I've passed our conversation to the support team (ticket {ticket.ticket_id}). "
                "A person will reply by email within one business day.",
            }
        )

    return [
        StructuredTool.from_function(
            get_policy,
            name=POLICY_TOOL,
            description="The shop's policy on a topic (returns, refunds, shipping), as the shop wrote it.",
            args_schema=PolicyArgs,
        ),
        StructuredTool.from_function(
            hand_off_to_human,
            name=HAND_OFF_TOOL,
            description="Hand the conversation to a person on the support team: opens a ticket with a "
            "summary. Use it when the customer asks for a human or you cannot help.",
            args_schema=HandOffArgs,
        ),
    ]


def _json(data: dict[str, Any]) -> str:
    return json.dumps(data, ensure_ascii=False)
