"""A person in real Chromium: log in, upload, submit, watch it finish, the video plays."""

import os
from contextlib import contextmanager
from pathlib import Path

import pytest

from .conftest import picture_bytes
from .live_studio import LiveStudio

pytestmark = [pytest.mark.live, pytest.mark.browser]

CHROMIUM = "/usr/bin/chromium"
SCREENSHOTS = Path(os.environ.get("SCREENSHOT_DIR", Path(__file__).parent.parent / "test-output"))
CHROMIUM_FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="module")
def studio(tmp_path_factory):
    live = LiveStudio(tmp_path_factory.mktemp("browser-studio")).start()
    yield live
    live.stop()


@pytest.fixture
def page():
    from playwright.sync_api import sync_playwright

    if not Path(CHROMIUM).exists():
        pytest.fail("Debian's chromium is missing: `make test` installs it")
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)
        context = browser.new_context(viewport={"width": 1280, "height": 900})
        yield context.new_page()
        browser.close()


def wait_for_js(page, expression, timeout=30):
    """Poll a JavaScript expression from Python: the studio's CSP forbids the string eval
    that Playwright's wait_for_function would use inside the page."""
    import time

    deadline = time.monotonic() + timeout
    while not page.evaluate(expression):
        if time.monotonic() > deadline:
            raise AssertionError(f"Timed out waiting for {expression}")
        page.wait_for_timeout(100)


@contextmanager
def logged_in_page(studio, username="maya", password="a-long-test-password"):
    """A Chromium page of a person logged in to the running studio."""
    from playwright.sync_api import sync_playwright

    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        page.goto(studio.base_url + "/login/")
        page.get_by_label("Username").fill(username)
        page.get_by_label("Password").fill(password)
        page.get_by_role("button", name="Log in").click()
        page.wait_for_url(studio.base_url + "/")
        yield page
        browser.close()


def log_in(page, studio):
    page.goto(studio.base_url + "/")
    page.get_by_label("Username").fill("maya")
    page.get_by_label("Password").fill("a-long-test-password")
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(studio.base_url + "/")


def test_upload_submit_and_watch_it_play(page, studio, tmp_path):
    picture = tmp_path / "harbour.jpg"
    picture.write_bytes(picture_bytes(960, 540))
    log_in(page, studio)
    page.screenshot(path=SCREENSHOTS / "dashboard.png", full_page=True)

    page.get_by_label("Source picture").set_input_files(str(picture))
    page.get_by_label("Prompt", exact=True).fill("boats rocking gently in the harbour")
    page.get_by_role("button", name="Generate video").click()
    page.wait_for_url("**/generations/*/")
    url_after_submit = page.url
    page.screenshot(path=SCREENSHOTS / "detail-in-progress.png", full_page=True)

    # Updated in place by htmx: no reload, the same document throughout.
    page.evaluate("window.__sameDocument = true")
    page.wait_for_selector(".status-succeeded", timeout=120_000)
    assert page.evaluate("window.__sameDocument") is True
    assert page.url == url_after_submit

    video = page.locator("video#player")
    wait_for_js(page, "document.querySelector('video#player').readyState >= 1")
    duration = video.evaluate("element => element.duration")
    assert duration == pytest.approx(5.06, abs=0.2)
    video.evaluate("element => { element.muted = true; return element.play(); }")
    wait_for_js(page, "document.querySelector('video#player').currentTime > 0.5")
    page.screenshot(path=SCREENSHOTS / "detail-succeeded.png", full_page=True)
