"""A real headless Chromium (Debian's) driven by Playwright against the local server on a real socket."""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, sync_playwright

from local_server import create_app
from tests.support.aws_emulator import aws_path
from tests.support.live_server import serve

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
OUTPUT = Path(__file__).resolve().parents[2] / "test-output" / "browser"
ARGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
]


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    # Module scope: Playwright's sync API keeps an event loop running until it stops, which would break
    # the async tests that run after the browser tests.
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield browser
        browser.close()


@pytest.fixture(params=["run", "run-aws"])
def start_url(request: pytest.FixtureRequest) -> Iterator[str]:
    """The chat page's address on each path: the local server, or the emulated API Gateway in front of the
    real handlers (signed in with a development token in the address, as `make run-aws` prints it)."""
    if request.param == "run":
        with serve(create_app()) as url:
            yield url + "/"
        return
    with aws_path(request.getfixturevalue("moto_server").url) as path:
        yield path.page_url()


def _page(
    browser: Browser, start_url: str, request: pytest.FixtureRequest, **context: object
) -> Iterator[Page]:
    page = browser.new_context(**context).new_page()  # type: ignore[arg-type]
    page.set_default_timeout(15_000)
    page.goto(start_url)
    yield page
    screenshot(page, request)
    page.context.close()


def screenshot(page: Page, request: pytest.FixtureRequest) -> None:
    """Save what the page shows, one PNG per test, under test-output/browser/."""
    OUTPUT.mkdir(parents=True, exist_ok=True)
    name = re.sub(r"[^A-Za-z0-9_.-]+", "_", request.node.name)
    page.screenshot(path=str(OUTPUT / f"{name}.png"), full_page=True)


@pytest.fixture
def page(browser: Browser, start_url: str, request: pytest.FixtureRequest) -> Iterator[Page]:
    yield from _page(browser, start_url, request, viewport={"width": 1100, "height": 760})


@pytest.fixture
def phone(browser: Browser, start_url: str, request: pytest.FixtureRequest) -> Iterator[Page]:
    yield from _page(
        browser, start_url, request, viewport={"width": 390, "height": 760}, is_mobile=True, has_touch=True
    )
