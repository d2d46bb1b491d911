"""CopilotKit's React chat (examples/agui_copilotkit) in Chromium on the runtime's `/ws`, with no CopilotKit
Runtime: WebSocketAgent as a local agent, approvals through `useInterrupt` and AG-UI's `resume`."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import pytest
from playwright.sync_api import Browser, Page, ViewportSize, expect
from starlette.applications import Starlette
from starlette.staticfiles import StaticFiles

from local_server import create_app
from tests.browser.conftest import screenshot
from tests.browser.test_agui_frontend import SIZES, assert_streamed_in, ws_address
from tests.browser.test_graph_features import served
from tests.browser.test_layout import inside
from tests.support.live_server import serve

pytestmark = pytest.mark.browser

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "agui_copilotkit"
ANSWERS = "[data-testid=copilot-assistant-message]"
# Every text each assistant message showed, in order (one entry per DOM change), by its place in the list.
RECORD_STREAM = """
window.__streamed = [];
new MutationObserver(() => {
  document.querySelectorAll('[data-testid=copilot-assistant-message]').forEach((answer, index) => {
    const text = answer.textContent;
    const seen = (window.__streamed[index] ??= []);
    if (text && seen.at(-1) !== text) seen.push(text);
  });
}).observe(document, {subtree: true, childList: true, characterData: true});
"""


@pytest.fixture(scope="module")
def frontend() -> Iterator[str]:
    """The example's built files, served as static files."""
    assert (EXAMPLE / "dist" / "app.js").is_file(), (
        "examples/agui_copilotkit is not built: `make js-test` builds it (npm ci, npm run build)"
    )
    app = Starlette()
    app.mount("/", StaticFiles(directory=EXAMPLE, html=True))
    with serve(app) as url:
        yield url


def open_page(browser: Browser, frontend: str, page_url: str, size: str) -> Page:
    phone = size == "phone"
    context = browser.new_context(viewport=SIZES[size], is_mobile=phone, has_touch=phone)
    page = context.new_page()
    page.set_default_timeout(20_000)
    page.add_init_script(RECORD_STREAM)
    page.goto(f"{frontend}/?server={quote(ws_address(page_url), safe='')}")
    return page


def ask(page: Page, text: str) -> None:
    box = page.get_by_placeholder("Ask about an order")
    box.fill(text)
    box.press("Enter")


def assert_fits(page: Page, viewport: ViewportSize) -> None:
    """The input and Send on screen; nothing wider than the viewport; the page itself never scrolls."""
    for selector in ("[data-testid=copilot-chat-textarea]", "[data-testid=copilot-send-button]"):
        assert inside(page.locator(selector).bounding_box(), viewport), selector
    assert page.evaluate("document.scrollingElement.scrollWidth") <= viewport["width"]
    assert page.evaluate("document.scrollingElement.scrollTop") == 0


@pytest.mark.parametrize("size", sorted(SIZES))
def test_copilotkit_asks_and_approves_a_cancel(
    browser: Browser, frontend: str, size: str, request: pytest.FixtureRequest
) -> None:
    with serve(create_app()) as url:
        page = open_page(browser, frontend, url + "/", size)
        ask(page, "Please cancel order 1043")
        card = page.locator(".card.approval")
        expect(card.locator(".what")).to_have_text("Cancel order 1043 (Wireless headphones, total 129.00)?")
        assert_fits(page, SIZES[size])
        card.get_by_role("button", name="Approve").click()
        # A short answer's tokens arrive within a few milliseconds, and React draws them at once; the essay
        # test below watches CopilotKit stream.
        expect(page.locator(ANSWERS).last).to_contain_text("Order 1043 has been cancelled.")
        ask(page, "What's the status of order 1043?")
        expect(page.locator(ANSWERS).last).to_contain_text("was cancelled")
        assert_fits(page, SIZES[size])
        screenshot(page, request)
        page.context.close()


def test_copilotkit_streams_a_long_answer(browser: Browser, frontend: str) -> None:
    """A graph that writes for seconds: the answer grows through many partial texts as the tokens come."""
    with served("essay") as url:
        page = open_page(browser, frontend, url, "desktop")
        ask(page, "write an essay")
        expect(page.locator(ANSWERS).last).to_contain_text("word100.", timeout=45_000)
        streamed: list[list[str]] = page.evaluate("window.__streamed")
        essay = [texts for texts in streamed if texts and "word1" in texts[-1]][-1]
        assert_streamed_in(essay, essay[-1], page)
        page.context.close()
