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
