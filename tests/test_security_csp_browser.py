"""In real Chromium, the Content-Security-Policy blocks nothing the studio needs: htmx still
polls, no inline style or script is refused, and htmx injects no <style> of its own."""

import threading

import pytest

from generations.models import Generation, Status

from .support import PASSWORD
from .support.chromium import chromium_page, log_in

# A transactional test after another finds the tables flushed: serialized_rollback brings the
# roles made by migration back.
pytestmark = [
    pytest.mark.live,
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


@pytest.fixture
def in_progress(transactional_db, superuser, make_generation):
    return make_generation(
        superuser, status=Status.PROCESSING, api_task_id="task-1", progress_percent=40
    )


@pytest.fixture
def browser_page():
    with chromium_page() as page:
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


def test_pages_work_under_the_policy_and_nothing_is_refused(live_server, in_progress, browser_page):
    page = browser_page
    log_in(page, live_server.url, "root", PASSWORD)

    page.goto(f"{live_server.url}/generations/{in_progress.pk}/")
    page.wait_for_timeout(500)
    # Work moves: the pulse says so and the detail reads itself again through htmx.
    # (from a thread: Playwright's loop makes this one "async" to Django's ORM)
    moved = threading.Thread(
        target=Generation.objects.filter(pk=in_progress.pk).update, kwargs={"progress_percent": 60}
    )
    moved.start()
    moved.join()
    with page.expect_request(lambda request: request.headers.get("hx-request"), timeout=10_000):
        pass
    assert page.htmx_requests, "htmx did not ask under the policy"
    assert page.evaluate("document.querySelectorAll('style').length") == 0

    for path in ["/", "/gallery/?status=all", "/admin/", "/admin/generations/generation/"]:
        page.goto(live_server.url + path)
        page.wait_for_load_state("networkidle")

    assert page.refused == []
