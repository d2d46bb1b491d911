"""What the offline model understands of a customer's message: intents, order numbers, a new address."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from langchain_core.messages import AIMessage, BaseMessage, HumanMessage


class Intent(StrEnum):
    """What the customer asks for, most specific first."""

    HUMAN = "human"
    POLICY = "policy"
    MISSING_PARCEL = "missing_parcel"
    CANCEL = "cancel"
    REFUND = "refund"
    CHANGE_ADDRESS = "change_address"
    LIST = "list"
    TRACK = "track"
    PRICE = "price"
    STATUS = "status"
    GREETING = "greeting"
    THANKS = "thanks"
    HELP = "help"


WRITE_INTENTS = frozenset({Intent.MISSING_PARCEL, Intent.CANCEL, Intent.REFUND, Intent.CHANGE_ADDRESS})
READ_INTENTS = frozenset(
    {Intent.HUMAN, Intent.POLICY, Intent.LIST, Intent.TRACK, Intent.PRICE, Intent.STATUS}
)

_PATTERNS: tuple[tuple[Intent, re.Pattern[str]], ...] = tuple(
    (intent, re.compile(pattern, re.IGNORECASE))
    for intent, pattern in (
        (
            Intent.HUMAN,
            r"\b(?:human|real person|a person|representative|operator|customer service)\b"
            r"|\b(?:talk|speak|chat)\s+(?:to|with)\s+(?:someone|somebody|an? (?:agent|person))\b",
        ),
        (
            Intent.POLICY,
            r"\bpolic(?:y|ies)\b|\b(?:how|can) (?:do |can )?i return\b|\breturn (?:window|period)\b"
            r"|\bshipping (?:costs?|fees?|times?)\b",
        ),
        (
            Intent.MISSING_PARCEL,
            r"^(?!.*\brefund)(?:.*\bnever (?:received|arrived|got|came)\b"
            r"|.*\b(?:didn't|did not|haven't|have not)\s+(?:received?|got|gotten)\b(?!.*\b(?:email|reply)\b)"
            r"|.*\b(?:missing|lost|stolen) (?:parcel|package)\b"
            r"|.*\b(?:parcel|package) (?:is |was )?(?:missing|lost|stolen)\b)",
        ),
        (Intent.CANCEL, r"\bcancel"),
        (Intent.REFUND, r"\brefund|\bmoney back\b|\breimburse"),
        (Intent.CHANGE_ADDRESS, r"\baddress\b|\b(?:ship|send|deliver)\s+(?:it|them|this|that)\s+to\b"),
        (
            Intent.LIST,
            r"\b(?:list|show|see)\b.*\borders\b|\b(?:my|all|recent)\s+orders\b|\bwhat (?:orders|did i order)",
        ),
        (
            Intent.TRACK,
            r"\btrack|\bcarrier\b|\barriv|\bwhen will\b|\bwhere(?:'s| is)\b|\beta\b|\bdeliver(?:y|ed)?\b",
        ),
        (Intent.PRICE, r"\bhow much\b|\bwhat did i pay\b|\bpaid\b|\bprice\b|\bcharged\b|\bcost\b"),
        (Intent.STATUS, r"\bstatus\b|\bupdate\b|\bhappen|\bcheck\b|\border\b|\bhow about\b|\bwhat about\b"),
        (Intent.GREETING, r"^\s*(?:hi|hello|hey|good (?:morning|afternoon|evening))\b"),
        (Intent.THANKS, r"\bthanks?\b|\bthank you\b|\bcheers\b"),
        (Intent.HELP, r"\bhelp\b|\bwhat can you do\b"),
    )
)
# An order number stands alone: never part of a date (2026-11-22, 22/11/2026), a time, a price or a code.
_ORDER_ID = re.compile(
    r"(?<![\w\-/.:$£€])"
    # not the tail of a thousands-separated number (1,044; 12,345,678): a comma after a 1-3 digit group
    r"(?<!(?<!\d)\d,)(?<!(?<!\d)\d\d,)(?<!(?<!\d)\d\d\d,)"
    r"#?(\d{3,10})\b(?![\-/.:]\d)(?!,\d{3}(?!\d))"
)
_MOST_RECENT = re.compile(r"\b(?:most recent|latest|newest|last)\b", re.IGNORECASE)
_WORD = re.compile(r"[a-z]{3,}")
_ADDRESS = re.compile(
    r"\b(?:address|ship|send|deliver)\b.*?\bto\b[:\s]+(?P<address>.+)$", re.IGNORECASE | re.DOTALL
)
_LOOKS_LIKE_ADDRESS = re.compile(r"\d+\s+\w+.*\w", re.DOTALL)


@dataclass(frozen=True, slots=True)
class Request:
    """One customer message, understood."""

    intents: tuple[Intent, ...]
    order_ids: tuple[str, ...]
    new_address: str | None

    @property
    def main_intent(self) -> Intent | None:
        """The most specific intent, if any."""
        return self.intents[0] if self.intents else None


def read_request(text: str) -> Request:
    """Understand one message."""
    intents = tuple(intent for intent, pattern in _PATTERNS if pattern.search(text))
    found = _ADDRESS.search(text)
    address = found.group("address").strip().rstrip(".!") if found else None
    # House numbers in a new address are not order numbers.
    before_address = text[: found.start("address")] if found else text
    order_ids = tuple(dict.fromkeys(_ORDER_ID.findall(before_address)))
    return Request(intents, order_ids, address or None)


def looks_like_address(text: str) -> bool:
    """Whether a bare message could be a street address (a number followed by words)."""
    return bool(_LOOKS_LIKE_ADDRESS.search(text)) and len(text) >= 8


def last_human_text(messages: Sequence[BaseMessage]) -> str:
    """The customer's latest message."""
    for message in reversed(messages):
        if isinstance(message, HumanMessage):
            return message.text
    return ""


def order_under_discussion(messages: Sequence[BaseMessage]) -> str | None:
    """The order the conversation is about: the last one the customer named or a tool call acted on.

    The agent's own replies are not read: a list of orders (with dates and totals) names many, and none of
    them is "it".
    """
    for message in reversed(messages):
        if isinstance(message, AIMessage):
            for call in reversed(message.tool_calls):
                order_id = call["args"].get("order_id")
                if isinstance(order_id, str) and order_id:
                    return order_id
        if isinstance(message, HumanMessage):
            ids = _ORDER_ID.findall(message.text)
            if ids:
                return str(ids[-1])
    return None


_DESCRIBED = re.compile(
    r"\b(?:the|my|that)\s+(?!(?:order|orders|package|parcel|one|address|money|refund|status)\b)[a-z]{3,}",
    re.IGNORECASE,
)


def describes_an_order(text: str) -> bool:
    """Whether `text` points at an order by what is in it or when it was placed, not by number."""
    return bool(_MOST_RECENT.search(text) or _DESCRIBED.search(text))


def earlier_human_text(messages: Sequence[BaseMessage]) -> str:
    """The customer's message before their latest one (what they asked before a clarifying question)."""
    humans = [message for message in messages if isinstance(message, HumanMessage)]
    return humans[-2].text if len(humans) >= 2 else ""


def resolve_order(text: str, orders: Sequence[dict[str, Any]]) -> str | None:
    """The one order `text` points at among the customer's `orders` (newest first), if it points at one.

    "the yoga mat order" and "the coffee grinder" match an item's name; "the most recent one", "my last
    order" and "the latest" mean the newest order.
    """
    words = set(_WORD.findall(text.lower()))
    by_item = [
        str(order["order_id"])
        for order in orders
        if any(
            set(_WORD.findall(str(item.get("name", "")).lower())) & words for item in order.get("items", [])
        )
    ]
    if len(set(by_item)) == 1:
        return by_item[0]
    if _MOST_RECENT.search(text) and orders:
        newest = max(orders, key=lambda order: str(order.get("placed_at", "")))
        return str(newest["order_id"])
    return None


def current_turn(messages: Sequence[BaseMessage]) -> list[BaseMessage]:
    """The messages after the customer's latest one (this turn's tool calls and results)."""
    for index in range(len(messages) - 1, -1, -1):
        if isinstance(messages[index], HumanMessage):
            return list(messages[index + 1 :])
    return list(messages)


def previous_agent_question(messages: Sequence[BaseMessage]) -> AIMessage | None:
    """The agent's last reply before the customer's latest message, when it asked a question."""
    seen_human = False
    for message in reversed(messages):
        if isinstance(message, HumanMessage):
            if seen_human:
                return None
            seen_human = True
        elif seen_human and isinstance(message, AIMessage) and message.text:
            # "Which order ...? Please give me the order number." asks too.
            return message if "?" in message.text.rstrip().splitlines()[-1] else None
    return None


_CLAUSE_BREAK = re.compile(r"[,;:.!?]\s+|\s+(?:because|since|as|-|\u2013)\s+", re.IGNORECASE)
_REQUEST_WORDS = re.compile(
    r"\brefund|\bmoney back\b|\border\b|^\s*(?:please|thanks?|thank you)\W*$", re.IGNORECASE
)
_TOPICS = (("returns", r"\breturn"), ("refunds", r"\brefund"), ("shipping", r"\bship|\bdeliver"))


def refund_reason(text: str, limit: int = 120) -> str:
    """The customer's reason in a refund request: "..., it arrived broken" gives "It arrived broken"."""
    clauses = [clause.strip() for clause in _CLAUSE_BREAK.split(text.strip())]
    reason = next((c for c in clauses[1:] if c and not _REQUEST_WORDS.search(c)), "")
    reason = reason.rstrip(".!?")[:limit].strip()
    return reason[:1].upper() + reason[1:]


def policy_topics(text: str) -> tuple[str, ...]:
    """The policy topics a question names (returns, refunds, shipping); all three when it names none."""
    named = tuple(topic for topic, pattern in _TOPICS if re.search(pattern, text, re.IGNORECASE))
    return named or tuple(topic for topic, _ in _TOPICS)


def conversation_summary(messages: Sequence[BaseMessage], limit: int = 1000) -> str:
    """What the customer said in this thread, newest last, for the person who takes over."""
    said = [" ".join(m.text.split()) for m in messages if isinstance(m, HumanMessage) and m.text.strip()]
    summary = "The customer asked for a person. They wrote: " + " / ".join(f'"{s}"' for s in said[-8:])
    return summary if len(summary) <= limit else summary[: limit - 1] + "\u2026"
