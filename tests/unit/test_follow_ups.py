"""Follow-ups that name the order only as "it", "its" or "that one", with small words such as "now" and "yet".

"What's its status now?" after cancelling order 1043 got the bare fallback: "its" and "now" kept the message
far from every status paraphrase (all of which named an order). Each conversation runs the agent that
`build_agent` makes, turn by turn through the runtime's `run_turn`.
"""

from __future__ import annotations

from typing import Any

import pytest
from langgraph.checkpoint.memory import InMemorySaver

from chat_runtime.admission import NewMessage, Resume
from chat_runtime.engine import run_turn
from chat_runtime.protocol import ServerFrame
from support_agent.factory import build_agent
from support_agent.models.understanding import WRITE_INTENTS, Intent, read_request
from support_agent.settings import Settings

pytestmark = pytest.mark.anyio
FALLBACK = "didn't understand"


class Chat:
    """One thread with the default (offline) agent and the demo orders."""

    def __init__(self) -> None:
        self.graph = build_agent(Settings(), InMemorySaver())
        self.frames: list[dict[str, Any]] = []

    async def _sink(self, frame: ServerFrame) -> None:
        self.frames.append(frame.model_dump(exclude_none=True))

    async def turn(self, turn: NewMessage | Resume) -> list[dict[str, Any]]:
        self.frames = []
        await run_turn(self.graph, "t", turn, self._sink, configurable={"customer_id": "demo-customer"})
        return self.frames

    async def say(self, content: str) -> list[dict[str, Any]]:
        return await self.turn(NewMessage(content))


def calls(frames: list[dict[str, Any]]) -> list[tuple[str, dict[str, Any]]]:
    return [(f["tool"], f["args"]) for f in frames if f["type"] == "tool_call"]


def words(frames: list[dict[str, Any]]) -> str:
    return "".join(f["content"] for f in frames if f["type"] == "token")


async def test_its_status_now_after_a_cancellation_looks_the_cancelled_order_up() -> None:
    chat = Chat()
    assert (await chat.say("Please cancel order 1043"))[-1]["type"] == "interrupt"
    assert "has been cancelled" in words(await chat.turn(Resume(True)))
    frames = await chat.say("What's its status now?")
    assert calls(frames) == [("get_order_status", {"order_id": "1043"})]
    assert "was cancelled" in words(frames) and FALLBACK not in words(frames)


@pytest.mark.parametrize(
    ("follow_up", "tool"),
    [
        ("and that one?", "get_order_status"),
        ("what about it?", "get_order_status"),
        ("what's the status now?", "get_order_status"),
        ("What's its status now?", "get_order_status"),
        ("is it shipped yet?", "track_shipment"),
        ("when will it get here?", "track_shipment"),
        ("has it been dispatched?", "track_shipment"),
        ("how much was it?", "get_order_status"),
    ],
)
async def test_a_question_about_it_is_about_the_order_under_discussion(follow_up: str, tool: str) -> None:
    chat = Chat()
    await chat.say("Where is order 1042?")
    frames = await chat.say(follow_up)
    assert calls(frames) == [(tool, {"order_id": "1042"})], words(frames)
    assert not [f for f in frames if f["type"] == "interrupt"]


@pytest.mark.parametrize(
    ("about", "follow_up", "tool"),
    [
        ("What's the status of order 1046?", "cancel it", "cancel_order"),
        ("What's the status of order 1046?", "ok cancel that please", "cancel_order"),
        ("Tell me about order 1044", "refund that please", "request_refund"),
        ("Tell me about order 1044", "I want my money back for it", "request_refund"),
    ],
)
async def test_a_change_to_it_asks_approval_for_the_order_under_discussion(
    about: str, follow_up: str, tool: str
) -> None:
    chat = Chat()
    await chat.say(about)
    frames = await chat.say(follow_up)
    [interrupt] = [f for f in frames if f["type"] == "interrupt"]
    order_id = about.rstrip("?").split()[-1]
    assert interrupt["action"] == tool and interrupt["order_id"] == order_id
    assert [name for name, _ in calls(frames)] == [tool]


@pytest.mark.parametrize(
    ("text", "intent"),
    [
        ("What's its status now?", Intent.STATUS),
        ("whats its status", Intent.STATUS),
        ("and that one?", Intent.STATUS),
        ("what about it?", Intent.STATUS),
        ("what's the status now?", Intent.STATUS),
        ("is it shipped yet?", Intent.TRACK),
        ("when will it get here?", Intent.TRACK),
        ("cancel it", Intent.CANCEL),
        ("refund that please", Intent.REFUND),
        ("is it cancelled yet?", Intent.STATUS),
        ("has it been refunded now?", Intent.STATUS),
    ],
)
def test_pronouns_and_small_words_keep_the_intent(text: str, intent: Intent) -> None:
    assert read_request(text).main_intent is intent


@pytest.mark.parametrize(
    "text",
    [
        "do you ship to canada?",
        "how long do refunds take?",
        "what is the returns window?",
        "is it late?",
        "is my address correct?",
        "what address is it going to?",
        "was it delivered?",
        "did it arrive?",
    ],
)
def test_a_question_near_a_change_never_reads_as_one(text: str) -> None:
    assert read_request(text).main_intent not in WRITE_INTENTS


def test_a_negation_tells_a_missing_parcel_from_a_delivery_question() -> None:
    assert read_request("was it delivered?").main_intent is Intent.TRACK
    assert read_request("it was not delivered").main_intent is Intent.MISSING_PARCEL


def test_a_bare_order_number_has_no_intent_of_its_own() -> None:
    """It answers the agent's last question ("Which order ...?"), which decides what is done with it."""
    request = read_request("1046")
    assert request.main_intent is None and request.order_ids == ("1046",)
