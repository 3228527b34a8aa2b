"""Budgets, the out-of-credit pause and the reviewer's keyboard, in the running studio."""

import re

import pytest

from .live_studio import LiveStudio, wait_until
from .support import PASSWORD
from .support.chromium import SCREENSHOTS, logged_in_page
from .support.pictures import picture_bytes
from .support.sessions import logged_in_session

pytestmark = pytest.mark.live


@pytest.fixture(scope="module")
def studio(tmp_path_factory):
    live = LiveStudio(tmp_path_factory.mktemp("team-studio")).start()
    live.manage("shell", "-c", make_user_code("ada", "admin"))
    live.manage("shell", "-c", make_user_code("rui", "reviewer"))
    yield live
    live.stop()


def make_user_code(username, role):
    return (
        "from django.contrib.auth import get_user_model; "
        "from generations.roles import assign_role; "
        f"u = get_user_model().objects.create_user({username!r}, password={PASSWORD!r}); "
        f"assign_role(u, {role!r})"
    )


def post_form(session, studio, path, data):
    page = session.get(studio.base_url + "/", timeout=10)
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text).group(1)
    return session.post(
        studio.base_url + path,
        data={**data, "csrfmiddlewaretoken": token},
        headers={"Referer": studio.base_url + "/"},
        timeout=10,
    )


def test_over_budget_submit_is_refused_and_nothing_reaches_the_api(studio):
    studio.manage(
        "shell",
        "-c",
        (
            "from generations.models import Budget; "
            "from django.contrib.auth import get_user_model; "
            "Budget.objects.create(user=get_user_model().objects.get(username='maya'), "
            "monthly_limit='0.10')"
        ),
    )
    prompt = "an expensive idea"
    files = {"image": ("p.jpg", picture_bytes(), "image/jpeg")}

    response = studio.api("POST", "/api/generations/", data={"prompt": prompt}, files=files)

    assert response.status_code == 400
    assert "budget" in response.json()["errors"]["__all__"][0]
    assert studio.posts_for(prompt) == []
    studio.manage(
        "shell", "-c", "from generations.models import Budget; Budget.objects.all().delete()"
    )


def test_out_of_credit_pauses_everyone_then_resume_loses_nothing(studio):
    studio.configure_simulator(submit_fault="balance")
    prompts = [f"waiting for credit {index}" for index in range(3)]
    ids = [studio.create(prompt, picture_bytes(640, 480))["id"] for prompt in prompts]
    admin = logged_in_session(studio, "ada")

    wait_until(
        lambda: "Submissions are paused" in admin.get(studio.base_url + "/").text,
        60,
        "the pause banner",
    )
    # Submits already on the wire when the first refusal came back are refused too; none after.
    refused = [post for prompt in prompts for post in studio.posts_for(prompt)]
    assert {post["status_code"] for post in refused} == {400}
    assert len(refused) <= len(prompts)
    assert {studio.generation(i)["status"] for i in ids} == {"queued"}

    studio.configure_simulator(submit_fault="")
    post_form(admin, studio, "/studio/resume/", {})
    finished = studio.wait_for_terminal(ids, timeout=120)

    assert {row["status"] for row in finished.values()} == {"succeeded"}
    for prompt in prompts:
        assert len(studio.accepted_posts_for(prompt)) == 1


@pytest.mark.browser
def test_reviewer_works_through_the_queue_with_the_keyboard(studio):
    made = [studio.create(f"review me {n}", picture_bytes(640, 480))["id"] for n in range(2)]
    finished = studio.wait_for_terminal(made)
    # The queue runs in the order videos finished, which two parallel tasks need not keep.
    ids = sorted(made, key=lambda pk: (finished[pk]["finished_at"], pk))
    with logged_in_page(studio, "rui", PASSWORD) as page:
        page.goto(studio.base_url + f"/review/{ids[0]}/")
        page.screenshot(path=SCREENSHOTS / "review.png", full_page=True)

        page.keyboard.press("j")  # next
        page.wait_for_url(f"**/review/{ids[1]}/")
        page.keyboard.press("k")  # previous
        page.wait_for_url(f"**/review/{ids[0]}/")
        page.keyboard.press("n")  # focus the note; typed letters are not shortcuts
        page.keyboard.type("a fine ripple")
        page.keyboard.press("Escape")
        page.keyboard.press("a")  # approve, then on to the next pending
        page.wait_for_url(f"**/review/{ids[1]}/")
        page.keyboard.press("r")
        page.get_by_text(f"#{ids[1]} rejected.").wait_for()

    first, second = studio.generation(ids[0]), studio.generation(ids[1])
    assert (first["review_state"], first["review_note"]) == ("approved", "a fine ripple")
    assert second["review_state"] == "rejected"
