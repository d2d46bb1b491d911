"""The chat page in a real browser: streamed answers, approvals, rejections, errors, threads, reconnect."""

from __future__ import annotations

import json

import pytest
from playwright.sync_api import Browser, Page, expect

from local_server import create_app
from tests.browser.conftest import screenshot
from tests.support.live_server import free_port, serve

pytestmark = pytest.mark.browser


def ask(page: Page, text: str) -> None:
    page.get_by_label("Message").fill(text)
    page.get_by_label("Message").press("Enter")


def last_answer(page: Page) -> str:
    return page.locator("#log .item.agent").last.inner_text()


def test_ask_about_an_order_and_see_the_streamed_answer(page: Page) -> None:
    expect(page.locator("#status")).to_have_text("Connected")
    ask(page, "What is the status of order 1042?")
    expect(page.locator("#log .item.tool")).to_have_text("Looking up order 1042…")
    answer = page.locator("#log .item.agent").last
    expect(answer).to_contain_text("has shipped with UPS")
    expect(answer).not_to_have_class("item agent streaming")
    expect(answer.locator(".who")).to_have_text("Orders")
    expect(page.locator("#thread-list button.current")).to_have_text("What is the status of order 1042?")


def test_cancel_and_approve(page: Page) -> None:
    ask(page, "Please cancel order 1043")
    card = page.get_by_role("form", name="Approval needed")
    expect(card).to_contain_text("Cancel order 1043 (Wireless headphones, total 129.00)?")
    card.get_by_role("button", name="Approve").click()
    expect(page.locator("#log .item.agent").last).to_contain_text("Order 1043 has been cancelled.")
    expect(card).to_contain_text("You approved this.")
    ask(page, "What's the status of order 1043?")
    expect(page.locator("#log .item.agent").last).to_contain_text("was cancelled")


def test_reject_keeps_the_order(page: Page) -> None:
    ask(page, "cancel order 1046")
    page.get_by_role("form", name="Approval needed").get_by_role("button", name="Reject").click()
    answer = page.locator("#log .item.agent").last
    expect(answer.locator("p")).to_have_text("Understood. Order 1046 will remain active.")
    expect(answer.locator(".who")).to_have_text("Order changes")


def test_an_address_change_can_be_edited_before_approving(page: Page) -> None:
    ask(page, "Change the address of order 1046 to 12 Oak Street, Springfield")
    card = page.get_by_role("form", name="Approval needed")
    field = card.get_by_label("new address")
    expect(field).to_have_value("12 Oak Street, Springfield")
    field.fill("14 Oak Street, Springfield")
    card.get_by_role("button", name="Approve").click()
    expect(page.locator("#log .item.agent").last).to_contain_text(
        "Order 1046 will now ship to 14 Oak Street, Springfield."
    )
    expect(field).to_be_disabled()
    expect(field).to_have_value("14 Oak Street, Springfield")


def test_a_bad_edit_is_explained_on_a_new_card(page: Page) -> None:
    ask(page, "Change the address of order 1046 to 12 Oak Street, Springfield")
    page.get_by_role("form", name="Approval needed").get_by_label("new address").fill("x")
    page.get_by_role("form", name="Approval needed").get_by_role("button", name="Approve").click()
    again = page.get_by_role("form", name="Approval needed").last
    expect(page.get_by_role("form", name="Approval needed").first).to_contain_text(
        "Your change couldn't be used: see below."
    )
    expect(again.get_by_role("alert")).to_have_text(
        "That address is too short: please give the full address, with street, town and postcode."
    )
    again.get_by_label("new address").fill("14 Oak Street, Springfield")
    again.get_by_role("button", name="Approve").click()
    expect(page.locator("#log .item.agent").last).to_contain_text("will now ship to 14 Oak Street")
    expect(again.get_by_role("alert")).to_have_count(0)


def test_a_hand_off_to_a_person_is_shown_with_its_ticket(page: Page) -> None:
    ask(page, "I want to talk to a human")
    handoff = page.locator("#log .item.tool.handoff")
    expect(handoff).to_have_text("Handing you over to a person on our team…")
    expect(page.locator("#log .item.agent").last).to_contain_text("(ticket T-")


def test_unknown_orders_and_protocol_errors_are_shown_in_place(page: Page) -> None:
    ask(page, "Where is order 9999?")
    expect(page.locator("#log .item.agent").last).to_contain_text(
        "I couldn't find order 9999 on your account."
    )
    ask(page, "x" * 40_000)
    error = page.get_by_role("alert")
    expect(error).to_contain_text("Message too large")


def test_conversations_are_separate_threads(page: Page) -> None:
    ask(page, "Where is order 1042?")
    expect(page.locator("#log .item.agent").last).to_contain_text("1042")
    page.get_by_role("button", name="New conversation").click()
    expect(page.locator("#log .item")).to_have_count(0)
    ask(page, "hello")
    expect(page.locator("#log .item.agent").last).to_contain_text("How can I help?")
    page.locator("#thread-list button", has_text="Where is order 1042?").click()
    expect(page.locator("#log .item.agent").last).to_contain_text("1042")


def test_the_page_reconnects_when_the_server_comes_back(
    browser: Browser, request: pytest.FixtureRequest
) -> None:
    port = free_port()
    page = browser.new_page()
    try:
        with serve(create_app(), port=port) as url:
            page.goto(url + "/")
            expect(page.locator("#status")).to_have_text("Connected")
            ask(page, "Where is order 1042?")
            expect(page.locator("#log .item.agent").last).to_contain_text("UPS")
        expect(page.locator("#status")).to_contain_text("Reconnecting")
        with serve(create_app(), port=port):  # a new server: it never heard of the conversation
            expect(page.locator("#status")).to_have_text("Connected", timeout=20_000)
            expect(page.locator("#log .item.notice")).to_have_text(
                "The server no longer has this conversation (it expired or the server restarted): "
                "what you write next starts afresh."
            )
            ask(page, "Where is order 1044?")
            expect(page.locator("#log .item.agent").last).to_contain_text("was delivered")
            screenshot(page, request)
    finally:
        page.context.close()


def test_usable_on_a_phone(phone: Page) -> None:
    ask(phone, "List my orders")
    expect(phone.locator("#log .item.agent").last).to_contain_text("You have 5 orders")
    phone.get_by_role("button", name="Conversations").click()
    expect(phone.get_by_role("button", name="New conversation")).to_be_visible()


def test_settings_are_kept(page: Page) -> None:
    page.get_by_role("button", name="Settings").click()
    url_field = page.get_by_label("WebSocket URL")
    expect(url_field).to_have_value(page.url.replace("http://", "ws://").rstrip("/") + "/ws")
    page.get_by_label("Token (optional)").fill("abc")
    page.get_by_role("button", name="Save and reconnect").click()
    page.reload()
    page.get_by_role("button", name="Settings").click()
    expect(page.get_by_label("Token (optional)")).to_have_value("abc")


def test_a_reloaded_page_resumes_its_threads_without_duplicates(page: Page) -> None:
    ask(page, "Please cancel order 1046")
    expect(page.get_by_role("form", name="Approval needed")).to_be_visible()
    sent: list[str] = []
    page.on("websocket", lambda ws: ws.on("framesent", lambda payload: sent.append(str(payload))))
    page.reload()
    expect(page.locator("#status")).to_have_text("Connected")
    for _ in range(100):  # the framesent events reach Python shortly after the page sends
        if any('"resume"' in frame for frame in sent):
            break
        page.wait_for_timeout(50)
    resumes = [json.loads(frame) for frame in sent if '"resume"' in frame]
    assert resumes and resumes[0]["after_seq"] > 0  # it asked only for what came after what it showed
    expect(page.get_by_role("form", name="Approval needed")).to_have_count(
        1
    )  # the re-sent approval is not doubled
    page.get_by_role("form", name="Approval needed").get_by_role("button", name="Approve").click()
    expect(page.locator("#log .item.agent").last).to_contain_text("Order 1046 has been cancelled.")
