"""What a person sees: header and input stay on screen, only the message list scrolls, newest in view."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, FloatRect, Page, ViewportSize, expect

from tests.browser.conftest import screenshot

pytestmark = pytest.mark.browser
SIZES: dict[str, ViewportSize] = {
    "desktop": {"width": 1280, "height": 900},
    "phone": {"width": 390, "height": 844},
}


@pytest.fixture(params=sorted(SIZES))
def sized_page(
    browser: Browser, start_url: str, request: pytest.FixtureRequest
) -> Iterator[tuple[Page, ViewportSize]]:
    viewport = SIZES[request.param]
    phone = request.param == "phone"
    page = browser.new_context(viewport=viewport, is_mobile=phone, has_touch=phone).new_page()
    page.set_default_timeout(15_000)
    page.goto(start_url)
    yield page, viewport
    screenshot(page, request)
    page.context.close()


def inside(box: FloatRect | None, viewport: ViewportSize) -> bool:
    assert box is not None
    return (
        box["x"] >= 0
        and box["y"] >= 0
        and box["x"] + box["width"] <= viewport["width"] + 0.5
        and box["y"] + box["height"] <= viewport["height"] + 0.5
    )


def test_the_input_and_header_stay_in_view_after_ten_exchanges(
    sized_page: tuple[Page, ViewportSize],
) -> None:
    page, viewport = sized_page
    expect(page.locator("#status")).to_have_text("Connected")
    message = page.get_by_label("Message")
    for index in range(10):
        message.fill(f"What is the status of order {1042 + index % 3}?")
        message.press("Enter")
        expect(page.locator("#log .item.agent")).to_have_count(index + 1)
        expect(page.locator("#log .item.agent").last).not_to_have_class("item agent streaming")
        for selector in ("#message", "#composer button[type=submit]", "header.top"):
            assert inside(page.locator(selector).bounding_box(), viewport), (index, selector)
    assert page.evaluate("document.scrollingElement.scrollTop") == 0  # the page itself never scrolls
    log = page.locator("#log")
    assert page.evaluate("(el) => el.scrollHeight > el.clientHeight", log.element_handle())
    newest = page.locator("#log .item").last.bounding_box()
    composer = page.locator("#composer").bounding_box()
    log_box = log.bounding_box()
    assert newest is not None and composer is not None and log_box is not None
    assert newest["y"] + newest["height"] <= composer["y"] + 1  # the newest message is in view
    assert newest["y"] >= log_box["y"] - 1


def test_first_impression_welcome_labels_and_status(sized_page: tuple[Page, ViewportSize]) -> None:
    page, viewport = sized_page
    welcome = page.locator("#log .welcome")
    expect(welcome).to_contain_text("Where is order 1042?")
    assert page.get_by_text("New conversation", exact=True).count() == 1  # the button only
    status = page.locator("#status")
    expect(status).to_have_attribute("data-state", "online")
    box = status.bounding_box()
    assert box is not None and box["width"] > 0 and inside(box, viewport)  # visible on phones too
    placeholder = page.get_by_label("Message").get_attribute("placeholder") or ""
    fits = page.evaluate(
        """(el) => { const c = document.createElement('canvas').getContext('2d');
        const s = getComputedStyle(el); c.font = `${s.fontSize} ${s.fontFamily}`;
        return c.measureText(el.placeholder).width <= el.clientWidth - 2 * parseFloat(s.paddingLeft); }""",
        page.locator("#message").element_handle(),
    )
    assert fits, placeholder
    message = page.get_by_label("Message")
    message.fill("Please tell me everything about the status of my order number 1042 and when it arrives")
    message.press("Enter")
    expect(page.locator("#log .item.agent .who").last).to_have_text("Orders")
    expect(welcome).to_have_count(0)
    if viewport["width"] < 700:
        page.get_by_role("button", name="Conversations").click()
    title = page.locator("#thread-list button.current")
    overflow = page.evaluate(
        "(el) => [getComputedStyle(el).textOverflow, el.scrollWidth > el.clientWidth]", title.element_handle()
    )
    assert overflow == ["ellipsis", True]  # the long title is cut with an ellipsis, inside the list
    nav, button = page.locator("#threads").bounding_box(), title.bounding_box()
    assert nav is not None and button is not None and button["x"] + button["width"] <= nav["x"] + nav["width"]


def test_the_header_reads_on_one_line_with_the_status_in_words(sized_page: tuple[Page, ViewportSize]) -> None:
    page, viewport = sized_page
    expect(page.locator("#status")).to_have_text("Connected")
    title_lines = page.evaluate(
        """() => { const range = document.createRange();
        range.selectNodeContents(document.querySelector('header.top h1'));
        return new Set([...range.getClientRects()].map((r) => Math.round(r.top))).size; }"""
    )
    assert title_lines == 1  # "Shop support" does not wrap
    status = page.locator("#status")
    size, clipped = status.evaluate(
        "(el) => [parseFloat(getComputedStyle(el).fontSize), el.scrollWidth > el.clientWidth]"
    )
    assert size >= 12 and not clipped  # the words, not only a coloured dot
    selectors = ("header.top h1", "#status", "#open-settings")
    parts = [page.locator(selector).bounding_box() for selector in selectors]
    if viewport["width"] < 700:
        parts.append(page.locator("#toggle-threads").bounding_box())
    for box in parts:
        assert inside(box, viewport), box
    for index, one in enumerate(parts):  # nothing in the header overlaps
        for other in parts[index + 1 :]:
            assert one is not None and other is not None
            apart = (
                one["x"] + one["width"] <= other["x"] + 0.5
                or other["x"] + other["width"] <= one["x"] + 0.5
                or one["y"] + one["height"] <= other["y"] + 0.5
                or other["y"] + other["height"] <= one["y"] + 0.5
            )
            assert apart, (one, other)
    if viewport["width"] < 700:  # the conversations panel opens below the whole header
        page.get_by_role("button", name="Conversations").click()
        header, panel = page.locator("header.top").bounding_box(), page.locator("#threads").bounding_box()
        assert header is not None and panel is not None
        assert panel["y"] >= header["y"] + header["height"] - 0.5
