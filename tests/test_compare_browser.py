"""Compare and the libraries in real Chromium, against a running studio."""

import pytest

from .live_studio import LiveStudio
from .support.chromium import DESKTOP, SCREENSHOTS, logged_in_page, wait_for_js
from .support.pictures import picture_bytes

pytestmark = [pytest.mark.live, pytest.mark.browser]

PROMPT = "boats rocking gently in the harbour"
CURRENT_TIMES = "[...document.querySelectorAll('video[data-compare]')].map((v) => v.currentTime)"


@pytest.fixture(scope="module")
def studio(tmp_path_factory):
    live = LiveStudio(tmp_path_factory.mktemp("compare-browser")).start()
    live.manage(
        "shell",
        "-c",
        (
            "from generations.models import LoraPreset, PromptPreset; "
            "LoraPreset.objects.create(name='Painting', path='Remade-AI/Painting', "
            "default_scale=0.8, notes='Thick brush strokes, warm light.'); "
            "LoraPreset.objects.create(name='Old film', path='Owner/Old-Film', "
            "default_scale=1.2, is_active=False); "
            "PromptPreset.objects.create(name='Harbour dusk', prompt='" + PROMPT + " at dusk', "
            "negative_prompt='blur, text')"
        ),
    )
    yield live
    live.stop()


@pytest.fixture
def page(studio):
    with logged_in_page(studio) as page:
        yield page


def pictures_loaded(page):
    wait_for_js(page, "[...document.querySelectorAll('img')].every((i) => i.complete)")


def test_compare_two_seeds_plays_them_together(page, studio):
    picture = picture_bytes(960, 540)
    ids = [studio.create(PROMPT, picture, seed=seed)["id"] for seed in (11, 22)]
    finished = studio.wait_for_terminal(ids)
    assert {row["status"] for row in finished.values()} == {"succeeded"}

    page.goto(f"{studio.base_url}/compare/?ids={ids[0]},{ids[1]}")
    wait_for_js(page, "[...document.querySelectorAll('video[data-compare]')]"
                ".every((v) => v.readyState >= 2)")  # fmt: skip
    table = page.locator("table#differences").inner_text()
    assert "Seed asked" in table and "11" in table and "22" in table
    assert "Prompt" not in table

    page.get_by_role("button", name="Play all").press("Enter")  # from the keyboard
    wait_for_js(page, f"{CURRENT_TIMES}.every((time) => time > 1.0)")
    first, second = page.evaluate(CURRENT_TIMES)
    assert abs(first - second) < 0.35
    page.screenshot(path=SCREENSHOTS / "compare.png", full_page=True)

    page.get_by_role("button", name="Pause all").click()
    wait_for_js(
        page, "[...document.querySelectorAll('video[data-compare]')].every((v) => v.paused)"
    )
    page.get_by_label("Position").fill("2.5")
    wait_for_js(page, f"{CURRENT_TIMES}.every((time) => Math.abs(time - 2.5) < 0.1)")

    page.emulate_media(color_scheme="dark")
    page.screenshot(path=SCREENSHOTS / "compare-dark.png", full_page=True)
    page.set_viewport_size({"width": 390, "height": 844})
    page.screenshot(path=SCREENSHOTS / "compare-phone.png", full_page=True)
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")

    page.goto(f"{studio.base_url}/compare/?ids={ids[0]}")
    assert "Pick at least one more" in page.locator("#compare-problem").inner_text()
    pictures_loaded(page)
    page.screenshot(path=SCREENSHOTS / "compare-pick-phone.png", full_page=True)


def test_library_pages(page, studio):
    page.goto(studio.base_url + "/")
    page.get_by_role("link", name="Library").click()
    page.wait_for_url("**/library/pictures/")
    page.get_by_label("Picture", exact=True).set_input_files(
        files=[{"name": "notes.jpg", "mimeType": "image/jpeg", "buffer": b"not a picture"}]
    )
    page.get_by_role("button", name="Upload").click()
    assert "not a picture we can read" in page.locator("#id_image-error").inner_text()
    page.get_by_label("Picture", exact=True).set_input_files(
        files=[{"name": "meadow.jpg", "mimeType": "image/jpeg", "buffer": picture_bytes(800, 600)}]
    )
    page.get_by_label("Name").fill("Meadow")
    page.get_by_role("button", name="Upload").click()
    page.wait_for_selector("text=“Meadow” was added to the library.")
    pictures_loaded(page)
    page.screenshot(path=SCREENSHOTS / "library-pictures.png", full_page=True)
    page.emulate_media(color_scheme="dark")
    page.screenshot(path=SCREENSHOTS / "library-pictures-dark.png", full_page=True)
    page.emulate_media(color_scheme="light")

    page.get_by_role("link", name="LoRAs").click()
    assert page.locator(".library-row", has_text="Old film").locator(".badge").inner_text() == (
        "Retired"
    )
    page.screenshot(path=SCREENSHOTS / "library-loras.png", full_page=True)

    page.get_by_role("link", name="Prompts").click()
    page.get_by_role("link", name="Add a prompt preset").click()
    page.get_by_label("Name").fill("Harbour dusk")
    page.get_by_label("Prompt", exact=True).fill("lanterns over the water")
    page.get_by_role("button", name="Save").click()
    assert "already exists" in page.locator("#id_name-error").inner_text()
    assert page.get_by_label("Prompt", exact=True).input_value() == "lanterns over the water"
    page.screenshot(path=SCREENSHOTS / "library-prompt-form-error.png", full_page=True)
    page.get_by_label("Name").fill("Lanterns")
    page.get_by_role("button", name="Save").click()
    page.wait_for_selector("text=Prompt preset “Lanterns” saved.")
    page.screenshot(path=SCREENSHOTS / "library-prompts.png", full_page=True)


# --- review notes on the player's timeline ------------------------------------------------------

PLAYER = "document.getElementById('player')"


def finished_video(studio):
    """A finished video of this studio: one an earlier test made, else a new one."""
    rows = studio.api("GET", "/api/generations/").json()["results"]
    done = [row for row in rows if row["status"] == "succeeded" and row["sequence"] is None]
    if done:
        return done[0]
    made = studio.create(PROMPT, picture_bytes(960, 540), seed=11)
    return studio.wait_for_terminal([made["id"]])[made["id"]]


def pause_at(page, seconds):
    page.evaluate(f"{PLAYER}.pause(); {PLAYER}.currentTime = {seconds}")
    wait_for_js(page, f"!{PLAYER}.seeking && Math.abs({PLAYER}.currentTime - {seconds}) < 0.01")


def test_a_note_at_the_paused_frame_is_a_marker_that_seeks_back_there(page, studio):
    video = finished_video(studio)
    page.goto(f"{studio.base_url}/generations/{video['id']}/")
    wait_for_js(page, f"{PLAYER}.readyState >= 1")
    duration = page.evaluate(f"{PLAYER}.duration")

    pause_at(page, 2.5)
    assert page.locator("#note-at").inner_text() == "Comment at 2.50 s (frame 40)"
    page.locator("#note-body").fill("The horizon tilts here: keep it level")
    page.locator("#note-body").press("Enter")  # posts in place (htmx)
    thread = page.locator(".note-thread", has_text="keep it level")
    thread.wait_for()

    bar = page.locator("#note-bar").bounding_box()
    pin = page.locator(".note-mark .note-pin").first.bounding_box()
    centre = pin["x"] + pin["width"] / 2
    assert (centre - bar["x"]) / bar["width"] == pytest.approx(2.5 / duration, abs=0.01)

    # A range: pause at 1 s, write, move on half a second, "To current frame".
    pause_at(page, 1.0)
    page.locator("#note-body").fill("The sky flickers")
    pause_at(page, 1.5)
    page.get_by_role("button", name="To current frame (24)").click()
    assert page.locator("#note-at").inner_text() == "Comment on 1.00–1.50 s (frames 16–24)"
    page.get_by_role("button", name="Post", exact=True).click()
    page.locator(".note-thread", has_text="sky flickers").wait_for()
    assert page.locator(".note-mark .note-band").count() == 1

    page.reload()  # read afresh: the markers as the server places them, the audit trail
    wait_for_js(page, f"{PLAYER}.readyState >= 1")
    page.locator(".review-trail summary").click()
    pause_at(page, 0.2)
    page.locator(".note-mark").nth(1).click()  # timeline order: the range first
    wait_for_js(page, f"!{PLAYER}.seeking")
    assert page.evaluate(f"{PLAYER}.currentTime") == pytest.approx(2.5, abs=1 / 16)
    assert "highlighted" in (thread.get_attribute("class") or "")
    page.keyboard.press(".")  # a frame on, then back
    wait_for_js(page, "document.getElementById('note-at').textContent.includes('frame 41')")
    page.keyboard.press(",")
    wait_for_js(page, "document.getElementById('note-at').textContent.includes('frame 40')")
    wait_for_js(page, f"{PLAYER}.readyState >= 2 && !{PLAYER}.seeking")
    page.wait_for_timeout(500)  # the player's own loading ring fades out
    page.screenshot(path=SCREENSHOTS / "review-notes-desktop.png", full_page=True)

    page.emulate_media(color_scheme="dark")
    page.set_viewport_size({"width": 390, "height": 844})
    page.screenshot(path=SCREENSHOTS / "review-notes-phone-dark.png", full_page=True)
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")

    # The review page: the same notes under its player, the open ones counted by the decisions.
    studio.manage("shell", "-c", MAKE_MAYA_A_REVIEWER)
    page.emulate_media(color_scheme="light")
    page.set_viewport_size(DESKTOP)
    page.goto(f"{studio.base_url}/review/{video['id']}/")
    assert "2 open notes" in page.locator("#review-form").inner_text()
    pause_at(page, 2.5)
    page.screenshot(path=SCREENSHOTS / "review-notes-review-page.png", full_page=True)


MAKE_MAYA_A_REVIEWER = (
    "from django.contrib.auth import get_user_model; "
    "from generations.roles import REVIEWER, assign_role; "
    "assign_role(get_user_model().objects.get(username='maya'), REVIEWER)"
)


# --- a guest's comment through a share link ------------------------------------------------------

GUEST_PLAYER = "document.querySelector('.guest-player')"


def test_a_guest_comment_at_two_and_a_half_seconds_is_the_owners_marker_there(page, studio):
    video = finished_video(studio)
    made = studio.api("POST", "/api/shares/", json={"generations": [video["id"]]})
    assert made.status_code == 201, made.text
    link = made.json()["url"]

    # A fresh browser context: no cookie, no login, as a client opening the e-mailed link.
    guest_context = page.context.browser.new_context(viewport=DESKTOP, color_scheme="light")
    guest = guest_context.new_page()
    guest.goto(link)
    item = guest.locator(".guest-item").first
    assert item.locator(".guest-comment-at").inner_text() == "Comment at 0.00 s (frame 0)"
    assert item.locator(".guest-comment-time").is_hidden()  # the time comes from the player
    guest.evaluate(f"{GUEST_PLAYER}.play()")
    wait_for_js(guest, f"!{GUEST_PLAYER}.paused && {GUEST_PLAYER}.currentTime > 0.3")
    duration = guest.evaluate(f"{GUEST_PLAYER}.duration")

    bar = item.locator(".guest-note-bar").bounding_box()
    guest.mouse.click(bar["x"] + bar["width"] * 2.5 / duration, bar["y"] + bar["height"] / 2)
    wait_for_js(guest, f"{GUEST_PLAYER}.paused && !{GUEST_PLAYER}.seeking")
    assert guest.evaluate(f"{GUEST_PLAYER}.currentTime") == pytest.approx(2.5, abs=1 / 16)
    assert item.locator(".guest-comment-at").inner_text() == "Comment at 2.50 s (frame 40)"
    form = item.locator(".guest-comment")
    form.get_by_label("Your name").fill("Ana (client)")
    form.get_by_label("Comment", exact=True).fill("Warmer light on the boats here, please")
    form.get_by_role("button", name="Post comment").click()
    posted = guest.locator(".guest-notes .note-thread", has_text="Warmer light on the boats")
    posted.wait_for()
    assert "2.50 s" in posted.inner_text() and "Ana (client)" in posted.inner_text()
    assert guest.locator(".guest-notes .note-mark").count() == 1  # the team's own notes stay in
    wait_for_js(guest, f"{GUEST_PLAYER}.readyState >= 2 && !{GUEST_PLAYER}.seeking")
    assert item.locator(".guest-comment-at").inner_text() == "Comment at 2.50 s (frame 40)"
    guest.wait_for_timeout(500)  # the player's own loading ring fades out
    guest.screenshot(path=SCREENSHOTS / "guest-comment-desktop.png", full_page=True)
    guest.emulate_media(color_scheme="dark")
    guest.set_viewport_size({"width": 390, "height": 844})
    guest.screenshot(path=SCREENSHOTS / "guest-comment-phone-dark.png", full_page=True)
    assert guest.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    guest_context.close()

    # The owner, logged in: the guest's comment is a marker at 2.5 s, frame 40.
    page.goto(f"{studio.base_url}/generations/{video['id']}/")
    wait_for_js(page, f"{PLAYER}.readyState >= 1")
    owner_duration = page.evaluate(f"{PLAYER}.duration")
    thread = page.locator(".note-thread", has_text="Warmer light on the boats")
    head = " ".join(thread.locator(".note-head").first.text_content().split())
    assert "2.50 s frame 40 Ana (client) (guest)" in head and "Shown to guests" in head
    note_id = thread.get_attribute("id").removeprefix("note-")
    bar = page.locator("#note-bar").bounding_box()
    pin = page.locator(f'.note-mark[data-note="{note_id}"] .note-pin').bounding_box()
    centre = pin["x"] + pin["width"] / 2
    assert (centre - bar["x"]) / bar["width"] == pytest.approx(2.5 / owner_duration, abs=0.01)
    thread.scroll_into_view_if_needed()
    page.screenshot(path=SCREENSHOTS / "guest-comment-owner.png", full_page=True)
