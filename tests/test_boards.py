"""Boards and tags: made and edited on their pages, filled from the gallery's selection, the
detail page and the Studio form (a batch lands whole), the gallery filtered by board and by tag,
a board's spend read from the ledger and its monthly budget enforced like a person's."""

from datetime import timedelta
from decimal import Decimal
from functools import partial

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from generations import boards
from generations.models import (
    Board,
    BoardItem,
    Generation,
    GenerationTag,
    LedgerEntry,
    ReviewState,
    Share,
    ShareKind,
    Status,
    Tag,
)
from studio import gallery

from .support.plans import sqlite_plan
from .support.tiles import load_more_url, tile_ids

PRICES = {"480p": "0.20", "480p_fast": "0.10", "720p": "0.40", "720p_fast": "0.30"}


@pytest.fixture(autouse=True)
def prices(settings):
    settings.WAN_PRICE_TABLE = PRICES


@pytest.fixture
def make_video(make_generation):
    """make_video(owner=maya, **fields): finished work, which is what the gallery lists (its
    files' names only: no page here reads them)."""
    return partial(
        make_generation,
        status=Status.SUCCEEDED,
        prompt="a scene",
        video="videos/v.mp4",
        poster="posters/p.jpg",
    )


@pytest.fixture
def board(user):
    return Board.objects.create(name="Harbour campaign", created_by=user)


def on_board(board):
    return set(board.items.values_list("generation_id", flat=True))


# --- making and editing boards ---------------------------------------------------------------


def test_a_member_makes_a_board_and_finds_it_on_the_boards_page(member_client, user):
    response = member_client.post(
        "/boards/", {"name": "  Client  X ", "description": "Spring launch"}
    )

    board = Board.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/boards/{board.pk}/"
    assert (board.name, board.description, board.created_by) == ("Client X", "Spring launch", user)
    page = member_client.get("/boards/").content.decode()
    assert f'href="/boards/{board.pk}/">Client X</a>' in page


def test_a_duplicate_board_name_is_refused_beside_the_name_whatever_its_case(member_client, board):
    response = member_client.post("/boards/", {"name": "harbour CAMPAIGN"})

    assert response.status_code == 400
    assert response.context["form"].errors == {
        "name": ["A board named “Harbour campaign” already exists."]
    }
    assert 'id="id_name-error">A board named' in response.content.decode()
    assert Board.objects.count() == 1


def test_a_board_needs_a_name(member_client, db):
    response = member_client.post("/boards/", {"name": "   "})
    assert response.status_code == 400
    assert "name" in response.context["form"].errors
    assert not Board.objects.exists()


def test_only_who_manages_the_studio_sets_a_board_budget(member_client, admin_client, board):
    member_client.post(f"/boards/{board.pk}/edit/", {"name": "Renamed", "monthly_limit": "9"})
    board.refresh_from_db()
    assert (board.name, board.monthly_limit) == ("Renamed", None)
    assert 'name="monthly_limit"' not in member_client.get(f"/boards/{board.pk}/").content.decode()

    admin_client.post(f"/boards/{board.pk}/edit/", {"name": "Renamed", "monthly_limit": "5.50"})
    board.refresh_from_db()
    assert board.monthly_limit == Decimal("5.50")


def test_a_bad_budget_is_refused_beside_its_field(admin_client, board):
    response = admin_client.post(f"/boards/{board.pk}/edit/", {"name": "x", "monthly_limit": "-1"})
    assert response.status_code == 400
    assert "monthly_limit" in response.context["form"].errors
    board.refresh_from_db()
    assert board.name == "Harbour campaign"


# --- putting work on boards ------------------------------------------------------------------


def test_the_gallery_selection_goes_on_a_board_once(member_client, make_video, board):
    first, second = make_video(), make_video()
    selection = {"ids": [first.pk, second.pk], "board": board.pk}

    response = member_client.post("/gallery/selection/board/", selection)
    member_client.post("/gallery/selection/board/", selection)

    assert response.status_code == 302
    assert on_board(board) == {first.pk, second.pk}
    assert BoardItem.objects.count() == 2


def test_adding_the_selection_goes_back_to_the_filtered_gallery(member_client, make_video, board):
    video = make_video()
    response = member_client.post(
        "/gallery/selection/board/",
        {"ids": [video.pk], "board": board.pk},
        HTTP_REFERER="http://testserver/gallery/?q=scene",
    )
    assert response["Location"] == "/gallery/?q=scene"


def test_the_gallery_viewer_puts_the_video_on_show_on_a_board(member_client, make_video, board):
    video = make_video()
    assert b'id="viewer-board"' in member_client.get("/gallery/").content

    said = member_client.post(
        "/gallery/selection/board/", {"ids": [video.pk], "board": board.pk}, HTTP_HX_REQUEST="true"
    )
    refused = member_client.post(
        "/gallery/selection/board/", {"ids": [video.pk], "board": "999"}, HTTP_HX_REQUEST="true"
    )

    assert (said.status_code, said.content.decode()) == (
        200,
        f"1 added to “{board}” (0 already there).",
    )
    assert refused.status_code == 400 and "no such board" in refused.content.decode()
    assert on_board(board) == {video.pk}
    assert b"added to" not in member_client.get("/gallery/").content  # no message left over


def test_the_selection_without_a_board_says_so(member_client, make_video, db):
    video = make_video()
    response = member_client.post(
        "/gallery/selection/board/", {"ids": [video.pk], "board": "999"}, follow=True
    )
    assert "There is no such board" in response.content.decode()
    assert not BoardItem.objects.exists()


def test_a_flagged_video_of_someone_else_is_neither_added_nor_shown_to_a_member(
    member_client, admin_user, make_video, other_user, reviewer, board
):
    theirs = make_video(other_user)
    theirs.review(reviewer, ReviewState.FLAGGED)

    member_client.post("/gallery/selection/board/", {"ids": [theirs.pk], "board": board.pk})
    assert on_board(board) == set()

    boards.add_to_board(board, [theirs.pk], admin_user)
    assert on_board(board) == {theirs.pk}
    assert tile_ids(member_client.get(f"/boards/{board.pk}/")) == []
    assert tile_ids(member_client.get(f"/gallery/?board={board.pk}")) == []
    summary = boards.overview(member_client.get("/boards/").wsgi_request.user)[0]
    assert (summary.item_count, summary.cover) == (0, None)


def test_the_detail_page_adds_and_takes_off_a_board(member_client, make_video, board):
    video = make_video()

    response = member_client.post(f"/generations/{video.pk}/boards/", {"board": board.pk})
    assert response.status_code == 302 and on_board(board) == {video.pk}
    page = member_client.get(f"/generations/{video.pk}/").content.decode()
    assert f'<a href="/boards/{board.pk}/">Harbour campaign</a>' in page

    response = member_client.post(
        f"/generations/{video.pk}/boards/",
        {"board": board.pk, "action": "remove"},
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 200 and 'id="organise"' in response.content.decode()
    assert on_board(board) == set()


def test_a_board_page_takes_items_off_and_picks_the_cover(member_client, make_video, board, user):
    older, newer = make_video(poster="posters/a.jpg"), make_video(poster="posters/b.jpg")
    boards.add_to_board(board, [older.pk, newer.pk], user)
    assert boards.cover_of(board, user) == newer  # the newest, until one is chosen

    member_client.post(f"/boards/{board.pk}/items/", {"ids": [older.pk], "action": "cover"})
    board.refresh_from_db()
    assert board.cover == older and boards.cover_of(board, user) == older

    member_client.post(f"/boards/{board.pk}/items/", {"ids": [newer.pk], "action": "remove"})
    assert on_board(board) == {older.pk}
    assert Generation.objects.filter(pk=newer.pk).exists()


# --- the gallery filtered by board and by tag -------------------------------------------------


def test_the_gallery_filtered_by_board_shows_exactly_its_items(
    member_client, make_video, board, user
):
    inside = [make_video(), make_video(status=Status.FAILED), make_video()]
    make_video()  # not on the board
    other = Board.objects.create(name="Other")
    boards.add_to_board(board, [row.pk for row in inside], user)
    boards.add_to_board(other, [inside[0].pk], user)

    newest_first = tile_ids(member_client.get(f"/gallery/?board={board.pk}"))
    assert newest_first == [inside[2].pk, inside[0].pk]
    assert tile_ids(member_client.get(f"/gallery/?board={board.pk}&status=all&sort=oldest")) == [
        row.pk for row in inside
    ]
    # The board's own page shows all of it, in any state.
    assert tile_ids(member_client.get(f"/boards/{board.pk}/")) == [row.pk for row in inside[::-1]]


def test_a_board_page_pages_by_keyset_without_gaps_or_repeats(
    member_client, make_video, board, user
):
    made = [make_video() for _ in range(gallery.PAGE_SIZE + 5)]
    # Same moment for two items: the id breaks the tie.
    Generation.objects.filter(pk=made[10].pk).update(created_at=made[11].created_at)
    boards.add_to_board(board, [row.pk for row in made], user)
    make_video()

    seen, url = [], f"/boards/{board.pk}/"
    while url:
        response = member_client.get(url, HTTP_HX_REQUEST="true")
        seen += tile_ids(response)
        url = load_more_url(response)
    assert sorted(seen) == sorted(row.pk for row in made) and len(seen) == len(set(seen))


@pytest.mark.parametrize(
    "after", ["x" * 5000, "2025-13-01T00:00:00_1", "9" * 30 + "_1", "_", "a%00b"]
)
def test_a_board_page_reads_a_bad_cursor_as_the_first_page(
    member_client, make_video, board, user, after
):
    boards.add_to_board(board, [make_video().pk], user)
    response = member_client.get(f"/boards/{board.pk}/?after={after}")
    assert response.status_code == 200 and len(tile_ids(response)) == 1


@pytest.mark.skipif(connection.vendor != "sqlite", reason="SQLite's query plan")
def test_a_board_is_read_from_its_own_index_in_the_gallerys_order(board):
    rows = gallery.on_board(Generation.objects.all(), board)
    plan = sqlite_plan(gallery.after_position(rows, None, None, gallery.BOARD_ORDER))
    assert "board_gallery" in plan and "TEMP B-TREE" not in plan


def test_the_gallery_filtered_by_tag_shows_exactly_those(member_client, make_video, user):
    hero, also, untagged = make_video(), make_video(), make_video()
    boards.tag([hero.pk], "Hero shot", user)
    boards.tag([also.pk], "hero SHOT", user)
    boards.tag([untagged.pk], "b-roll", user)

    assert tile_ids(member_client.get("/gallery/?tag=hero+shot")) == [also.pk, hero.pk]
    assert tile_ids(member_client.get("/gallery/?tag=b-roll")) == [untagged.pk]
    assert list(Tag.objects.values_list("name", flat=True)) == ["b-roll", "Hero shot"]


def test_board_and_tag_filters_together(member_client, make_video, board, user):
    both, only_board = make_video(), make_video()
    boards.add_to_board(board, [both.pk, only_board.pk], user)
    boards.tag([both.pk], "final", user)
    assert tile_ids(member_client.get(f"/gallery/?board={board.pk}&tag=final")) == [both.pk]


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("board=9999", "There is no such board"),
        ("board=abc", "There is no such board"),
        ("tag=nobody-uses-this", "No tag is called “nobody-uses-this”."),
        ("tag=" + "x" * 41, "A tag has at most 40 characters (this has 41)."),
    ],
)
def test_a_bad_board_or_tag_filter_is_a_clear_error_in_the_filter_bar(
    member_client, make_video, query, message
):
    make_video()
    response = member_client.get(f"/gallery/?{query}")
    assert response.status_code == 200
    assert message in response.content.decode()
    assert 'class="filters open"' in response.content.decode()


def test_the_filter_bar_offers_the_boards_and_existing_tags(member_client, make_video, board, user):
    boards.tag([make_video().pk], "Dusk", user)
    page = member_client.get(f"/gallery/?board={board.pk}").content.decode()
    assert f'<option value="{board.pk}" selected>Harbour campaign</option>' in page
    assert '<datalist id="tag-options">' in page and '<option value="Dusk">' in page


# --- tags ------------------------------------------------------------------------------------


def test_the_selection_is_tagged_and_the_tag_is_offered_for_autocomplete(member_client, make_video):
    first, second = make_video(), make_video()

    member_client.post("/gallery/selection/tag/", {"ids": [first.pk, second.pk], "tag": " Dusk "})

    tag = Tag.objects.get()
    assert tag.name == "Dusk"
    assert set(tag.generations.values_list("pk", flat=True)) == {first.pk, second.pk}
    assert boards.tag_names() == ["Dusk"] and boards.tag_names("du") == ["Dusk"]
    detail = member_client.get(f"/generations/{first.pk}/").content.decode()
    assert '<datalist id="organise-tag-options"><option value="Dusk"></datalist>' in detail


def test_tags_on_the_detail_page_are_added_and_removed(member_client, make_video):
    video = make_video()

    response = member_client.post(
        f"/generations/{video.pk}/tags/", {"tag": "Client review"}, HTTP_HX_REQUEST="true"
    )
    assert response.status_code == 200
    assert '?tag=Client%20review" title="The gallery with this tag">Client review</a>' in (
        response.content.decode()
    )

    member_client.post(
        f"/generations/{video.pk}/tags/", {"tag": "client REVIEW", "action": "remove"}
    )
    assert not GenerationTag.objects.exists()
    assert Tag.objects.filter(name="Client review").exists()  # still offered


@pytest.mark.parametrize(
    ("tag", "message"),
    [("   ", "Write a tag."), ("x" * 41, "A tag has at most 40 characters (this one has 41).")],
)
def test_an_empty_or_too_long_tag_is_refused_beside_the_field(
    member_client, make_video, tag, message
):
    video = make_video()

    response = member_client.post(f"/generations/{video.pk}/tags/", {"tag": tag})
    assert response.status_code == 400
    assert f'id="organise-tag-error">{message}</small>' in response.content.decode()

    response = member_client.post(
        "/gallery/selection/tag/", {"ids": [video.pk], "tag": tag}, follow=True
    )
    assert message in response.content.decode()
    assert not Tag.objects.exists()


def test_a_hidden_video_cannot_be_tagged(member_client, make_video, other_user, reviewer):
    theirs = make_video(other_user)
    theirs.review(reviewer, ReviewState.FLAGGED)
    assert member_client.post(f"/generations/{theirs.pk}/tags/", {"tag": "x"}).status_code == 404
    member_client.post("/gallery/selection/tag/", {"ids": [theirs.pk], "tag": "x"})
    assert not GenerationTag.objects.exists()


# --- submitting with a board -----------------------------------------------------------------


def test_a_submit_with_a_board_lands_the_whole_batch_on_it(member_client, source_image, board):
    response = member_client.post(
        "/",
        {
            "prompt": "waves\nclouds",
            "one_prompt_per_line": "on",
            "seed_count": "2",
            "source_image": source_image.pk,
            "board": board.pk,
        },
    )

    made = set(Generation.objects.values_list("pk", flat=True))
    assert response.status_code == 302 and len(made) == 4
    assert on_board(board) == made


def test_the_studio_form_offers_the_boards(member_client, board):
    page = member_client.get("/").content.decode()
    assert '<select name="board" id="id_board">' in page
    assert f'<option value="{board.pk}">Harbour campaign</option>' in page


def test_the_api_create_takes_a_board_and_answers_with_boards_and_tags(
    api_client, source_image, board, user
):
    response = api_client.post(
        "/api/generations/", {"prompt": "x", "source_image": source_image.pk, "board": board.pk}
    )

    assert response.status_code == 201
    body = response.json()
    assert (body["boards"], body["tags"]) == ([board.pk], [])
    boards.tag([body["id"]], "storm", user)
    assert api_client.get(f"/api/generations/{body['id']}/").json()["tags"] == ["storm"]


def test_an_unknown_board_in_the_api_create_is_a_400_naming_the_field(api_client, source_image):
    response = api_client.post(
        "/api/generations/", {"prompt": "x", "source_image": source_image.pk, "board": "9999"}
    )
    assert response.status_code == 400
    assert response.json()["errors"] == {"board": ["There is no board with this id."]}
    assert not Generation.objects.exists()


def test_the_api_list_reads_boards_and_tags_in_a_fixed_number_of_queries(
    api_client, make_video, board, user
):
    boards.add_to_board(board, [make_video().pk], user)
    with CaptureQueriesContext(connection) as one_row:
        api_client.get("/api/generations/")

    more = [make_video() for _ in range(20)]
    boards.add_to_board(board, [row.pk for row in more], user)
    boards.tag([row.pk for row in more], "many", user)
    with CaptureQueriesContext(connection) as many_rows:
        results = api_client.get("/api/generations/").json()["results"]

    assert len(many_rows) == len(one_row)
    assert results[0]["boards"] == [board.pk] and results[0]["tags"] == ["many"]


# --- money -----------------------------------------------------------------------------------


def test_a_board_budget_refuses_a_submit_that_would_pass_it(member_client, source_image, board):
    Board.objects.filter(pk=board.pk).update(monthly_limit=Decimal("0.50"))
    submit = {"prompt": "x", "source_image": source_image.pk, "board": board.pk}
    for _ in range(2):
        assert member_client.post("/", submit).status_code == 302

    response = member_client.post("/", submit)

    assert response.status_code == 400
    assert (
        "This would cost 0.20 USD, but the board “Harbour campaign” has a monthly budget of "
        "0.50 USD and has spent 0.40 USD this month." in response.content.decode()
    )
    assert Generation.objects.count() == 2


def test_a_batch_that_would_pass_the_board_budget_is_refused_whole(api_client, source_image, board):
    Board.objects.filter(pk=board.pk).update(monthly_limit=Decimal("0.50"))
    response = api_client.post(
        "/api/generations/",
        {"prompt": "a\nb\nc", "one_prompt_per_line": "on", "source_image": source_image.pk,
         "board": board.pk},
    )  # fmt: skip
    assert response.status_code == 400
    assert (
        "the board “Harbour campaign” has a monthly budget"
        in response.json()["errors"]["__all__"][0]
    )
    assert not Generation.objects.exists()


def test_a_submit_without_the_board_is_not_held_to_its_budget(member_client, source_image, board):
    Board.objects.filter(pk=board.pk).update(monthly_limit=Decimal("0"))
    assert (
        member_client.post("/", {"prompt": "x", "source_image": source_image.pk}).status_code == 302
    )


def test_a_boards_spend_reads_the_ledger_and_what_its_queued_work_holds(
    make_generation, board, user
):
    billed = make_generation(estimated_cost=Decimal("0.40"), accepted=True)
    queued = make_generation(estimated_cost=Decimal("0.20"))
    elsewhere = make_generation(estimated_cost=Decimal("1.00"), accepted=True)
    last_month = make_generation(estimated_cost=Decimal("0.40"), accepted=True)
    LedgerEntry.objects.filter(generation_id=last_month.pk).update(
        month=(timezone.now().replace(day=1) - timedelta(days=1)).date().replace(day=1)
    )
    boards.add_to_board(board, [billed.pk, queued.pk, last_month.pk], user)
    assert elsewhere.pk not in on_board(board)

    budget = boards.budget_of(board)

    assert (budget.charged, budget.held, budget.spent) == (
        Decimal("0.40"), Decimal("0.20"), Decimal("0.60"),
    )  # fmt: skip
    # What the API billed stays billed once it is no longer held.
    Generation.objects.filter(pk=billed.pk).update(status=Status.SUCCEEDED)
    assert boards.budget_of(board).spent == Decimal("0.60")
    assert boards.budgets_of([board])[board.pk].spent == Decimal("0.60")


def test_the_boards_page_shows_each_boards_spend_and_budget(
    admin_client, make_generation, board, user
):
    Board.objects.filter(pk=board.pk).update(monthly_limit=Decimal("2.00"))
    boards.add_to_board(
        board, [make_generation(estimated_cost=Decimal("0.50"), accepted=True).pk], user
    )

    page = admin_client.get("/boards/").content.decode()
    assert "Spent <strong>0.50</strong> of 2.00 USD this month" in page
    page = admin_client.get(f"/boards/{board.pk}/").content.decode()
    assert "Spent <strong>0.50</strong> of 2.00 USD this month" in page


def test_the_board_lock_is_taken_after_the_persons_and_before_the_board_spend_is_read(
    member_client, source_image, board
):
    """Parallel submits to a board are counted one after the other: under the person's lock,
    the board's row is locked (an UPDATE of itself, as costs.hold_budget does) before its
    spend is read, in the transaction that then queues the work. SQLite serialises writers
    anyway; this is the order that makes PostgreSQL do the same (the 300 parallel submits
    of tests/test_submit_concurrency.py hold a person's budget the same way)."""
    Board.objects.filter(pk=board.pk).update(monthly_limit=Decimal("5"))
    with CaptureQueriesContext(connection) as captured:
        member_client.post("/", {"prompt": "x", "source_image": source_image.pk, "board": board.pk})
    statements = [query["sql"] for query in captured.captured_queries]

    def first(*fragments):
        return next(n for n, sql in enumerate(statements) if all(part in sql for part in fragments))

    person_lock = first('UPDATE "generations_budget"')
    board_lock = first('UPDATE "generations_board" SET "monthly_limit" = "generations_board"')
    board_spend = first('FROM "generations_board"', '"generations_ledgerentry"')
    queued = first('INSERT INTO "generations_generation"')
    assert person_lock < board_lock < board_spend < queued


# --- what every POST asks for -----------------------------------------------------------------


@pytest.mark.parametrize(
    "path",
    ["/boards/", "/gallery/selection/board/", "/gallery/selection/tag/"],
)
def test_posts_need_the_csrf_token(client_for, user, path, board):
    browser = client_for(user, enforce_csrf_checks=True)
    assert browser.post(path, {"name": "new", "ids": "1", "tag": "x"}).status_code == 403


def test_boards_need_the_view_permission(client_for, make_user, board):
    nobody = client_for(make_user("guest", role=None))
    assert nobody.get("/boards/").status_code == 403
    assert nobody.get(f"/boards/{board.pk}/").status_code == 403
    assert nobody.post("/boards/", {"name": "sneaky"}).status_code == 403
    assert Board.objects.count() == 1


# --- deleting a board ------------------------------------------------------------------------


def test_its_maker_deletes_a_board_and_its_videos_stay(member_client, make_video, board):
    video = make_video()
    boards.add_to_board(board, [video.pk], board.created_by)

    asked = member_client.get(f"/boards/{board.pk}/delete/")
    done = member_client.post(f"/boards/{board.pk}/delete/")

    assert asked.status_code == 200 and b"stay in the gallery" in asked.content
    assert done["Location"] == "/boards/"
    assert not Board.objects.filter(pk=board.pk).exists()
    assert Generation.objects.filter(pk=video.pk).exists()


def test_a_teammate_may_not_delete_someone_elses_board(client_for, other_user, board):
    assert client_for(other_user).post(f"/boards/{board.pk}/delete/").status_code == 403
    assert Board.objects.filter(pk=board.pk).exists()


def test_a_shared_board_stays_for_its_guests_audit_trail(member_client, board):
    Share.objects.create(
        kind=ShareKind.BOARD,
        board=board,
        created_by=board.created_by,
        expires_at=timezone.now() + timedelta(days=7),
    )

    response = member_client.post(f"/boards/{board.pk}/delete/", follow=True)

    assert "was shared" in response.content.decode()
    assert Board.objects.filter(pk=board.pk).exists()
