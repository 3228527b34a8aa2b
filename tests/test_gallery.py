"""The gallery: filters in the URL, keyset pages with a constant number of queries."""

import time
from datetime import timedelta

import pytest
from django.core.cache import caches
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from django.utils.html import escape

from generations import gallery
from generations.models import (
    ApiToken,
    Favourite,
    Generation,
    GenerationLora,
    ReviewState,
    Status,
)


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
    """With no card rendered before: the most a page can take."""
    caches["local"].clear()
    with CaptureQueriesContext(connection) as queries:
        assert browser.get(path).status_code == 200
    return len(queries)


def test_query_count_does_not_grow_with_rows(browser, user, other_user, source_image, settings):
    settings.GALLERY_FRESHNESS = 0  # every page reads its rows: count what a read costs
    for _ in range(5):
        make(user, source_image)
    browser.get("/gallery/")  # reads the filter bar's choices, kept for a minute
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


def card_renders(response):
    return [t.name for t in response.templates].count("generations/partials/gallery_card.html")


def test_cards_are_rendered_once_and_show_every_change(
    browser, user, reviewer, source_image, settings
):
    settings.GALLERY_FRESHNESS = 0  # every page reads its rows: the cards are what is reused
    first, second = make(user, source_image), make(user, source_image)
    assert card_renders(browser.get("/gallery/")) == 2
    assert card_renders(browser.get("/gallery/")) == 0  # both reused as they were

    second.review(reviewer, ReviewState.APPROVED)
    Favourite.objects.create(user=user, generation=first)
    page = browser.get("/gallery/")
    assert card_renders(page) == 2
    html = page.content.decode()
    assert "review-approved" in html and 'aria-label="Favourite"' in html

    Favourite.objects.filter(user=user).delete()
    html = browser.get("/gallery/").content.decode()
    assert 'aria-label="Favourite"' not in html and "review-approved" in html


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


def test_people_who_favourited_a_card_share_its_rendering(browser, user, other_user, source_image):
    shared = make(user, source_image)
    Favourite.objects.create(user=user, generation=shared)
    Favourite.objects.create(user=other_user, generation=shared)
    assert card_renders(browser.get("/gallery/")) == 1
    theirs = Client()
    theirs.force_login(other_user)
    page = theirs.get("/gallery/")
    assert card_renders(page) == 0 and 'aria-label="Favourite"' in page.content.decode()


# --- one read of a page shared by the team for a moment ------------------------------------


def generation_reads(queries):
    return [query for query in queries if 'FROM "generations_generation"' in query["sql"]]


def viewer(person):
    client = Client()
    client.force_login(person)
    return client


def test_viewers_share_a_read_each_seeing_their_own_flagged_work_and_favourites(
    browser, user, other_user, reviewer, admin_user, source_image, settings
):
    settings.GALLERY_FRESHNESS = 5
    plain, flagged = make(user, source_image), make(user, source_image)
    flagged.review(reviewer, ReviewState.FLAGGED)
    Favourite.objects.create(user=other_user, generation=plain)
    assert shown(browser.get("/gallery/")) == [flagged.pk, plain.pk]  # the owner sees it

    teammate, admin = viewer(other_user), viewer(admin_user)
    with CaptureQueriesContext(connection) as queries:
        page = teammate.get("/gallery/")
        assert shown(admin.get("/gallery/")) == [flagged.pk, plain.pk]  # may see flagged work
    assert generation_reads(queries) == []
    assert shown(page) == [plain.pk]  # flagged work of others is not theirs to see
    assert 'aria-label="Favourite"' in page.content.decode()  # their favourite, not the owner's
    assert 'aria-label="Favourite"' not in browser.get("/gallery/").content.decode()


@pytest.mark.parametrize("path", ["/gallery/?favourites=on", "/gallery/?who=mine"])
def test_what_names_the_viewer_is_never_shared_with_another(
    browser, user, other_user, source_image, settings, path
):
    settings.GALLERY_FRESHNESS = 5
    mine, theirs = make(user, source_image), make(other_user, source_image)
    Favourite.objects.create(user=user, generation=mine)
    Favourite.objects.create(user=other_user, generation=theirs)
    assert shown(browser.get(path)) == [mine.pk]
    assert shown(viewer(other_user).get(path)) == [theirs.pk]


def test_a_new_video_shows_once_the_shared_read_is_older_than_the_freshness(
    browser, user, source_image, settings, monkeypatch
):
    settings.GALLERY_FRESHNESS = 5
    first = make(user, source_image)
    assert shown(browser.get("/gallery/")) == [first.pk]
    second = make(user, source_image)  # finished by the cluster, not by this person
    assert shown(browser.get("/gallery/")) == [first.pk]
    later = time.time() + 5.1  # the cache's clock too
    monkeypatch.setattr(time, "time", lambda: later)
    assert shown(browser.get("/gallery/")) == [second.pk, first.pk]


def test_whoever_changes_something_sees_it_on_their_next_page(
    browser, user, other_user, source_image, settings
):
    settings.GALLERY_FRESHNESS = 5
    mine = make(user, source_image)
    assert 'aria-label="Favourite"' not in browser.get("/gallery/").content.decode()

    answer = browser.post(f"/generations/{mine.pk}/favourite/", HTTP_HX_REQUEST="true")
    assert answer.cookies["studio_wrote"]["httponly"]
    assert 'aria-label="Favourite"' in browser.get("/gallery/").content.decode()
    assert shown(browser.get("/gallery/?favourites=on")) == [mine.pk]


def test_a_write_stamp_older_than_the_shared_read_does_not_bypass_it(
    browser, user, source_image, settings
):
    settings.GALLERY_FRESHNESS = 5
    make(user, source_image)
    browser.get("/gallery/")  # the shared read
    for stamp, reads in [(time.time() - 30, 0), (time.time(), 1), (float("inf"), 0)]:
        browser.cookies["studio_wrote"] = str(stamp)
        with CaptureQueriesContext(connection) as queries:
            browser.get("/gallery/")
        assert len(generation_reads(queries)) == reads, stamp


def test_no_write_stamp_on_a_page_read_a_refused_change_or_a_change_without_a_session(
    browser, user, other_user, source_image
):
    mine = make(user, source_image)
    assert "studio_wrote" not in browser.get("/gallery/").cookies
    refused = viewer(other_user).post(f"/generations/{mine.pk}/delete/")
    assert refused.status_code == 403 and "studio_wrote" not in refused.cookies
    token = ApiToken.issue(user)
    answer = Client().post(
        f"/generations/{mine.pk}/favourite/", HTTP_AUTHORIZATION=f"Token {token.key}"
    )
    assert answer.status_code < 400 and "studio_wrote" not in answer.cookies


@pytest.mark.parametrize("hidden_run", [3, gallery.WINDOW + 5])
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


def test_a_first_page_of_only_hidden_work_offers_more_instead_of_saying_nothing_matches(
    browser, user, other_user, reviewer, source_image
):
    older = make(user, source_image)
    for _ in range(gallery.WINDOW + 1):
        make(other_user, source_image).review(reviewer, ReviewState.FLAGGED)
    page = browser.get("/gallery/")
    assert shown(page) == [] and page.context["more_url"]
    assert "Nothing matches" not in page.content.decode()
    assert shown(browser.get(page.context["more_url"], HTTP_HX_REQUEST="true")) == [older.pk]
