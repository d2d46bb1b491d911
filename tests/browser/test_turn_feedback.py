"""What the page shows while a turn runs: a typing indicator until its first frame, one caret at most,
and approval cards that read what was approved."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import pytest
from langchain_core.messages import AIMessage
from langgraph.checkpoint.memory import InMemorySaver
from langgraph.graph import END, START, MessagesState, StateGraph
from langgraph.graph.state import CompiledStateGraph
from playwright.sync_api import Browser, Page, expect

from local_server import create_app
from support_agent.models.scripted import ScriptedChatModel
from tests.browser.conftest import screenshot
from tests.browser.test_chat_page import ask
from tests.support.live_server import serve

pytestmark = pytest.mark.browser

FIRST_WORDS_AFTER = 1.5  # seconds the first agent thinks before it speaks, as a remote model would


def two_agents(delay: float) -> CompiledStateGraph[Any, Any, Any, Any]:
    """A real graph whose turn has two agents speak in turn (`order_info`, then `order_actions`)."""
    info = ScriptedChatModel.from_replies([AIMessage(content="Let me look at order 1042 for you.")])
    actions = ScriptedChatModel.from_replies([AIMessage(content="Order 1042 can still be changed.")])

    async def order_info(state: MessagesState) -> dict[str, Any]:
        await asyncio.sleep(delay)
        return {"messages": [await info.ainvoke(state["messages"])]}

    async def order_actions(state: MessagesState) -> dict[str, Any]:
        return {"messages": [await actions.ainvoke(state["messages"])]}

    builder = StateGraph(MessagesState)
    builder.add_node("order_info", order_info)
    builder.add_node("order_actions", order_actions)
    builder.add_edge(START, "order_info")
    builder.add_edge("order_info", "order_actions")
    builder.add_edge("order_actions", END)
    return builder.compile(checkpointer=InMemorySaver())


@pytest.fixture
def slow_page(browser: Browser, request: pytest.FixtureRequest) -> Iterator[Page]:
    with serve(create_app(graph=two_agents(FIRST_WORDS_AFTER))) as url:
        page = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
        page.set_default_timeout(15_000)
        page.goto(url + "/")
        expect(page.locator("#status")).to_have_text("Connected")
        yield page
        screenshot(page, request)
        page.context.close()


def caret(page: Page, bubble: int) -> str:
    """The content drawn after the text of the `bubble`-th agent message (the streaming caret, or none)."""
    return str(
        page.locator("#log .item.agent p")
        .nth(bubble)
        .evaluate("(p) => getComputedStyle(p, '::after').content")
    )


def test_only_the_speaking_agent_has_a_caret_and_none_after_the_turn(slow_page: Page) -> None:
    ask(slow_page, "Can order 1042 still be changed?")
    second = slow_page.locator("#log .item.agent").nth(1)
    expect(second).to_contain_text("Order 1042 can still be changed.")
    expect(second).not_to_have_class("item agent streaming")
    expect(slow_page.locator("#log .item.agent .who")).to_have_text(["Orders", "Order changes"])
    assert caret(slow_page, 0) == "none"  # the first agent's bubble kept its caret before the fix
    assert caret(slow_page, 1) == "none"
    assert slow_page.locator("#log .streaming").count() == 0


def test_a_typing_indicator_shows_until_the_first_frame(slow_page: Page) -> None:
    ask(slow_page, "Can order 1042 still be changed?")
    typing = slow_page.locator("#log .typing")
    expect(typing).to_be_visible()
    user, dots = slow_page.locator("#log .item.user").bounding_box(), typing.bounding_box()
    log = slow_page.locator("#log").bounding_box()
    assert user is not None and dots is not None and log is not None
    assert dots["y"] >= user["y"] + user["height"]  # below the question, where the answer will come
    assert dots["x"] < log["x"] + log["width"] / 2 and dots["width"] > 20 and dots["height"] > 10
    animation = typing.locator("span").nth(1).evaluate("(el) => getComputedStyle(el).animationName")
    assert animation == "typing"
    expect(typing).to_contain_text("The assistant is answering")  # for screen readers
    expect(slow_page.locator("#log .item.agent").first).to_be_visible(timeout=FIRST_WORDS_AFTER * 1000 + 5000)
    expect(typing).to_have_count(0)  # gone with the first frame, not only at the end of the turn


def test_a_turn_that_ends_in_an_error_takes_the_indicator_away(slow_page: Page) -> None:
    ask(slow_page, "x" * 40_000)
    expect(slow_page.get_by_role("alert")).to_contain_text("Message too large")
    expect(slow_page.locator("#log .typing")).to_have_count(0)


def test_an_edited_approval_reads_the_new_address(page: Page) -> None:
    ask(page, "Change the address of order 1046 to 12 Oak Street, Springfield")
    card = page.get_by_role("form", name="Approval needed")
    card.get_by_label("new address").fill("14 Oak Street, Springfield")
    card.get_by_role("button", name="Approve").click()
    expect(page.locator("#log .item.agent").last).to_contain_text("will now ship to 14 Oak Street")
    question = card.locator("p").first
    expect(question).to_contain_text("to 14 Oak Street, Springfield?")
    expect(question).not_to_contain_text("12 Oak Street")
    expect(page.locator("#log .typing")).to_have_count(0)
    page.reload()  # the card is drawn again from what the page kept
    expect(page.get_by_role("form", name="Approval needed").locator("p").first).to_contain_text(
        "to 14 Oak Street, Springfield?"
    )
