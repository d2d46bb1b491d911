"""Quick replies on the chat page, from the real server (needs the runtime's `custom` frame).

The offline model writes `{"type": "quick_replies", "choices": [...]}` as a LangGraph custom stream event;
the runtime sends it as a `custom` frame, and the page shows the choices as buttons under the agent's message.
"""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from tests.browser.test_chat_page import ask

pytestmark = pytest.mark.browser


def test_choices_are_buttons_and_one_click_sends_its_message(page: Page) -> None:
    expect(page.locator("#status")).to_have_text("Connected")
    ask(page, "where is my package")
    group = page.get_by_role("group", name="Suggested replies")
    shoes = group.get_by_role("button", name="Order 1042 (Trail running shoes)")
    expect(shoes).to_be_enabled()
    shoes.click()
    expect(page.locator("#log .item.user").last).to_have_text("You1042")
    expect(page.locator("#log .item.agent").last).to_contain_text("UPS")
    expect(shoes).to_be_disabled()


def test_an_unclear_message_offers_a_hand_off(page: Page) -> None:
    expect(page.locator("#status")).to_have_text("Connected")
    ask(page, "What's the weather like on Mars?")
    person = page.get_by_role("group", name="Suggested replies").get_by_role(
        "button", name="Talk to a person"
    )
    person.click()
    expect(page.locator("#log .item.tool").last).to_have_text("Handing you over to a person on our team…")
