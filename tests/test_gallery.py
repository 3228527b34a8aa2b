"""The gallery: filters in the URL, keyset pages with a constant number of queries."""

from datetime import timedelta
from functools import partial

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from generations.models import (
    Favourite,
    Generation,
    GenerationLora,
    ReviewState,
    Status,
)
from lib.database import refresh_statistics
from studio import gallery

from .support.plans import sqlite_plan
from .support.tiles import load_more_url, tile_ids


@pytest.fixture
def make_video(make_generation):
    """make_video(owner=maya, **fields): finished work, which is what the gallery lists."""
    return partial(make_generation, status=Status.SUCCEEDED, prompt="a scene")


def test_newest_first_and_oldest_first(make_video, member_client):
    first, second = make_video(), make_video()
    assert tile_ids(member_client.get("/gallery/")) == [second.pk, first.pk]
    assert tile_ids(member_client.get("/gallery/?sort=oldest")) == [first.pk, second.pk]


def test_search_matches_every_word_in_the_prompt(make_video, member_client):
    hit = make_video(prompt="harbour at dusk, boats")
    make_video(prompt="harbour at noon")
    assert tile_ids(member_client.get("/gallery/?q=dusk+harbour")) == [hit.pk]


def test_filter_by_person(make_video, member_client, other_user):
    mine, theirs = make_video(), make_video(other_user)
    assert tile_ids(member_client.get("/gallery/?who=mine")) == [mine.pk]
    assert tile_ids(member_client.get("/gallery/?who=noor")) == [theirs.pk]
    assert set(tile_ids(member_client.get("/gallery/"))) == {mine.pk, theirs.pk}


def test_filter_by_state_review_lora_and_favourites(make_video, member_client, user):
    approved = make_video(review_state=ReviewState.APPROVED)
    styled = make_video()
    GenerationLora.objects.create(generation=styled, position=1, path="Remade-AI/Painting", scale=1)
    failed = make_video(status=Status.FAILED)
    Favourite.toggle(user, styled)

    assert tile_ids(member_client.get("/gallery/")) == [styled.pk, approved.pk]
    assert tile_ids(member_client.get("/gallery/?status=failed")) == [failed.pk]
    assert tile_ids(member_client.get("/gallery/?review=approved")) == [approved.pk]
    assert tile_ids(member_client.get("/gallery/?lora=Remade-AI/Painting")) == [styled.pk]
    assert tile_ids(member_client.get("/gallery/?favourites=on")) == [styled.pk]


def test_favourites_only_are_the_viewers_own(make_video, member_client, client_for, other_user):
    mine, theirs = make_video(), make_video()
    Favourite.toggle(mine.owner, mine)
    Favourite.toggle(other_user, theirs)
    assert tile_ids(member_client.get("/gallery/?favourites=on&sort=oldest")) == [mine.pk]
    assert tile_ids(client_for(other_user).get("/gallery/?favourites=on")) == [theirs.pk]


@pytest.mark.skipif(connection.vendor != "sqlite", reason="SQLite's query plan")
def test_favourites_are_read_from_the_persons_favourites_not_by_walking_the_history(
    make_video, user
):
    """Checked row by row, favourites of one LoRA walked all 1,000,000 rows (1 s). SQLite
    starts from the favourites once its statistics know the history is the larger table."""
    made = [make_video() for _ in range(40)]
    Favourite.toggle(user, made[0])
    assert refresh_statistics()
    values = {"favourites": True, "lora": "Remade-AI/Painting"}
    rows = gallery.filtered(Generation.objects.visible_to(user), values, user)
    plan = sqlite_plan(gallery.after_position(rows, None, "oldest")[:25])
    assert "favourite" in plan.split("SEARCH")[1] and "gallery_" not in plan


def test_filter_by_date_range(make_video, member_client):
    old = make_video(created_at=timezone.now() - timedelta(days=10))
    new = make_video()
    since = (timezone.now() - timedelta(days=2)).date().isoformat()
    until = (timezone.now() - timedelta(days=5)).date().isoformat()
    assert tile_ids(member_client.get(f"/gallery/?since={since}")) == [new.pk]
    assert tile_ids(member_client.get(f"/gallery/?until={until}")) == [old.pk]


def test_flagged_outputs_of_others_are_not_listed(make_video, member_client, other_user, reviewer):
    theirs = make_video(other_user)
    theirs.review(reviewer, ReviewState.FLAGGED)
    assert tile_ids(member_client.get("/gallery/")) == []


def test_load_more_follows_pages_without_gaps_or_repeats_and_keeps_the_filters(
    make_video, member_client
):
    made = [make_video() for _ in range(gallery.PAGE_SIZE * 2 + 3)]
    make_video(prompt="not matching the search")
    seen, url = [], "/gallery/?q=scene&sort=oldest"
    while url:
        response = member_client.get(url, HTTP_HX_REQUEST="true")
        seen += tile_ids(response)
        url = load_more_url(response)
    assert seen == [row.pk for row in made]


def queries_for_a_page(browser, path):
    with CaptureQueriesContext(connection) as queries:
        assert browser.get(path).status_code == 200
    return len(queries)


def test_query_count_does_not_grow_with_rows(make_video, member_client, user, other_user, settings):
    for _ in range(5):
        make_video()
    small = queries_for_a_page(member_client, "/gallery/?q=scene&sort=oldest")
    deep_small = queries_for_a_page(member_client, "/gallery/?who=mine")

    for index in range(300):
        make_video(user if index % 2 else other_user)

    assert queries_for_a_page(member_client, "/gallery/?q=scene&sort=oldest") == small
    assert queries_for_a_page(member_client, "/gallery/?who=mine") == deep_small


def test_batch_page_is_a_grid_of_prompt_by_seed(member_client, source_image):
    member_client.post(
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

    response = member_client.get(f"/batches/{batch.pk}/")

    assert response.context["columns"] == [(7, None), (8, None)]
    assert [prompt for prompt, _ in response.context["grid"]] == ["waves", "clouds"]
    assert all(all(cells) for _, cells in response.context["grid"])


def test_favourite_toggles(make_video, member_client, user):
    generation = make_video()
    member_client.post(f"/generations/{generation.pk}/favourite/")
    assert Favourite.objects.filter(user=user, generation=generation).exists()
    member_client.post(f"/generations/{generation.pk}/favourite/")
    assert not Favourite.objects.exists()


def test_owner_deletes_after_confirming_and_files_go_too(
    member_client, finished, media_root, django_capture_on_commit_callbacks
):
    video = media_root / finished.video.name
    assert (
        "cannot be undone"
        in member_client.get(f"/generations/{finished.pk}/delete/").content.decode()
    )
    assert Generation.objects.filter(pk=finished.pk).exists() and video.exists()

    with django_capture_on_commit_callbacks(execute=True):
        member_client.post(f"/generations/{finished.pk}/delete/")

    assert not Generation.objects.filter(pk=finished.pk).exists()
    assert not video.exists()


def test_someone_else_cannot_delete(finished, client_for, other_user):
    assert client_for(other_user).post(f"/generations/{finished.pk}/delete/").status_code == 403
    assert Generation.objects.filter(pk=finished.pk).exists()


def test_download_is_named_after_the_prompt(member_client, finished):
    response = member_client.get(f"/generations/{finished.pk}/video.mp4?download=1")
    assert f'filename="p-{finished.pk}.mp4"' in response["Content-Disposition"]


def test_every_change_shows_on_the_next_page(make_video, member_client, user, reviewer):
    first, second = make_video(), make_video()
    member_client.get("/gallery/")

    second.review(reviewer, ReviewState.APPROVED)
    Favourite.objects.create(user=user, generation=first)
    html = member_client.get("/gallery/").content.decode()
    assert "review-approved" in html and 'class="star on"' in html

    Favourite.objects.filter(user=user).delete()
    html = member_client.get("/gallery/").content.decode()
    assert 'class="star on"' not in html and "review-approved" in html


def test_a_card_links_to_its_page_and_video_and_names_its_review(
    make_video, member_client, reviewer
):
    made = make_video(video="videos/v.mp4")
    made.review(reviewer, ReviewState.APPROVED)
    html = member_client.get("/gallery/").content.decode()
    assert f'<a href="/generations/{made.pk}/" class="tile-link"' in html
    assert f'data-preview="/generations/{made.pk}/video.mp4"' in html
    assert '<span class="badge review-approved">Approved</span>' in html


def test_the_filter_bar_keeps_the_url_and_offers_teammates_and_presets(member_client, other_user):
    from generations.models import LoraPreset

    LoraPreset.objects.create(name="Ink", path="studio/ink.safetensors")
    html = member_client.get("/gallery/?who=" + other_user.username + "&q=dusk").content.decode()
    assert f'<option value="{other_user.username}" selected>' in html
    assert 'value="dusk"' in html and '<option value="studio/ink.safetensors">' in html
    html = member_client.get("/gallery/?q=dawn").content.decode()
    assert 'value="dawn"' in html and f'<option value="{other_user.username}" >' in html


def test_a_card_shows_each_viewer_their_own_favourites(
    member_client, client_for, make_video, user, other_user
):
    shared = make_video()
    Favourite.objects.create(user=user, generation=shared)
    assert 'class="star on"' in member_client.get("/gallery/").content.decode()
    assert 'class="star on"' not in client_for(other_user).get("/gallery/").content.decode()


@pytest.mark.live  # runs in the PostgreSQL pass of `make test`
@pytest.mark.skipif(connection.vendor != "postgresql", reason="a PostgreSQL index")
def test_prompt_search_has_a_trigram_index_on_postgresql(make_video, member_client):
    wanted = make_video(prompt="a lighthouse in fog")
    make_video(prompt="a harbour at dusk")
    with connection.cursor() as cursor:
        cursor.execute("SELECT indexdef FROM pg_indexes WHERE indexname = 'gallery_prompt_search'")
        assert "gin_trgm_ops" in cursor.fetchone()[0]
    assert tile_ids(member_client.get("/gallery/?q=LIGHTHOUSE")) == [wanted.pk]


# --- each viewer's own page ----------------------------------------------------------------


def test_each_viewer_sees_their_own_flagged_work_and_favourites(
    client_for, make_video, member_client, user, other_user, reviewer, admin_user
):
    plain, flagged = make_video(), make_video()
    flagged.review(reviewer, ReviewState.FLAGGED)
    Favourite.objects.create(user=other_user, generation=plain)
    assert tile_ids(member_client.get("/gallery/")) == [flagged.pk, plain.pk]  # the owner sees it

    page = client_for(other_user).get("/gallery/")
    assert tile_ids(client_for(admin_user).get("/gallery/")) == [flagged.pk, plain.pk]
    assert tile_ids(page) == [plain.pk]  # flagged work of others is not theirs to see
    assert 'class="star on"' in page.content.decode()  # their favourite, not the owner's
    assert 'class="star on"' not in member_client.get("/gallery/").content.decode()


def test_a_flag_hides_a_video_from_the_team_on_their_very_next_page(
    client_for, make_video, other_user, reviewer
):
    video = make_video()
    teammate = client_for(other_user)
    assert tile_ids(teammate.get("/gallery/")) == [video.pk]
    video.review(reviewer, ReviewState.FLAGGED)
    assert tile_ids(teammate.get("/gallery/")) == []


@pytest.mark.parametrize("path", ["/gallery/?favourites=on", "/gallery/?who=mine"])
def test_what_names_the_viewer_is_never_shared_with_another(
    client_for, make_video, member_client, user, other_user, path
):
    mine, theirs = make_video(), make_video(other_user)
    Favourite.objects.create(user=user, generation=mine)
    Favourite.objects.create(user=other_user, generation=theirs)
    assert tile_ids(member_client.get(path)) == [mine.pk]
    assert tile_ids(client_for(other_user).get(path)) == [theirs.pk]


def test_whoever_changes_something_sees_it_on_their_next_page(make_video, member_client):
    mine = make_video()
    assert 'class="star on"' not in member_client.get("/gallery/").content.decode()

    member_client.post(f"/generations/{mine.pk}/favourite/", HTTP_HX_REQUEST="true")
    assert 'class="star on"' in member_client.get("/gallery/").content.decode()
    assert tile_ids(member_client.get("/gallery/?favourites=on")) == [mine.pk]


@pytest.mark.parametrize("hidden_run", [3, gallery.PAGE_SIZE * 2 + 5])
def test_pages_skip_what_the_viewer_may_not_see_without_gaps_or_repeats(
    make_video, member_client, other_user, reviewer, hidden_run
):
    """Others' flagged work is read with the team's rows and left out per viewer: pages may
    come out shorter, but loading more walks every visible row once, even past a window the
    viewer may see nothing of."""
    visible = [make_video() for _ in range(gallery.PAGE_SIZE)]
    for _ in range(hidden_run):
        make_video(other_user).review(reviewer, ReviewState.FLAGGED)
    visible += [make_video() for _ in range(gallery.PAGE_SIZE + 2)]

    seen, url = [], "/gallery/"
    while url:
        response = member_client.get(url, HTTP_HX_REQUEST="true")
        seen += tile_ids(response)
        url = load_more_url(response)
    assert seen == [row.pk for row in reversed(visible)]


def test_a_filter_that_makes_no_sense_is_named_next_to_its_field_and_nothing_is_hidden(
    make_video, member_client
):
    made = make_video()
    for _ in range(2):  # the second answer comes from what the first one kept
        response = member_client.get("/gallery/?since=yesterday&status=bogus&q=scene")
        assert response.status_code == 200
        html = response.content.decode()
        assert '<small class="error" id="id_since-error">Enter a valid date.</small>' in html
        assert 'id="id_status-error">Select a valid choice.' in html
        assert tile_ids(response) == [made.pk]


@pytest.mark.parametrize(
    "q, message",
    [
        ("x" * 201, "Search with at most 200 characters (this has 201)."),
        (" ".join(["dusk"] * 21), "Search with at most 20 words (this has 21)."),
    ],
)
def test_a_search_too_long_is_named_next_to_its_field_and_nothing_is_hidden(
    make_video, member_client, q, message
):
    made = make_video()
    response = member_client.get("/gallery/", {"q": q})
    assert response.status_code == 200
    assert f'<small class="error" id="id_q-error">{message}</small>' in response.content.decode()
    assert tile_ids(response) == [made.pk]


def test_a_search_within_the_bounds_is_searched(make_video, member_client):
    hit = make_video(prompt=" ".join(["dusk"] * 20))
    make_video(prompt="noon")
    assert tile_ids(member_client.get("/gallery/", {"q": " ".join(["dusk"] * 20)})) == [hit.pk]
    longest = member_client.get("/gallery/", {"q": "x" * 200})
    assert tile_ids(longest) == [] and 'id="id_q-error"' not in longest.content.decode()


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
def test_a_cursor_no_page_made_shows_a_page_rather_than_an_error(make_video, member_client, cursor):
    made = make_video(created_at=timezone.now() - timedelta(days=1))
    response = member_client.get(f"/gallery/?after={cursor}")
    assert response.status_code == 200
    assert tile_ids(response) in ([made.pk], [])


@pytest.mark.parametrize(
    "field, day, message",
    [
        ("until", "9999-12-31", "Ensure this value is less than or equal to 9998-12-31."),
        ("since", "0001-01-01", "Ensure this value is greater than or equal to 1970-01-01."),
    ],
)
def test_a_day_beyond_what_the_gallery_can_hold_is_named_next_to_its_field(
    make_video, member_client, field, day, message
):
    made = make_video()
    response = member_client.get(f"/gallery/?{field}={day}")
    assert response.status_code == 200
    assert (
        f'<small class="error" id="id_{field}-error">{message}</small>' in response.content.decode()
    )
    assert tile_ids(response) == [made.pk]


def test_hidden_work_never_pushes_visible_work_off_the_first_page(
    make_video, member_client, other_user, reviewer
):
    older = make_video()
    for _ in range(gallery.PAGE_SIZE * 2 + 1):
        make_video(other_user).review(reviewer, ReviewState.FLAGGED)
    page = member_client.get("/gallery/")
    assert tile_ids(page) == [older.pk] and load_more_url(page) is None


def test_a_tiles_star_is_the_button_its_click_swaps_in(make_video, member_client):
    """The tiles are a Jinja2 template (studio/jinja2/); the star the favourite toggle answers
    with is a Django one. Both must write the same button, on and off."""
    made = make_video()
    for _ in ("on", "off"):
        swapped_in = member_client.post(
            f"/generations/{made.pk}/favourite/", {"look": "star"}, HTTP_HX_REQUEST="true"
        ).content.decode()
        tile = member_client.get("/gallery/").content.decode()
        assert swapped_in.strip().startswith('<button type="button" class="star')
        assert swapped_in.strip() in tile


def test_a_tiles_duration_reads_as_floatformat_writes_it_elsewhere():
    """The tiles' `seconds` stands in for floatformat:1 (a third of the tiles' cost): the same
    text for every length a clip can have (frames at 16 or 32 fps) and for halves."""
    from django.template.defaultfilters import floatformat

    from studio.jinja import seconds

    lengths = [frames / fps for fps in (16, 32) for frames in range(0, 2000)]
    lengths += [0.05, 0.15, 0.25, 2.25, 2.35, 9.95, 10.0, 123.456]
    assert [seconds(value) for value in lengths] == [floatformat(value, 1) for value in lengths]


@pytest.mark.skipif(connection.vendor != "sqlite", reason="SQLite's query plan")
@pytest.mark.parametrize("sort", [None, "oldest"])
def test_a_review_filter_reads_its_own_index_even_when_nothing_matches(make_video, user, sort):
    """Flagged work a member may not see, or approved failures, match nothing: read through
    the status index they walked the whole history (59 ms at 100,000 generations, 0.9 s when
    the file was not yet in memory)."""
    for _ in range(40):
        make_video()
    assert refresh_statistics()
    for values in ({"review": ReviewState.FLAGGED}, {"review": "approved", "status": "failed"}):
        rows = gallery.filtered(Generation.objects.visible_to(user), values, user)
        plan = sqlite_plan(gallery.after_position(rows, None, sort)[:25])
        assert "gallery_by_review" in plan and "TEMP B-TREE" not in plan
