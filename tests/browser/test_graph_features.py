"""The chat page on other graphs than the shop's (`examples/langgraph_features`), each served by a real
process (`python -m local_server`, or `python -m local_server.emulator` as `make run-aws` starts it): question
cards for `input` interrupts, the stop button, progress lines, and the page's texts from `GET /api/config`."""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, ViewportSize, WebSocket, expect

from tests.browser.conftest import screenshot
from tests.browser.test_chat_page import ask
from tests.support.subprocess_server import aws_emulator_process, local_server_process

pytestmark = pytest.mark.browser

FEATURES = Path(__file__).resolve().parents[2] / "examples" / "langgraph_features" / "langgraph.json"
DESKTOP: ViewportSize = {"width": 1280, "height": 900}
PHONE: ViewportSize = {"width": 390, "height": 844}


@contextmanager
def served(graph: str, path: str = "run", config: Path | None = FEATURES) -> Iterator[str]:
    """The chat page's address with `graph` of `config` served on `path` (`run` or `run-aws`)."""
    env = {key: value for key, value in os.environ.items() if key not in ("LANGGRAPH_CONFIG", "GRAPH")}
    if config is not None:
        env.update(LANGGRAPH_CONFIG=str(config), GRAPH=graph)
    if path == "run":
        with local_server_process(env=env) as ws_url:
            yield ws_url.removeprefix("ws://").join(["http://", ""]).removesuffix("/ws") + "/"
        return
    with aws_emulator_process(env=env) as emulator:
        base = emulator.url.removeprefix("ws://").split("/", 1)[0]
        yield f"http://{base}/#token={emulator.token}"


class Frames:
    """The frames the page sent on its socket, and those the server answered with."""

    def __init__(self, page: Page) -> None:
        self.sent: list[dict[str, Any]] = []
        self.received: list[dict[str, Any]] = []
        page.on("websocket", self._watch)

    def _watch(self, ws: WebSocket) -> None:
        ws.on("framesent", lambda payload: self.sent.append(json.loads(payload)))
        ws.on("framereceived", lambda payload: self.received.append(json.loads(payload)))

    def sent_of(self, kind: str) -> list[dict[str, Any]]:
        return [f for f in self.sent if f.get("type") == kind]

    def received_of(self, kind: str) -> list[dict[str, Any]]:
        return [f for f in self.received if f.get("type") == kind]


OpenPage = Callable[[str, ViewportSize], tuple[Page, Frames]]
SLOWEST_TURN_MS = 45_000  # `run-aws`'s first turn starts the worker's container (on a shared machine)


@pytest.fixture
def open_page(browser: Browser, request: pytest.FixtureRequest) -> Iterator[OpenPage]:
    pages: list[Page] = []

    def open_(url: str, viewport: ViewportSize) -> tuple[Page, Frames]:
        page = browser.new_context(viewport=viewport).new_page()
        page.set_default_timeout(20_000)
        if "#token=" in url:
            expect.set_options(timeout=SLOWEST_TURN_MS)
        frames = Frames(page)
        page.goto(url)
        expect(page.locator("#status")).to_have_text("Connected")
        pages.append(page)
        return page, frames

    yield open_
    expect.set_options(timeout=5_000)  # Playwright's default
    for page in pages:
        screenshot(page, request)
        page.context.close()


def within_viewport(page: Page, selector: str, min_width: float = 40) -> None:
    box = page.locator(selector).bounding_box()
    size = page.viewport_size
    assert box is not None and size is not None
    assert box["x"] >= 0 and box["y"] >= 0, box
    assert box["x"] + box["width"] <= size["width"] and box["y"] + box["height"] <= size["height"], (
        box,
        size,
    )
    assert box["width"] >= min_width and box["height"] >= 24, box  # big enough to type into or press


@pytest.mark.parametrize("path", ["run", "run-aws"])
def test_a_question_gets_a_text_box_and_the_node_gets_the_typed_answer(
    open_page: OpenPage, path: str
) -> None:
    with served("question", path) as url:
        for viewport in (DESKTOP, PHONE):
            page, frames = open_page(url, viewport)
            ask(page, "hi")
            card = page.get_by_role("form", name="Question")
            expect(card.locator(".question")).to_have_text("What is your name?")
            expect(card.get_by_label("Your answer")).to_be_visible()
            within_viewport(page, ".question-card input", min_width=120)
            within_viewport(page, ".question-card button.primary")
            assert page.get_by_role("button", name="Approve").count() == 0
            card.get_by_label("Your answer").fill("Ada")
            card.get_by_role("button", name="Send").click()
            expect(page.locator("#log .item.agent").last).to_contain_text("Nice to meet you, Ada!")
            expect(card.locator(".outcome")).to_have_text("You answered: Ada")
            assert card.locator("input, button").count() == 0  # answered: nothing left to click
            (interrupt,) = frames.received_of("interrupt")
            assert interrupt["kind"] == "input"
            assert frames.sent_of("interrupt_response") == [
                {
                    "type": "interrupt_response",
                    "thread_id": interrupt["thread_id"],
                    "interrupt_id": interrupt["interrupt_id"],
                    "value": "Ada",
                }
            ]


def test_dismiss_sends_cancelled_and_the_card_stops_asking(open_page: OpenPage) -> None:
    with served("question") as url:
        page, frames = open_page(url, DESKTOP)
        ask(page, "hi")
        card = page.get_by_role("form", name="Question")
        card.get_by_role("button", name="Dismiss").click()
        expect(card.locator(".outcome")).to_have_text("You dismissed this.")
        expect(page.locator("#stop")).to_be_hidden()
        assert frames.sent_of("interrupt_response")[0]["cancelled"] is True
        page.wait_for_function("() => !document.querySelector('#log .typing')")
        assert [f.get("status") for f in frames.received_of("message_complete")] == ["dismissed"]
        assert page.locator("#log .item.agent").count() == 0


def test_several_pending_interrupts_each_get_a_card_answered_on_its_own(open_page: OpenPage) -> None:
    with served("trip") as url:
        page, frames = open_page(url, DESKTOP)
        ask(page, "Book my trip")
        question = page.get_by_role("form", name="Question")
        approval = page.get_by_role("form", name="Approval needed")
        expect(question.locator(".question")).to_have_text("Window or aisle?")
        expect(approval).to_contain_text("Book flight LX 318 to Lisbon for 240.00?")
        expect(question.get_by_role("group", name="Options").get_by_role("button")).to_have_text(
            ["window", "aisle"]
        )
        question.get_by_role("button", name="aisle").click()
        expect(question.locator(".outcome")).to_have_text("You answered: aisle")
        approval.get_by_role("button", name="Approve").click()
        expect(page.locator("#log .item.agent").last).to_contain_text("Booked: flight LX 318, seat: aisle.")
        ids = {f["kind"]: f["interrupt_id"] for f in frames.received_of("interrupt")}
        answers = [
            (f["interrupt_id"], f.get("value"), f.get("approved"))
            for f in frames.sent_of("interrupt_response")
        ]
        assert answers == [(ids["input"], "aisle", None), (ids["approval"], None, True)]
        assert page.locator(".question-card, .approval-card").count() == 2  # no card asked twice


def agent_text(page: Page) -> str:
    return page.locator("#log .item.agent p").last.inner_text()


@pytest.mark.parametrize("path", ["run", "run-aws"])
def test_stop_ends_a_long_answer_and_nothing_is_added_after_it(open_page: OpenPage, path: str) -> None:
    with served("essay", path) as url:
        page, frames = open_page(url, DESKTOP)
        stop = page.get_by_role("button", name="Stop")
        expect(stop).to_be_hidden()
        ask(page, "Write me an essay")
        expect(stop).to_be_visible()
        within_viewport(page, "#stop")
        expect(page.locator("#log .item.agent p").last).to_contain_text("word3")
        stop.click()
        expect(stop).to_be_hidden()
        stopped_at = agent_text(page)
        expect(page.locator("#log .item.agent").last.locator(".stopped")).to_have_text("Stopped")
        page.wait_for_timeout(1500)  # the essay would have written ~7 more words by now
        assert agent_text(page) == stopped_at
        assert "word100" not in stopped_at
        assert page.locator("#log .streaming").count() == 0  # no caret
        thread_id = frames.sent_of("message")[0]["thread_id"]
        assert frames.sent_of("cancel") == [{"type": "cancel", "thread_id": thread_id}]
        assert [f.get("status") for f in frames.received_of("message_complete")] == ["cancelled"]
        ask(page, "Thanks")  # the thread goes on: the next turn runs and the stop button is back for it
        expect(stop).to_be_visible()


def test_progress_shows_the_latest_step_under_the_answer_and_goes_at_the_end(open_page: OpenPage) -> None:
    with served("progress") as url:
        page, frames = open_page(url, DESKTOP)
        page.evaluate(
            """() => {
              window.progressSeen = [];
              new MutationObserver(() => {
                const line = document.querySelector('#log .progress-line');
                if (line) window.progressSeen.push(line.textContent);
              }).observe(document.querySelector('#log'), {childList: true, subtree: true});
            }"""
        )
        ask(page, "How are my orders?")
        expect(page.locator("#log .item.agent").last).to_contain_text("Your report is ready")
        expect(page.locator("#stop")).to_be_hidden()
        seen = page.evaluate("window.progressSeen")
        assert "Checking the prices · 67%" in seen, seen
        assert seen[-1] == "Writing the summary · 100%", seen
        assert page.locator("#log .progress-line").count() == 0  # the turn ended: the line went
        assert len(frames.received_of("custom")) == 3
        assert "step" not in page.locator("#log").inner_text()  # never shown raw


@pytest.mark.parametrize("path", ["run", "run-aws"])
def test_the_page_takes_its_texts_from_the_served_config(open_page: OpenPage, path: str) -> None:
    chat_page = json.loads(FEATURES.read_text())["chat_page"]
    with served("question", path) as url:
        page, _ = open_page(url, DESKTOP)
        expect(page.locator("h1")).to_have_text(chat_page["title"])
        expect(page).to_have_title(chat_page["title"])
        expect(page.locator("#log .welcome")).to_have_text(chat_page["welcome"])
        expect(page.get_by_label("Message")).to_have_attribute("placeholder", chat_page["placeholder"])


def test_without_a_config_endpoint_the_page_keeps_its_own_texts(browser: Browser) -> None:
    with served("question") as url:
        page = browser.new_context(viewport=PHONE).new_page()
        page.route("**/api/config", lambda route: route.fulfill(status=404, body="Not Found"))
        page.goto(url)
        expect(page.locator("#status")).to_have_text("Connected")
        expect(page.locator("h1")).to_have_text("Shop support")
        expect(page.get_by_label("Message")).to_have_attribute("placeholder", "Ask about an order…")
        page.context.close()
