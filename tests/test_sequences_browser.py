"""Shots and sequences as a person makes them, in Chromium against a running studio: extend a
clip from its last frame twice, cut the three into a sequence with one crossfade, export it on
the cluster and play the result to its end."""

import pytest

from .live_studio import LiveStudio
from .support.chromium import SCREENSHOTS, logged_in_page, wait_for_js
from .support.pictures import picture_bytes

pytestmark = [pytest.mark.live, pytest.mark.browser]
CLIP_SECONDS = 81 / 16  # the simulator's clips: 81 frames at 16 fps
FRAME = 1 / 16


@pytest.fixture(scope="module")
def studio(tmp_path_factory):
    live = LiveStudio(tmp_path_factory.mktemp("sequences-browser")).start()
    yield live
    live.stop()


def extend_from_the_last_frame(page, studio, clip_id):
    """The frame picker's default, then Generate on the form it opens; the new clip's id."""
    page.goto(f"{studio.base_url}/generations/{clip_id}/extend/")
    page.get_by_role("button", name="Continue from this frame").click()
    page.wait_for_url("**/?reuse=*")
    assert f"Continues #{clip_id}" in page.locator(".extends-note").inner_text()
    page.get_by_label("Prompt", exact=True).fill(f"the boat sails on, after #{clip_id}")
    page.get_by_role("button", name="Generate video").click()
    page.locator("#submit-note", has_text="is queued").wait_for()
    child = int(page.locator("#recent-list .take").first.get_attribute("data-id"))
    studio.wait_for_terminal([child])
    return child


# In the page: wait until the second preview video fades in, then pause the edit from the
# video with the controls, as a person would, and say what was seen. (Playwright's own waits
# are string evals, which the CSP forbids.)
FIRST_FADE = """new Promise((resolve) => {
  const [first, second] = document.querySelectorAll('.preview-stage video');
  setTimeout(() => resolve(null), 15000);
  const look = () => {
    const level = Number(getComputedStyle(second).opacity);
    if (level === 0) return requestAnimationFrame(look);
    const seen = { level, firstPlaying: !first.paused, secondPlaying: !second.paused };
    document.querySelector('.preview-stage [data-role=current]').pause();
    resolve(seen);
  };
  look();
})"""
BOTH_PAUSED = "[...document.querySelectorAll('.preview-stage video')].every(v => v.paused)"


def watch_the_first_crossfade(page):
    """Play the edit from the keyboard and skip to just before the first clip's 0.5 s
    crossfade: the second clip fades in over the first while the first still plays."""
    page.keyboard.press("p")
    playing = "(v => !v.paused && v.currentTime > 0)(document.querySelector('#edit-preview'))"
    wait_for_js(page, playing)
    page.evaluate(f"document.querySelector('#edit-preview').currentTime = {CLIP_SECONDS - 0.9}")
    seen = page.evaluate(FIRST_FADE)
    assert seen is not None, "the second video never faded in"
    assert seen["level"] > 0 and seen["firstPlaying"] and seen["secondPlaying"]
    wait_for_js(page, BOTH_PAUSED)  # the fade holds
    page.screenshot(path=SCREENSHOTS / "sequence-preview-crossfade.png")


def test_extend_twice_cut_with_a_crossfade_export_and_play_it_whole(studio):
    first = studio.create("a boat leaves the harbour", picture_bytes(832, 480))["id"]
    studio.wait_for_terminal([first])
    with logged_in_page(studio) as page:
        second = extend_from_the_last_frame(page, studio, first)
        third = extend_from_the_last_frame(page, studio, second)
        assert studio.generation(second)["parent"] == first
        assert studio.generation(third)["parent"] == second

        page.goto(f"{studio.base_url}/generations/{third}/")
        assert page.locator(".shot-strip li").count() == 3
        page.screenshot(path=SCREENSHOTS / "shot-strip.png", full_page=True)
        page.get_by_role("button", name="Play the shot as a sequence").click()
        page.wait_for_url("**/sequences/*/")
        assert page.locator("#clip-list .clip").count() == 3

        page.locator("#clip-list .clip").first.locator(".clip-transition").select_option(
            "crossfade"
        )
        page.get_by_role("button", name="Save the sequence").click()
        page.wait_for_load_state()
        page.get_by_text("The sequence is saved.").wait_for()
        watch_the_first_crossfade(page)
        page.get_by_role("button", name="Export MP4").click()
        page.wait_for_selector("#export-player", timeout=120_000)
        page.screenshot(path=SCREENSHOTS / "sequence-exported.png", full_page=True)

        wait_for_js(page, "document.querySelector('#export-player').readyState >= 1")
        duration = page.evaluate("document.querySelector('#export-player').duration")
        # a 0.5 s crossfade after the first clip; the second join drops the repeated frame
        assert duration == pytest.approx(3 * CLIP_SECONDS - 0.5 - FRAME, abs=0.1)
        page.evaluate(
            "(() => { const v = document.querySelector('#export-player');"
            " v.muted = true; v.currentTime = v.duration - 0.4; return v.play(); })()"
        )
        wait_for_js(page, "document.querySelector('#export-player').ended", timeout=15)
