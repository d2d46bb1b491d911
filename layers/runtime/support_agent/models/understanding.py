"""What the offline model understands of a message: the intent (nearest paraphrase in the table, with a
confidence) and the slots (order numbers, a new address, the order an item name points at)."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from langchain_core.messages import AIMessage, BaseMessage, HumanMessage
from rapidfuzz import fuzz

from support_agent.models import paraphrases, wording


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
    SPENDING = "spending"
    FAULTY = "faulty"
    REORDER = "reorder"


WRITE_INTENTS = frozenset({Intent.MISSING_PARCEL, Intent.CANCEL, Intent.REFUND, Intent.CHANGE_ADDRESS})
READ_INTENTS = frozenset(
    {
        Intent.HUMAN,
        Intent.POLICY,
        Intent.LIST,
        Intent.TRACK,
        Intent.PRICE,
        Intent.STATUS,
        Intent.SPENDING,
        Intent.FAULTY,
        Intent.REORDER,
    }
)
# The closest paraphrase must score this much (0-100) for the model to act on it, and beat the closest
# paraphrase of another intent by the margin; below either, the customer is offered choices.
UNDERSTOOD = 85.0
MARGIN = 6.0
# A question about how things stand ("is it cancelled now?") never asks for a change.
_ASKS_HOW_THINGS_STAND = re.compile(
    r"^\W*(?:so\s+)?(?:is|isn't|was|wasn't|has|hasn't|have|did|are|were)\b.*"
    r"\b(?:cancell?ed|refunded|changed|updated|processed|gone through|went through)\b",
    re.IGNORECASE | re.DOTALL,
)
# An order number stands alone: never part of a date (2026-11-22, 22/11/2026), a time, a price or a code.
_ORDER_ID = re.compile(
    r"(?<![\w\-/.:$£€])"
    # not the tail of a thousands-separated number (1,044; 12,345,678): a comma after a 1-3 digit group
    r"(?<!(?<!\d)\d,)(?<!(?<!\d)\d\d,)(?<!(?<!\d)\d\d\d,)"
    r"#?(\d{3,10})\b(?![\-/.:]\d)(?!,\d{3}(?!\d))"
)
_ITEM_SPELLING = 88
_MOST_RECENT = re.compile(r"\b(?:most recent|latest|newest|last)\b", re.IGNORECASE)
_WORD = re.compile(r"[a-z]{3,}")
_ADDRESS = re.compile(
    r"\b(?:address|ship|send|deliver)\b.*?\bto\b[:\s]+(?P<address>.+)$", re.IGNORECASE | re.DOTALL
)
_ADDRESS_TAIL = re.compile(
    r"(?:[\s,]*\b(?:instead|please|thanks|thank you)\b)+[\s.!?]*$|[\s.!?]+$", re.IGNORECASE
)
_LOOKS_LIKE_ADDRESS = re.compile(r"\d+\s+\w+.*\w", re.DOTALL)


@dataclass(frozen=True, slots=True)
class Request:
    """One customer message, understood.

    Attributes:
        intents: What the customer asks for, when the model is confident of it (else empty).
        order_ids: The order numbers the customer typed.
        new_address: A new shipping address in the message.
        confidence: How close the message is to the table's nearest paraphrase, 0-1.
        candidates: The intents it is closest to, best first (the choices to offer when not confident).
    """

    intents: tuple[Intent, ...]
    order_ids: tuple[str, ...]
    new_address: str | None
    confidence: float = 0.0
    candidates: tuple[Intent, ...] = ()

    @property
    def main_intent(self) -> Intent | None:
        """The intent the customer asks for, if the model is confident of one."""
        return self.intents[0] if self.intents else None


def read_request(text: str) -> Request:
    """Understand one message: the intent from the paraphrase table, the slots from the text."""
    found = _ADDRESS.search(text)
    address: str | None = None
    if found:
        candidate = _ADDRESS_TAIL.sub("", found.group("address").strip())
        if re.search(r"\d", candidate) or re.search(r"\baddress\b", text, re.IGNORECASE):
            address = candidate or None
    # House numbers in a new address are not order numbers.
    before_address = text[: found.start("address")] if found and address else text
    order_ids = tuple(dict.fromkeys(_ORDER_ID.findall(before_address)))
    masked = _ORDER_ID.sub(f" {paraphrases.NUMBER} ", before_address)
    if found and address:
        masked += f" {paraphrases.ADDRESS} "
    normalised = paraphrases.normalise(masked)
    ranked = paraphrases.matches(normalised)
    candidates = tuple(Intent(match.intent) for match in ranked[:3])
    best = ranked[0].score if ranked else 0.0
    runner_up = ranked[1].score if len(ranked) > 1 else 0.0
    intents: tuple[Intent, ...] = ()
    # A bare order number ("1046") answers the agent's last question, or asks about that order: no intent.
    if best >= UNDERSTOOD and best - runner_up >= MARGIN and normalised != paraphrases.REFERENCE:
        intents = (candidates[0],)
    if intents and intents[0] in WRITE_INTENTS and _ASKS_HOW_THINGS_STAND.search(text):
        intents = (Intent.STATUS,)
    elif intents and intents[0] in WRITE_INTENTS and not asks_for(intents[0], text):
        intents = ()  # a change is only proposed when the message says so in words: else, choices
    return Request(intents, order_ids, address, best / 100, candidates)


# The words without which a message never asks for a change, however close it is to a paraphrase.
_SAYS_WRITE = {
    Intent.CANCEL: re.compile(
        r"\b(?:cancel|call\w* (?:it )?off|stop|withdraw|undo|get rid|changed? my mind"
        r"|not (?:want|need|send|ship)|no longer (?:want|need))"
    ),
    Intent.REFUND: re.compile(r"\b(?:refund|money|reimburs|repay|pay me back)"),
    Intent.CHANGE_ADDRESS: re.compile(
        r"\b(?:address|send|ship|deliver|redirect|moved?|go(?:es|ing)? to|change where|wrong place)"
    ),
    Intent.MISSING_PARCEL: re.compile(
        r"\b(?:never|missing|stol|lost|nothing|no (?:parcel|package)|not (?:here|there)"
        r"|(?:not|without)\s+(?:\w+\s+){0,2}(?:receiv|arriv|get|got|come|came|deliver|show|turn|have))"
    ),
}


# A question about how things are ("is my address correct?", "what address is it going to?") asks for no
# change; "can you ...", "could I ...", "do not ..." and "is it possible to ..." do ask for one.
_ASKS_A_QUESTION = re.compile(
    r"^\W*(?:and\s+|so\s+|but\s+)?(?:is|are|was|were|has|have|had|did|does|what|which|where|who|whose|when)\b"
    r"(?!\s+(?:it|there)\s+(?:possible|a way)\b)"
)


def asks_for(intent: Intent, text: str) -> bool:
    """Whether `text` words the change `intent` stands for (always true for a read or small talk).

    A question about how things are never asks for a change, whatever its words.
    """
    words = _SAYS_WRITE.get(intent)
    if words is None:
        return True
    plain = wording.plain(text)
    return bool(words.search(plain)) and not _ASKS_A_QUESTION.search(plain)


def advice_intent(request: Request) -> Intent | None:
    """The intent when it asks for advice the agent words itself (spending, a faulty item, ordering again)."""
    intent = request.main_intent
    return intent if intent in (Intent.SPENDING, Intent.FAULTY, Intent.REORDER) else None


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
    """Whether `text` points at an order by what is in it or when it was placed, not by number.

    "that" alone ("refund that please") is the order under discussion, not a description.
    """
    plain = wording.plain(text)
    return bool(_MOST_RECENT.search(plain) or _DESCRIBED.search(plain))


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
            _names(word, words)
            for item in order.get("items", [])
            for word in _WORD.findall(str(item.get("name", "")).lower())
        )
    ]
    if len(set(by_item)) == 1:
        return by_item[0]
    if _MOST_RECENT.search(text) and orders:
        newest = max(orders, key=lambda order: str(order.get("placed_at", "")))
        return str(newest["order_id"])
    return None


def _names(item_word: str, words: set[str]) -> bool:
    """Whether the customer's words name `item_word`, allowing plurals and typos ("lamps", "headphone")."""
    if item_word in words:
        return True
    if len(item_word) < 4:
        return False
    return any(len(word) >= 4 and fuzz.ratio(item_word, word) >= _ITEM_SPELLING for word in words)


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
