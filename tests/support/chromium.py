"""Debian's Chromium driven by Playwright: a page, logged in or not, and waiting on the page's
own JavaScript (the studio's CSP forbids the string eval Playwright's waits would use)."""

import os
import time
from contextlib import contextmanager
from pathlib import Path

import pytest

from . import PASSWORD

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SCREENSHOTS = Path(
    os.environ.get("SCREENSHOT_DIR", Path(__file__).resolve().parents[2] / "test-output")
)
DESKTOP = {"width": 1280, "height": 900}


@contextmanager
def chromium_page(**page_options):
    """A new page of a Chromium of its own, closed when the block ends."""
    from playwright.sync_api import sync_playwright

    if not Path(CHROMIUM).exists():
        pytest.fail("Debian's chromium is missing: `make test` installs it")
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)
        try:
            yield browser.new_page(**page_options)
        finally:
            browser.close()


def log_in(page, base_url, username="maya", password=PASSWORD, start="/login/"):
    """Log in through the form, from `start` (any page sends a stranger to log in)."""
    page.goto(base_url + start)
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(base_url + "/")


@contextmanager
def logged_in_page(studio, username="maya", password=PASSWORD):
    """A desktop-sized Chromium page of a person logged in to the running studio."""
    with chromium_page(viewport=DESKTOP) as page:
        log_in(page, studio.base_url, username, password)
        yield page


def wait_for_js(page, expression, timeout=30):
    """Poll a JavaScript expression from Python until it is true."""
    deadline = time.monotonic() + timeout
    while not page.evaluate(expression):
        if time.monotonic() > deadline:
            raise AssertionError(f"Timed out waiting for {expression}")
        page.wait_for_timeout(100)
