"""The studio's loop on one page: submit without leaving it, the new take on top of "Your
recent", reuse a take's settings in place, the queue panel (mine / team, batches folded), and
the pulse every open page polls (a 304 that costs one query while nothing moved)."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from generations.models import Favourite, Generation, ReviewState, Status

from .support.pictures import jpeg_upload

HTMX = {"HTTP_HX_REQUEST": "true"}


def submit(browser, **fields):
    values = {"prompt": "a heron lifts off", "image": jpeg_upload("heron.jpg"), "random_seed": "on"}
    return browser.post("/", {**values, **fields}, **HTMX)


def test_a_submit_stays_on_the_studio_and_puts_the_new_take_on_top(member_client, media_root):
    response = submit(member_client, submission_key="first-try")

    assert response.status_code == 200
    made = Generation.objects.get()
    html = response.content.decode()
    assert f'id="take-{made.pk}"' in html
    assert 'hx-trigger="pulse from:body"' in html  # it follows its own progress
    assert f"Generation #{made.pk} is queued." in html
    # The form stays as typed; only its key is new, so the next click is a new take.
    assert 'id="id_submission_key"' in html and 'value="first-try"' not in html
    assert f'name="source_image" value="{made.source_image_id}"' in html


def test_the_same_key_twice_makes_one_take_and_says_so(member_client, media_root):
    submit(member_client, submission_key="k-1")
    again = submit(member_client, submission_key="k-1")

    assert Generation.objects.count() == 1
    assert "already submitted once" in again.content.decode()
    assert 'class="take"' not in again.content.decode()


def test_a_refused_submit_comes_back_in_place_with_its_errors(member_client, media_root):
    response = submit(member_client, prompt="", steps="99")

    assert response.status_code == 400
    assert response["HX-Retarget"] == "#composer"
    assert response["HX-Reswap"] == "outerHTML"
    html = response.content.decode()
    assert 'id="id_prompt-error"' in html and 'id="id_steps-error"' in html
    assert not Generation.objects.exists()


def test_reuse_gives_a_takes_settings_as_the_forms_values(member_client, make_generation):
    generation = make_generation(prompt="tide", seed=77, steps=20, width=480, height=832)

    values = member_client.get(f"/generations/{generation.pk}/settings/").json()

    assert values["fields"]["prompt"] == "tide"
    assert values["fields"]["seed"] == 77
    assert values["fields"]["orientation"] == "portrait"
    assert values["picture"]["id"] == generation.source_image_id


def test_reuse_of_work_you_may_not_see_is_not_found(client_for, make_generation, other_user):
    hidden = make_generation(review_state=ReviewState.FLAGGED)

    response = client_for(other_user).get(f"/generations/{hidden.pk}/settings/")

    assert response.status_code == 404


def test_recent_takes_are_your_own_newest_each_with_the_one_before(
    member_client, make_generation, other_user
):
    first = make_generation(prompt="one")
    second = make_generation(prompt="two")
    make_generation(other_user, prompt="a teammate's")

    html = member_client.get("/recent/").content.decode()

    assert f'id="take-{second.pk}"' in html and f'id="take-{first.pk}"' in html
    assert "a teammate&#x27;s" not in html
    assert f"ids={first.pk}&amp;ids={second.pk}" in html  # compare with the take before


def test_a_take_stops_listening_once_it_landed(member_client, finished):
    html = member_client.get(f"/recent/{finished.pk}/").content.decode()

    assert "<video" in html
    assert "hx-trigger" not in html


def test_the_queue_shows_mine_or_the_teams(member_client, make_generation, other_user):
    mine = make_generation()
    theirs = make_generation(other_user)

    own = member_client.get("/generations/rows/").content.decode()
    team = member_client.get("/generations/rows/?scope=team").content.decode()

    assert f'data-id="{mine.pk}"' in own and f'data-id="{theirs.pk}"' not in own
    assert f'data-id="{mine.pk}"' in team and f'data-id="{theirs.pk}"' in team


def test_a_batch_is_one_entry_in_the_queue_with_how_many_are_done(member_client, media_root):
    submit(member_client, prompt="dunes\nwaves\nrain", one_prompt_per_line="on")
    first = Generation.objects.order_by("pk").first()
    first.cancel()

    html = member_client.get("/generations/rows/").content.decode()

    assert html.count('class="batch-entry"') == 1
    assert "1 of 3 done" in html


def test_the_star_on_a_take_toggles_and_answers_with_a_star(member_client, make_generation):
    generation = make_generation()

    response = member_client.post(
        f"/generations/{generation.pk}/favourite/", {"look": "star"}, **HTMX
    )

    assert 'class="star on"' in response.content.decode()


# --- the pulse --------------------------------------------------------------------------


def pulse(browser, etag=None):
    headers = {"HTTP_IF_NONE_MATCH": etag} if etag else {}
    return browser.get("/pulse/", **headers)


def test_the_pulse_answers_304_until_work_moves_anywhere(
    member_client, make_generation, other_user
):
    first = pulse(member_client)
    assert first.status_code == 200
    assert pulse(member_client, first["ETag"]).status_code == 304

    teammates = make_generation(other_user)  # started elsewhere: another person, the API
    moved = pulse(member_client, first["ETag"])
    assert moved.status_code == 200 and moved.json()["team_active"] == 1

    teammates.claim_for_submit()
    assert pulse(member_client, moved["ETag"]).status_code == 200


def test_the_pulse_lists_your_own_work_that_moved_for_the_title_counter(
    member_client, make_generation, other_user
):
    mine = make_generation()
    make_generation(other_user)
    mine.mark_failed("HTTP 500 from the API")

    news = pulse(member_client).json()

    assert [(row["id"], row["status"]) for row in news["mine"]] == [(mine.pk, Status.FAILED)]
    assert news["mine_active"] == 0


def test_an_idle_pulse_reads_one_query_of_generations(member_client, make_generation):
    make_generation(status=Status.SUCCEEDED)
    etag = pulse(member_client)["ETag"]

    with CaptureQueriesContext(connection) as queries:
        assert pulse(member_client, etag).status_code == 304

    reads = [q["sql"] for q in queries if Generation._meta.db_table in q["sql"]]
    assert len(reads) == 1


def test_the_pulse_is_for_people_who_are_logged_in(client):
    assert pulse(client).status_code in (302, 403)


@pytest.mark.parametrize("etag", ['W/"x"', "*garbage*", ""])
def test_any_if_none_match_is_just_a_miss(member_client, etag):
    assert pulse(member_client, etag).status_code == 200


def test_the_detail_page_shows_the_size_delivered_beside_the_size_asked(member_client, finished):
    Generation.objects.filter(pk=finished.pk).update(video_width=736, video_height=544)

    html = member_client.get(f"/generations/{finished.pk}/").content.decode()

    assert "736×544 delivered" in html and f"{finished.width}×{finished.height} asked" in html


def test_a_tile_takes_the_shape_that_was_delivered(member_client, finished):
    Generation.objects.filter(pk=finished.pk).update(
        width=832, height=480, video_width=480, video_height=832
    )

    html = member_client.get("/gallery/").content.decode()

    assert 'class="card-tile is-portrait"' in html


# --- actions on a gallery selection -----------------------------------------------------


def test_a_selection_becomes_favourites_once_each(member_client, user, make_generation):
    first, second = make_generation(), make_generation()
    Favourite.objects.create(user=user, generation=first)

    ids = [first.pk, second.pk]
    member_client.post("/gallery/selection/", {"action": "favourite", "ids": ids})

    assert set(Favourite.objects.filter(user=user).values_list("generation", flat=True)) == set(ids)


def test_deleting_a_selection_asks_first_and_leaves_what_is_not_yours_or_in_flight(
    member_client, make_generation, other_user
):
    mine = make_generation(status=Status.SUCCEEDED)
    running = make_generation(status=Status.PROCESSING, api_task_id="task-9")
    theirs = make_generation(other_user, status=Status.SUCCEEDED)
    ids = [mine.pk, running.pk, theirs.pk]

    asked = member_client.post("/gallery/selection/", {"action": "delete", "ids": ids})
    assert asked.status_code == 200 and "2 of the selection stay" in asked.content.decode()
    assert Generation.objects.count() == 3

    member_client.post("/gallery/selection/", {"action": "delete", "ids": ids, "confirm": "yes"})
    assert set(Generation.objects.values_list("pk", flat=True)) == {running.pk, theirs.pk}


@pytest.mark.parametrize("ids", [[], ["x"], ["1e3"], ["9" * 40], [str(n) for n in range(501)]])
def test_a_selection_that_is_not_one_is_refused_with_a_reason(member_client, ids):
    response = member_client.post("/gallery/selection/", {"action": "favourite", "ids": ids})

    assert response.status_code == 400
    assert b"Select between 1 and 500" in response.content
