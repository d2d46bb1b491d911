"""The AG-UI example frontend (examples/agui_frontend) in Chromium: @ag-ui/client's pipeline in a browser,
over WebSocketAgent, against the real server: ask, approve a cancel, watch the answer stream in."""

from __future__ import annotations

import itertools
import secrets
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote, urlsplit

import pytest
from playwright.sync_api import Browser, Page, ViewportSize, expect
from starlette.applications import Starlette
from starlette.staticfiles import StaticFiles

from chat_runtime.auth import TokenVerifier, mint_token
from local_server import create_app
from tests.browser.conftest import screenshot
from tests.browser.test_graph_features import SLOWEST_TURN_MS, served
from tests.browser.test_layout import inside
from tests.support.aws_emulator import aws_path
from tests.support.live_server import serve

pytestmark = pytest.mark.browser

FRONTEND = Path(__file__).resolve().parents[2] / "examples" / "agui_frontend"
SIZES: dict[str, ViewportSize] = {
    "desktop": {"width": 1280, "height": 800},
    "phone": {"width": 390, "height": 844},
}
# Every text an assistant bubble shows, in order, as the page draws it (one entry per DOM change).
RECORD_STREAM = """
window.__streamed = {};
new MutationObserver(() => {
  for (const bubble of document.querySelectorAll('.msg.assistant')) {
    const text = bubble.querySelector('.text')?.textContent ?? '';
    const seen = (window.__streamed[bubble.dataset.messageId] ??= []);
    if (seen.at(-1) !== text) seen.push(text);
  }
}).observe(document, {subtree: true, childList: true, characterData: true});
"""


def ws_address(page_url: str) -> str:
    """The `/ws` address of a server whose chat page is at `page_url` (a `#token=` becomes `?token=`)."""
    parts = urlsplit(page_url)
    token = parts.fragment.removeprefix("token=") if parts.fragment.startswith("token=") else ""
    return f"ws://{parts.netloc}/ws" + (f"?token={token}" if token else "")


@pytest.fixture(scope="module")
def frontend() -> Iterator[str]:
    """The example's built files served as static files, the way `make agui-frontend` serves them."""
    assert (FRONTEND / "dist" / "app.js").is_file(), (
        "examples/agui_frontend is not built: `make js-test` builds it (npm ci, npm run build)"
    )
    app = Starlette()
    app.mount("/", StaticFiles(directory=FRONTEND, html=True))
    with serve(app) as url:
        yield url


@pytest.fixture(params=["run", "run-aws"])
def server(request: pytest.FixtureRequest) -> Iterator[str]:
    """The `/ws` address of each path the frontend is tested on: the local server, and the emulated API
    Gateway in front of the real handlers (with the development token `make run-aws` prints)."""
    if request.param == "run":
        with serve(create_app()) as url:
            yield ws_address(url + "/")
        return
    with aws_path(request.getfixturevalue("moto_server").url) as path:
        yield ws_address(path.page_url())


@pytest.fixture(params=sorted(SIZES))
def sized(
    browser: Browser, frontend: str, server: str, request: pytest.FixtureRequest
) -> Iterator[tuple[Page, ViewportSize]]:
    viewport = SIZES[request.param]
    phone = request.param == "phone"
    page = browser.new_context(viewport=viewport, is_mobile=phone, has_touch=phone).new_page()
    page.set_default_timeout(15_000)
    page.add_init_script(RECORD_STREAM)
    if "token=" in server:  # run-aws: the first turn starts the worker's container
        expect.set_options(timeout=SLOWEST_TURN_MS)
    page.goto(f"{frontend}/?server={quote(server, safe='')}")
    yield page, viewport
    expect.set_options(timeout=5_000)  # Playwright's default
    screenshot(page, request)
    page.context.close()


def ask(page: Page, text: str) -> None:
    page.get_by_label("Message").fill(text)
    page.get_by_label("Message").press("Enter")


def streamed(page: Page, bubble_index: int) -> list[str]:
    """The texts the `bubble_index`-th assistant bubble showed, one per change, in order."""
    message_id = page.locator(".msg.assistant").nth(bubble_index).get_attribute("data-message-id")
    texts: list[str] = page.evaluate("(id) => window.__streamed[id] ?? []", message_id)
    return texts


def assert_streamed_in(texts: list[str], final: str, page: Page) -> None:
    """The bubble grew through several partial texts, each extending the one before, up to `final`.

    On run-aws a short answer of the fast offline model fits in one of the sender's 50 ms post windows and
    arrives as one frame (docs/performance.md, section 3): there it only has to arrive whole.
    """
    assert len(texts) >= (2 if "token%3D" in page.url else 4), texts
    assert texts[-1] == final and final.endswith(".")
    for shorter, longer in itertools.pairwise(texts):
        assert longer.startswith(shorter) and len(longer) > len(shorter), texts


def assert_fits(page: Page, viewport: ViewportSize) -> None:
    """Header, input and Send on screen; nothing wider than the viewport; the page itself never scrolls."""
    for selector in ("header.top", "#message", "#send"):
        assert inside(page.locator(selector).bounding_box(), viewport), selector
    widest = page.evaluate(
        "Math.max(...[...document.querySelectorAll('body *')].map((el) => el.getBoundingClientRect().right))"
    )
    assert widest <= viewport["width"] + 0.5
    assert page.evaluate("document.scrollingElement.scrollWidth") <= viewport["width"]
    assert page.evaluate("document.scrollingElement.scrollTop") == 0


def test_ask_approve_a_cancel_and_see_the_answer_stream(sized: tuple[Page, ViewportSize]) -> None:
    page, viewport = sized
    expect(page.locator("#status")).to_have_text("Ready")
    ask(page, "What is the status of order 1042?")
    first = page.locator(".msg.assistant").first
    expect(first).not_to_have_class("msg assistant streaming")
    expect(first.locator(".text")).to_contain_text("has shipped with UPS")
    expect(first.locator(".who")).to_have_text("order_info")
    assert_streamed_in(streamed(page, 0), first.locator(".text").text_content() or "", page)

    ask(page, "Please cancel order 1043")
    card = page.locator(".card.approval")
    expect(card).to_contain_text("Cancel order 1043 (Wireless headphones, total 129.00)?")
    expect(card.locator(".fields")).to_contain_text("1043")
    expect(page.locator("#status")).to_have_text("Waiting for you")
    expect(page.get_by_label("Message")).to_be_disabled()  # every open interrupt is answered first
    assert_fits(page, viewport)

    card.get_by_role("button", name="Approve").click()
    expect(card.locator(".outcome")).to_have_text("Approved")
    answer = page.locator(".msg.assistant").last
    expect(answer.locator(".text")).to_contain_text("Order 1043 has been cancelled.")
    expect(answer).not_to_have_class("msg assistant streaming")
    expect(page.locator("#status")).to_have_text("Ready")
    count = page.locator(".msg.assistant").count()
    assert_streamed_in(streamed(page, count - 1), answer.locator(".text").text_content() or "", page)
    expect(page.locator(".tool", has_text="cancel_order")).to_have_count(1)  # announced again, shown once
    expect(page.locator(".tool", has_text="cancel_order")).to_have_class("tool done")

    ask(page, "What's the status of order 1043?")
    expect(page.locator(".msg.assistant").last.locator(".text")).to_contain_text("was cancelled")
    assert_fits(page, viewport)


def test_rejecting_keeps_the_order(sized: tuple[Page, ViewportSize]) -> None:
    page, viewport = sized
    ask(page, "cancel order 1046")
    page.locator(".card.approval").get_by_role("button", name="Reject").click()
    expect(page.locator(".msg.assistant").last.locator(".text")).to_have_text(
        "Understood. Order 1046 will remain active."
    )
    expect(page.get_by_label("Message")).to_be_enabled()
    assert_fits(page, viewport)


def test_signed_in_the_token_in_the_address_reaches_the_server(browser: Browser, frontend: str) -> None:
    secret = secrets.token_hex(32)
    with serve(create_app(verifier=TokenVerifier(secret=secret))) as url:
        address = quote(ws_address(url + "/"), safe="")
        context = browser.new_context(viewport=SIZES["desktop"])
        context.set_default_timeout(15_000)
        refused = context.new_page()
        refused.goto(f"{frontend}/?server={address}")
        ask(refused, "What is the status of order 1042?")
        expect(refused.locator(".note.error")).to_contain_text("could not connect")  # no token: refused
        expect(refused.locator("#status")).to_have_text("Ready")
        forged = context.new_page()
        forged.goto(f"{frontend}/?server={address}#token=forged-token")
        ask(forged, "What is the status of order 1042?")
        expect(forged.locator(".note.error")).to_contain_text("could not connect")
        expect(forged.locator("#log")).not_to_contain_text("forged-token")  # a token is never shown
        signed_in = context.new_page()
        signed_in.goto(f"{frontend}/?server={address}#token={mint_token(secret, 'alice', 'demo-customer')}")
        ask(signed_in, "What is the status of order 1042?")
        expect(signed_in.locator(".msg.assistant .text")).to_contain_text("has shipped with UPS")
        context.close()


def open_on(browser: Browser, frontend: str, page_url: str) -> Page:
    page = browser.new_context(viewport=SIZES["phone"], is_mobile=True, has_touch=True).new_page()
    page.set_default_timeout(20_000)
    page.add_init_script(RECORD_STREAM)
    page.goto(f"{frontend}/?server={quote(ws_address(page_url), safe='')}")
    return page


def test_a_question_gets_a_text_box_and_the_graph_gets_the_answer(
    browser: Browser, frontend: str, request: pytest.FixtureRequest
) -> None:
    with served("question") as url:
        page = open_on(browser, frontend, url)
        ask(page, "hi")
        card = page.locator(".card.question")
        expect(card.locator(".what")).to_have_text("What is your name?")
        card.get_by_label("Your answer").fill("Ada")
        card.get_by_role("button", name="Answer").click()
        expect(card.locator(".outcome")).to_have_text("Answered: Ada")
        expect(page.locator(".msg.assistant .text")).to_have_text("Nice to meet you, Ada!")
        assert_fits(page, SIZES["phone"])
        screenshot(page, request)
        page.context.close()


def test_stop_ends_a_long_answer_midway(
    browser: Browser, frontend: str, request: pytest.FixtureRequest
) -> None:
    with served("essay") as url:
        page = open_on(browser, frontend, url)
        ask(page, "write an essay")
        stop = page.get_by_role("button", name="Stop")
        essay = page.locator(".msg.assistant", has_text="word1")  # after the plan's message
        expect(essay).to_have_count(1)
        stop.click()
        expect(page.locator(".note")).to_have_text("Stopped.")
        expect(stop).to_be_hidden()
        expect(essay).not_to_have_class("msg assistant streaming")
        expect(essay).not_to_contain_text("word100.")  # stopped midway
        expect(page.get_by_label("Message")).to_be_enabled()
        screenshot(page, request)
        page.context.close()
