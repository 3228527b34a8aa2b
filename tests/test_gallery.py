"""The gallery: filters in the URL, keyset pages with a constant number of queries."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from django.utils.html import escape

from generations.models import (
    Favourite,
    Generation,
    GenerationLora,
    ReviewState,
    Status,
)
from studio import gallery


@pytest.fixture
def browser(user):
    client = Client()
    client.force_login(user)
    return client


def make(owner, source_image, prompt="a scene", **fields):
    generation = Generation.objects.create_queued(
        owner=owner, source_image=source_image, prompt=prompt
    )
    Generation.objects.filter(pk=generation.pk).update(**{"status": Status.SUCCEEDED, **fields})
    generation.refresh_from_db()
    return generation


def shown(response):
    return [row.pk for row in response.context["rows"]]


def test_newest_first_and_oldest_first(browser, user, source_image):
    first, second = make(user, source_image), make(user, source_image)
    assert shown(browser.get("/gallery/")) == [second.pk, first.pk]
    assert shown(browser.get("/gallery/?sort=oldest")) == [first.pk, second.pk]


def test_search_matches_every_word_in_the_prompt(browser, user, source_image):
    hit = make(user, source_image, "harbour at dusk, boats")
    make(user, source_image, "harbour at noon")
    assert shown(browser.get("/gallery/?q=dusk+harbour")) == [hit.pk]


def test_filter_by_person(browser, user, other_user, source_image):
    mine, theirs = make(user, source_image), make(other_user, source_image)
    assert shown(browser.get("/gallery/?who=mine")) == [mine.pk]
    assert shown(browser.get("/gallery/?who=noor")) == [theirs.pk]
    assert set(shown(browser.get("/gallery/"))) == {mine.pk, theirs.pk}


def test_filter_by_state_review_lora_and_favourites(browser, user, source_image):
    approved = make(user, source_image, review_state=ReviewState.APPROVED)
    styled = make(user, source_image)
    GenerationLora.objects.create(generation=styled, position=1, path="Remade-AI/Painting", scale=1)
    failed = make(user, source_image, status=Status.FAILED)
    Favourite.toggle(user, styled)

    assert shown(browser.get("/gallery/")) == [styled.pk, approved.pk]
    assert shown(browser.get("/gallery/?status=failed")) == [failed.pk]
    assert shown(browser.get("/gallery/?review=approved")) == [approved.pk]
    assert shown(browser.get("/gallery/?lora=Remade-AI/Painting")) == [styled.pk]
    assert shown(browser.get("/gallery/?favourites=on")) == [styled.pk]


def test_filter_by_date_range(browser, user, source_image):
    old = make(user, source_image, created_at=timezone.now() - timedelta(days=10))
    new = make(user, source_image)
    since = (timezone.now() - timedelta(days=2)).date().isoformat()
    until = (timezone.now() - timedelta(days=5)).date().isoformat()
    assert shown(browser.get(f"/gallery/?since={since}")) == [new.pk]
    assert shown(browser.get(f"/gallery/?until={until}")) == [old.pk]


def test_flagged_outputs_of_others_are_not_listed(
    browser, user, other_user, reviewer, source_image
):
    theirs = make(other_user, source_image)
    theirs.review(reviewer, ReviewState.FLAGGED)
    assert shown(browser.get("/gallery/")) == []


def test_load_more_follows_pages_without_gaps_or_repeats_and_keeps_the_filters(
    browser, user, source_image
):
    made = [make(user, source_image) for _ in range(gallery.PAGE_SIZE * 2 + 3)]
    make(user, source_image, prompt="not matching the search")
    seen, url = [], "/gallery/?q=scene&sort=oldest"
    while url:
        response = browser.get(url, HTTP_HX_REQUEST="true")
        seen += shown(response)
        url = response.context["more_url"]
        if url:
            assert f'hx-get="{escape(url)}"' in response.content.decode()
    assert seen == [row.pk for row in made]


def queries_for_a_page(browser, path):
    with CaptureQueriesContext(connection) as queries:
        assert browser.get(path).status_code == 200
    return len(queries)


def test_query_count_does_not_grow_with_rows(browser, user, other_user, source_image, settings):
    for _ in range(5):
        make(user, source_image)
    small = queries_for_a_page(browser, "/gallery/?q=scene&sort=oldest")
    deep_small = queries_for_a_page(browser, "/gallery/?who=mine")

    for index in range(300):
        make(user if index % 2 else other_user, source_image)

    assert queries_for_a_page(browser, "/gallery/?q=scene&sort=oldest") == small
    assert queries_for_a_page(browser, "/gallery/?who=mine") == deep_small


def test_batch_page_is_a_grid_of_prompt_by_seed(browser, user, source_image):
    browser.post(
        "/",
        {
            "prompt": "waves\nclouds",
            "one_prompt_per_line": "on",
            "source_image": source_image.pk,
            "seed": "7",
            "seed_count": "2",
        },
    )
    batch = Generation.objects.first().batch

    response = browser.get(f"/batches/{batch.pk}/")

    assert response.context["columns"] == [(7, None), (8, None)]
    assert [prompt for prompt, _ in response.context["grid"]] == ["waves", "clouds"]
    assert all(all(cells) for _, cells in response.context["grid"])


def test_favourite_toggles(browser, user, source_image):
    generation = make(user, source_image)
    browser.post(f"/generations/{generation.pk}/favourite/")
    assert Favourite.objects.filter(user=user, generation=generation).exists()
    browser.post(f"/generations/{generation.pk}/favourite/")
    assert not Favourite.objects.exists()


def test_owner_deletes_after_confirming_and_files_go_too(
    browser, finished, media_root, django_capture_on_commit_callbacks
):
    video = media_root / finished.video.name
    assert "cannot be undone" in browser.get(f"/generations/{finished.pk}/delete/").content.decode()
    assert Generation.objects.filter(pk=finished.pk).exists() and video.exists()

    with django_capture_on_commit_callbacks(execute=True):
        browser.post(f"/generations/{finished.pk}/delete/")

    assert not Generation.objects.filter(pk=finished.pk).exists()
    assert not video.exists()


def test_someone_else_cannot_delete(finished, other_user):
    client = Client()
    client.force_login(other_user)
    assert client.post(f"/generations/{finished.pk}/delete/").status_code == 403
    assert Generation.objects.filter(pk=finished.pk).exists()


def test_download_is_named_after_the_prompt(browser, finished):
    response = browser.get(f"/generations/{finished.pk}/video.mp4?download=1")
    assert f'filename="p-{finished.pk}.mp4"' in response["Content-Disposition"]


def test_every_change_shows_on_the_next_page(browser, user, reviewer, source_image):
    first, second = make(user, source_image), make(user, source_image)
    browser.get("/gallery/")

    second.review(reviewer, ReviewState.APPROVED)
    Favourite.objects.create(user=user, generation=first)
    html = browser.get("/gallery/").content.decode()
    assert "review-approved" in html and 'aria-label="Favourite"' in html

    Favourite.objects.filter(user=user).delete()
    html = browser.get("/gallery/").content.decode()
    assert 'aria-label="Favourite"' not in html and "review-approved" in html


def test_a_card_links_to_its_page_and_video_and_names_its_review(
    browser, user, reviewer, source_image
):
    made = make(user, source_image, video="videos/v.mp4")
    made.review(reviewer, ReviewState.APPROVED)
    html = browser.get("/gallery/").content.decode()
    assert f'<a href="/generations/{made.pk}/" class="tile-link"' in html
    assert f'data-preview="/generations/{made.pk}/video.mp4"' in html
    assert '<span class="badge review-approved">Approved</span>' in html


def test_the_filter_bar_keeps_the_url_and_offers_teammates_and_presets(browser, user, other_user):
    from generations.models import LoraPreset

    LoraPreset.objects.create(name="Ink", path="studio/ink.safetensors")
    html = browser.get("/gallery/?who=" + other_user.username + "&q=dusk").content.decode()
    assert f'<option value="{other_user.username}" selected>' in html
    assert 'value="dusk"' in html and '<option value="studio/ink.safetensors">' in html
    html = browser.get("/gallery/?q=dawn").content.decode()
    assert 'value="dawn"' in html and f'<option value="{other_user.username}" >' in html


def test_a_card_shows_each_viewer_their_own_favourites(browser, user, other_user, source_image):
    shared = make(user, source_image)
    Favourite.objects.create(user=user, generation=shared)
    assert 'aria-label="Favourite"' in browser.get("/gallery/").content.decode()
    theirs = Client()
    theirs.force_login(other_user)
    assert 'aria-label="Favourite"' not in theirs.get("/gallery/").content.decode()


@pytest.mark.live  # runs in the PostgreSQL pass of `make test`
@pytest.mark.skipif(connection.vendor != "postgresql", reason="a PostgreSQL index")
def test_prompt_search_has_a_trigram_index_on_postgresql(browser, user, source_image):
    wanted = make(user, source_image, prompt="a lighthouse in fog")
    make(user, source_image, prompt="a harbour at dusk")
    with connection.cursor() as cursor:
        cursor.execute("SELECT indexdef FROM pg_indexes WHERE indexname = 'gallery_prompt_search'")
        assert "gin_trgm_ops" in cursor.fetchone()[0]
    assert shown(browser.get("/gallery/?q=LIGHTHOUSE")) == [wanted.pk]


# --- each viewer's own page ----------------------------------------------------------------


def viewer(person):
    client = Client()
    client.force_login(person)
    return client


def test_each_viewer_sees_their_own_flagged_work_and_favourites(
    browser, user, other_user, reviewer, admin_user, source_image
):
    plain, flagged = make(user, source_image), make(user, source_image)
    flagged.review(reviewer, ReviewState.FLAGGED)
    Favourite.objects.create(user=other_user, generation=plain)
    assert shown(browser.get("/gallery/")) == [flagged.pk, plain.pk]  # the owner sees it

    page = viewer(other_user).get("/gallery/")
    assert shown(viewer(admin_user).get("/gallery/")) == [flagged.pk, plain.pk]
    assert shown(page) == [plain.pk]  # flagged work of others is not theirs to see
    assert 'aria-label="Favourite"' in page.content.decode()  # their favourite, not the owner's
    assert 'aria-label="Favourite"' not in browser.get("/gallery/").content.decode()


def test_a_flag_hides_a_video_from_the_team_on_their_very_next_page(
    user, other_user, reviewer, source_image
):
    video = make(user, source_image)
    teammate = viewer(other_user)
    assert shown(teammate.get("/gallery/")) == [video.pk]
    video.review(reviewer, ReviewState.FLAGGED)
    assert shown(teammate.get("/gallery/")) == []


@pytest.mark.parametrize("path", ["/gallery/?favourites=on", "/gallery/?who=mine"])
def test_what_names_the_viewer_is_never_shared_with_another(
    browser, user, other_user, source_image, path
):
    mine, theirs = make(user, source_image), make(other_user, source_image)
    Favourite.objects.create(user=user, generation=mine)
    Favourite.objects.create(user=other_user, generation=theirs)
    assert shown(browser.get(path)) == [mine.pk]
    assert shown(viewer(other_user).get(path)) == [theirs.pk]


def test_whoever_changes_something_sees_it_on_their_next_page(browser, user, source_image):
    mine = make(user, source_image)
    assert 'aria-label="Favourite"' not in browser.get("/gallery/").content.decode()

    browser.post(f"/generations/{mine.pk}/favourite/", HTTP_HX_REQUEST="true")
    assert 'aria-label="Favourite"' in browser.get("/gallery/").content.decode()
    assert shown(browser.get("/gallery/?favourites=on")) == [mine.pk]


@pytest.mark.parametrize("hidden_run", [3, gallery.PAGE_SIZE * 2 + 5])
def test_pages_skip_what_the_viewer_may_not_see_without_gaps_or_repeats(
    browser, user, other_user, reviewer, source_image, hidden_run
):
    """Others' flagged work is read with the team's rows and left out per viewer: pages may
    come out shorter, but loading more walks every visible row once, even past a window the
    viewer may see nothing of."""
    visible = [make(user, source_image) for _ in range(gallery.PAGE_SIZE)]
    for _ in range(hidden_run):
        make(other_user, source_image).review(reviewer, ReviewState.FLAGGED)
    visible += [make(user, source_image) for _ in range(gallery.PAGE_SIZE + 2)]

    seen, url = [], "/gallery/"
    while url:
        response = browser.get(url, HTTP_HX_REQUEST="true")
        seen += shown(response)
        url = response.context["more_url"]
    assert seen == [row.pk for row in reversed(visible)]


def test_a_filter_that_makes_no_sense_is_named_next_to_its_field_and_nothing_is_hidden(
    browser, user, source_image
):
    made = make(user, source_image)
    for _ in range(2):  # the second answer comes from what the first one kept
        response = browser.get("/gallery/?since=yesterday&status=bogus&q=scene")
        assert response.status_code == 200
        html = response.content.decode()
        assert '<small class="error" id="id_since-error">Enter a valid date.</small>' in html
        assert 'id="id_status-error">Select a valid choice.' in html
        assert shown(response) == [made.pk]


@pytest.mark.parametrize(
    "q, message",
    [
        ("x" * 201, "Search with at most 200 characters (this has 201)."),
        (" ".join(["dusk"] * 21), "Search with at most 20 words (this has 21)."),
    ],
)
def test_a_search_too_long_is_named_next_to_its_field_and_nothing_is_hidden(
    browser, user, source_image, q, message
):
    made = make(user, source_image)
    response = browser.get("/gallery/", {"q": q})
    assert response.status_code == 200
    assert f'<small class="error" id="id_q-error">{message}</small>' in response.content.decode()
    assert shown(response) == [made.pk]


def test_a_search_within_the_bounds_is_searched(browser, user, source_image):
    hit = make(user, source_image, " ".join(["dusk"] * 20))
    make(user, source_image, "noon")
    assert shown(browser.get("/gallery/", {"q": " ".join(["dusk"] * 20)})) == [hit.pk]
    longest = browser.get("/gallery/", {"q": "x" * 200})
    assert shown(longest) == [] and 'id="id_q-error"' not in longest.content.decode()


@pytest.mark.parametrize(
    "cursor",
    [
        "2024-13-45T00:00:00_5",  # no such day
        "2024-01-01T00:00:00%2B25:00_5",  # no such offset
        "0001-01-01T00:00:00%2B14:00_5",  # before the year 1 in UTC
        "2024-01-01T00:00:00_%C2%B2",  # a superscript two is a digit, not a number
        "2024-01-01T00:00:00_5",  # no offset: the studio's time zone
    ],
)
def test_a_cursor_no_page_made_shows_a_page_rather_than_an_error(
    browser, user, source_image, cursor
):
    made = make(user, source_image, created_at=timezone.now() - timedelta(days=1))
    response = browser.get(f"/gallery/?after={cursor}")
    assert response.status_code == 200
    assert shown(response) in ([made.pk], [])


@pytest.mark.parametrize(
    "field, day, message",
    [
        ("until", "9999-12-31", "Ensure this value is less than or equal to 9998-12-31."),
        ("since", "0001-01-01", "Ensure this value is greater than or equal to 1970-01-01."),
    ],
)
def test_a_day_beyond_what_the_gallery_can_hold_is_named_next_to_its_field(
    browser, user, source_image, field, day, message
):
    made = make(user, source_image)
    response = browser.get(f"/gallery/?{field}={day}")
    assert response.status_code == 200
    assert (
        f'<small class="error" id="id_{field}-error">{message}</small>' in response.content.decode()
    )
    assert shown(response) == [made.pk]


def test_hidden_work_never_pushes_visible_work_off_the_first_page(
    browser, user, other_user, reviewer, source_image
):
    older = make(user, source_image)
    for _ in range(gallery.PAGE_SIZE * 2 + 1):
        make(other_user, source_image).review(reviewer, ReviewState.FLAGGED)
    page = browser.get("/gallery/")
    assert shown(page) == [older.pk] and not page.context["more_url"]
