"""The studio as a person uses it, in real Chromium against the running studio: log in,
upload, submit, watch it finish and play; LoRAs, reuse, batches, the gallery, the live queue."""

import base64

import pytest

from .live_studio import LiveStudio, wait_until
from .support.chromium import (
    DESKTOP,
    SCREENSHOTS,
    chromium_page,
    log_in,
    logged_in_page,
    wait_for_js,
)
from .support.pictures import picture_bytes

pytestmark = [pytest.mark.live, pytest.mark.browser]


@pytest.fixture(scope="module")
def studio(tmp_path_factory):
    live = LiveStudio(tmp_path_factory.mktemp("studio-browser")).start()
    live.manage(
        "shell",
        "-c",
        (
            "from generations.models import LoraPreset; "
            "LoraPreset.objects.create(name='Painting', path='Remade-AI/Painting', "
            "default_scale=0.8)"
        ),
    )
    yield live
    live.stop()


@pytest.fixture(scope="module")
def page(studio):
    with logged_in_page(studio) as page:
        yield page


def test_log_in_upload_submit_and_watch_it_play(studio, tmp_path):
    picture = tmp_path / "harbour.jpg"
    picture.write_bytes(picture_bytes(960, 540))
    with chromium_page(viewport=DESKTOP) as page:
        log_in(page, studio.base_url, start="/")
        page.screenshot(path=SCREENSHOTS / "dashboard.png", full_page=True)

        page.get_by_label("Source picture").set_input_files(str(picture))
        page.get_by_label("Prompt", exact=True).fill("boats rocking gently in the harbour")
        page.evaluate("window.__sameDocument = true")
        page.get_by_role("button", name="Generate video").click()
        take = page.locator("#recent-list .take").first
        take.wait_for()
        page.screenshot(path=SCREENSHOTS / "studio-take-in-progress.png", full_page=True)

        # The take follows its own progress in place, then plays: no reload, same page.
        take_id = take.get_attribute("data-id")
        page.wait_for_selector(f"#take-{take_id} video", timeout=120_000)
        assert page.evaluate("window.__sameDocument") is True
        assert page.url == studio.base_url + "/"
        player = f"document.querySelector('#take-{take_id} video')"
        page.evaluate(f"{player}.muted = true; {player}.play()")
        wait_for_js(page, f"{player}.currentTime > 0.5")
        duration = page.evaluate(f"{player}.duration")
        assert duration == pytest.approx(5.06, abs=0.2)
        page.screenshot(path=SCREENSHOTS / "studio-take-playing.png", full_page=True)


def test_a_studio_page_opened_while_nothing_ran_learns_of_work_started_elsewhere(studio):
    with logged_in_page(studio) as page:
        page.goto(studio.base_url + "/")
        page.evaluate("window.__sameDocument = true")
        made = studio.create("started from the JSON API", picture_bytes(640, 480))  # as maya

        made_id = made["id"]
        page.locator(f'#recent-list [data-id="{made_id}"]').wait_for(timeout=10_000)
        page.locator(f'#queue [data-id="{made_id}"]').wait_for(timeout=10_000)
        studio.wait_for_terminal([made["id"]])
        wait_until(lambda: page.title().startswith("(1) "), 15, "the title counter")
        assert page.evaluate("window.__sameDocument") is True


def drop_picture(page, content, name="drop.jpg"):
    """Drop a file on the drop zone the way a file manager does."""
    page.evaluate(
        """([data, name]) => {
            const bytes = Uint8Array.from(atob(data), (c) => c.charCodeAt(0));
            const transfer = new DataTransfer();
            transfer.items.add(new File([bytes], name, { type: "image/jpeg" }));
            const zone = document.getElementById("dropzone");
            zone.dispatchEvent(new DragEvent("drop", { dataTransfer: transfer, bubbles: true }));
        }""",
        [base64.b64encode(content).decode(), name],
    )


def test_drop_submit_with_two_loras_and_watch_it_finish(page, studio):
    studio.configure_simulator(process_seconds=10)
    page.goto(studio.base_url + "/")
    drop_picture(page, picture_bytes(900, 600))
    page.wait_for_selector("#picture-preview:not([hidden])")
    assert "drop.jpg" in page.locator("#picture-info").inner_text()
    page.get_by_label("Prompt", exact=True).fill("lanterns rising over the lake")
    page.get_by_label("LoRA 1 preset").select_option(label="Painting")
    assert page.get_by_label("LoRA 1 scale").input_value() == "0.8"
    page.get_by_label("LoRA 2 path").fill("Owner/Watercolour")
    page.get_by_label("LoRA 2 scale").fill("1.5")
    page.screenshot(path=SCREENSHOTS / "studio-form-filled.png", full_page=True)
    page.get_by_role("button", name="Generate video").click()
    page.locator("#submit-note", has_text="is queued").wait_for()
    page.locator("#recent-list .take").first.locator(".take-caption a").click()
    page.wait_for_url("**/generations/*/")

    page.evaluate("window.__sameDocument = true")
    progress = set()
    for _ in range(60):
        if page.locator(".status-succeeded").count():
            break
        bar = page.locator("#detail-body progress")
        if bar.count():
            progress.add(bar.get_attribute("value"))
        page.wait_for_timeout(500)
    page.wait_for_selector(".status-succeeded", timeout=60_000)
    assert page.evaluate("window.__sameDocument") is True
    assert len(progress - {"0"}) >= 2, progress  # the bar moved on its own
    assert "Remade-AI/Painting × 0.8, Owner/Watercolour × 1.5" in page.inner_text(".params")
    wait_for_js(page, "document.querySelector('video#player').readyState >= 1")
    page.evaluate("document.querySelector('video#player').muted = true")
    page.evaluate("document.querySelector('video#player').play()")
    wait_for_js(page, "document.querySelector('video#player').currentTime > 0.3")
    page.screenshot(path=SCREENSHOTS / "detail.png", full_page=True)
    studio.configure_simulator(process_seconds=2)


def test_reuse_settings_prefills_every_field(page, studio):
    studio.configure_simulator(process_seconds=2)
    page.goto(studio.base_url + "/")
    page.get_by_label("Source picture").set_input_files(
        files=[{"name": "tall.jpg", "mimeType": "image/jpeg", "buffer": picture_bytes(480, 800)}]
    )
    page.get_by_label("Prompt", exact=True).fill("a tall waterfall")
    page.get_by_label("Negative prompt").fill("blur")
    page.get_by_label("Clarity").select_option("720p")
    page.get_by_label("LoRA 1 path").fill("Owner/Mist")
    page.get_by_label("LoRA 1 scale").fill("2")
    page.locator("#advanced summary").click()
    page.get_by_label("Random each time").uncheck()
    page.locator("#id_seed").fill("31337")
    page.get_by_label("Steps").fill("20")
    page.get_by_label("Fast mode").select_option("true")
    page.get_by_role("button", name="Generate video").click()
    page.locator("#submit-note", has_text="is queued").wait_for()

    page.goto(studio.base_url + "/")  # a fresh form: random seed, nothing typed
    assert page.get_by_label("Prompt", exact=True).input_value() == ""
    page.locator("#recent-list .take").first.get_by_role("button", name="Reuse").click()
    page.locator("#submit-note", has_text="are in the form").wait_for()
    assert page.url == studio.base_url + "/"  # filled in place, no page load

    assert page.locator("#picture-preview").is_visible()
    assert page.get_by_label("Prompt", exact=True).input_value() == "a tall waterfall"
    assert page.get_by_label("Negative prompt").input_value() == "blur"
    assert page.get_by_label("Clarity").input_value() == "720p"
    assert page.get_by_label("Orientation").input_value() == "portrait"
    assert page.get_by_label("LoRA 1 path").input_value() == "Owner/Mist"
    assert float(page.get_by_label("LoRA 1 scale").input_value()) == 2.0
    assert page.locator("#id_seed").input_value() == "31337"
    assert not page.get_by_label("Random each time").is_checked()
    assert page.get_by_label("Steps").input_value() == "20"
    assert page.get_by_label("Fast mode").input_value() == "true"
    page.screenshot(path=SCREENSHOTS / "reuse-settings.png", full_page=True)


def test_batch_of_two_prompts_by_two_seeds_makes_four(page, studio):
    page.goto(studio.base_url + "/")
    page.get_by_label("Source picture").set_input_files(
        files=[{"name": "b.jpg", "mimeType": "image/jpeg", "buffer": picture_bytes(800, 450)}]
    )
    page.get_by_label("Prompt", exact=True).fill("slow zoom on the dunes\nwind over the dunes")
    page.get_by_label("One prompt per line").check()
    page.locator("#advanced summary").click()
    page.get_by_label("Seeds per prompt").fill("2")
    assert page.locator("#batch-size").inner_text() == "4"
    assert page.locator("#cost-estimate").inner_text() == "0.80"
    page.get_by_role("button", name="Generate video").click()
    page.locator("#submit-note", has_text="A batch of 4").wait_for()
    assert page.locator("#recent-list .take").count() >= 4
    batch = page.locator("#queue .batch-entry").first
    batch.locator("summary").click()
    batch.get_by_role("link", name="Open the batch grid").click()
    page.wait_for_url("**/batches/*/")

    assert page.locator(".batch-grid tbody tr").count() == 2
    assert page.locator(".batch-grid tbody td").count() == 4
    page.screenshot(path=SCREENSHOTS / "batch.png", full_page=True)


def test_gallery_search_and_filters(page, studio):
    studio.wait_for_terminal(
        [row["id"] for row in studio.api("GET", "/api/generations/").json()["results"]]
    )
    page.goto(studio.base_url + "/gallery/")
    assert page.locator(".card-tile").count() >= 5
    page.screenshot(path=SCREENSHOTS / "gallery.png", full_page=True)

    page.get_by_label("Search prompts").fill("dunes wind")  # no button: it applies as typed
    page.wait_for_url("**q=dunes*wind**")
    page.wait_for_function("document.querySelectorAll('#gallery .card-tile').length <= 2")
    captions = page.locator(".tile-caption").all_inner_texts()
    assert captions and all("wind over the dunes" in caption for caption in captions)

    page.goto(studio.base_url + "/gallery/?who=mine&lora=Owner/Mist")
    assert page.locator(".tile-caption").all_inner_texts() == ["a tall waterfall"]
    page.go_back()
    wait_until(lambda: "q=dunes" in page.url, 10, "the back button")


def test_a_favourite_shows_in_the_gallery_the_moment_it_is_made(page, studio):
    """Every page reads fresh: the star is on the very next gallery page."""
    page.goto(studio.base_url + "/gallery/")
    card = page.locator(".card-tile").first
    assert card.locator(".star.on").count() == 0
    page.goto(studio.base_url + card.get_attribute("data-detail"))  # its page, not the viewer
    page.get_by_role("button", name="Add to favourites").click()
    page.get_by_role("button", name="★ Favourite").wait_for()
    page.goto(studio.base_url + "/gallery/")
    assert page.locator(".card-tile").first.locator(".star.on").count() == 1
    page.screenshot(path=SCREENSHOTS / "gallery-favourite.png")
    page.get_by_label("Favourites only").check()
    page.wait_for_url("**favourites=on**")
    page.wait_for_function("document.querySelectorAll('#gallery .card-tile').length === 1")


def test_the_viewer_goes_through_the_gallery_by_keys_and_its_place_is_in_the_url(page, studio):
    page.goto(studio.base_url + "/gallery/")
    tiles = page.locator("#gallery .card-tile[data-video]")
    first, second = (tiles.nth(n).get_attribute("data-id") for n in (0, 1))

    tiles.nth(0).locator(".tile-link").click()
    page.wait_for_url(f"**view={first}")
    wait_for_js(page, "document.getElementById('viewer-video').readyState >= 1")
    page.keyboard.press("ArrowRight")
    page.wait_for_url(f"**view={second}")
    page.keyboard.press("f")  # favourite the one on view
    tiles.nth(1).locator(".star.on").wait_for()
    page.screenshot(path=SCREENSHOTS / "gallery-viewer.png")
    page.keyboard.press("Escape")
    # (location.href: Playwright's page.url can miss a history.back() within one document)
    wait_until(lambda: "view=" not in page.evaluate("location.href"), 10, "the viewer to close")
    assert page.locator("#viewer").is_hidden()

    page.goto(studio.base_url + f"/gallery/?view={second}")  # a shared link opens the viewer
    assert page.locator("#viewer").is_visible()
    assert page.locator("#viewer-title").inner_text() == f"#{second}"


def test_retry_from_the_live_queue_sends_the_generation_again(page, studio):
    studio.configure_simulator(process_seconds=1)
    prompt = "a kite that will not fly [sim:fail]"
    made = studio.create(prompt, picture_bytes(640, 480))
    wait_until(lambda: studio.generation(made["id"])["status"] == "failed", 60, "the failure")
    page.goto(studio.base_url + "/")
    row = page.locator(f'#queue li[data-id="{made["id"]}"]')
    row.scroll_into_view_if_needed()
    page.screenshot(path=SCREENSHOTS / "queue-retry.png")
    row.get_by_role("button", name="Retry").click()
    page.wait_for_url(studio.base_url + "/")
    wait_until(lambda: len(studio.posts_for(prompt)) == 2, 60, "the second submit")
