"""In real Chromium, the Content-Security-Policy blocks nothing the studio needs: htmx still
polls, no inline style or script is refused, and htmx injects no <style> of its own."""

from pathlib import Path

import pytest
from django.contrib.auth import get_user_model

from generations.models import Generation, Status

from .test_browser_flow import CHROMIUM, CHROMIUM_FLAGS

pytestmark = [pytest.mark.live, pytest.mark.browser]

PASSWORD = "a-long-test-password"


@pytest.fixture
def in_progress(transactional_db, source_image):
    owner = get_user_model().objects.create_superuser("root", password=PASSWORD)
    generation = Generation.objects.create_queued(
        owner=owner, source_image=source_image, prompt="waves"
    )
    Generation.objects.filter(pk=generation.pk).update(
        status=Status.PROCESSING, api_task_id="task-1", progress_percent=40
    )
    return generation


@pytest.fixture
def browser_page():
    from playwright.sync_api import sync_playwright

    if not Path(CHROMIUM).exists():
        pytest.fail("Debian's chromium is missing: `make test` installs it")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)
        page = browser.new_page()
        page.refused = []
        page.htmx_requests = []
        page.on(
            "console",
            lambda message: (
                "Content Security Policy" in message.text and page.refused.append(message.text)
            ),
        )
        page.on(
            "request",
            lambda request: (
                request.headers.get("hx-request") and page.htmx_requests.append(request)
            ),
        )
        yield page
        browser.close()


def test_pages_work_under_the_policy_and_nothing_is_refused(live_server, in_progress, browser_page):
    page = browser_page
    page.goto(live_server.url + "/login/")
    page.get_by_label("Username").fill("root")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(live_server.url + "/")

    page.goto(f"{live_server.url}/generations/{in_progress.pk}/")
    page.wait_for_timeout(2600)  # the detail polls every 2 s through htmx
    assert page.htmx_requests, "htmx did not poll under the policy"
    assert page.evaluate("document.querySelectorAll('style').length") == 0

    for path in ["/", "/admin/", "/admin/generations/generation/"]:
        page.goto(live_server.url + path)
        page.wait_for_load_state("networkidle")

    assert page.refused == []
