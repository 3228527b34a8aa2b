"""The compare page: 2–4 visible generations side by side, the parameters that differ."""

import pytest
from django.contrib.auth import get_user_model

from generations.models import Generation, ReviewState, Status

from .conftest import user_with_role


@pytest.fixture
def member(client, user):
    client.force_login(user)
    return client


@pytest.fixture
def make(user, source_image, finished):
    """A finished generation like the `finished` fixture's, with these parameters."""

    def make(owner=None, **fields):
        generation = Generation.objects.create_queued(
            **{"owner": owner or user, "source_image": source_image, "prompt": "p", **fields}
        )
        Generation.objects.filter(pk=generation.pk).update(
            status=Status.SUCCEEDED, video=finished.video.name, poster=finished.poster.name
        )
        generation.refresh_from_db()
        return generation

    return make


def compare_url(*generations):
    return "/compare/?ids=" + ",".join(str(generation.pk) for generation in generations)


def test_logged_out_people_are_sent_to_log_in(client, db):
    response = client.get("/compare/?ids=1,2")
    assert response.status_code == 302
    assert response["Location"].startswith("/login/")


@pytest.mark.parametrize("role", ["member", "reviewer", "admin"])
def test_every_role_compares(client, make, role):
    client.force_login(user_with_role(f"someone-{role}", role))
    assert client.get(compare_url(make(), make(seed=2))).status_code == 200


def test_an_account_without_a_role_may_not_compare(client, make):
    person = get_user_model().objects.create_user("nobody", password="a-long-test-password")
    person.groups.clear()
    client.force_login(person)
    assert client.get(compare_url(make(), make())).status_code == 403


def test_videos_are_shown_side_by_side_in_the_order_asked(member, make):
    first, second = make(), make(seed=2)

    html = member.get(compare_url(second, first)).content.decode()

    assert html.count("<video data-compare") == 2
    assert html.index(f"/generations/{second.pk}/video.mp4") < html.index(
        f"/generations/{first.pk}/video.mp4"
    )
    assert 'id="play-all"' in html and 'id="pause-all"' in html
    assert '<label for="compare-seek">' in html


def test_the_table_lists_only_what_differs(member, make):
    first, second = make(seed=1, steps=30), make(seed=2, steps=20)

    response = member.get(compare_url(first, second))

    assert [parameter.label for parameter in response.context["differing"]] == [
        "Seed asked",
        "Steps",
    ]
    table = response.content.decode().split('id="differences"')[1].split("</table>")[0]
    assert "Seed asked" in table and "Steps" in table
    assert "Prompt" not in table


def test_the_same_parameters_everywhere_are_said_so(member, make):
    html = member.get(compare_url(make(), make())).content.decode()
    assert "made with the same parameters" in html


def test_repeated_ids_in_the_query_work_like_a_list(member, make):
    first, second = make(), make()

    response = member.get(f"/compare/?ids={first.pk}&ids={second.pk}")

    assert response.context["selection"].generations == [first, second]


def test_four_generations_are_compared(member, make):
    four = [make(seed=seed) for seed in range(4)]
    response = member.get(compare_url(*four))
    assert response.status_code == 200
    assert len(response.context["selection"].generations) == 4


def test_a_generation_without_a_video_shows_its_picture(member, make, user, source_image):
    queued = Generation.objects.create_queued(owner=user, source_image=source_image, prompt="p")

    html = member.get(compare_url(make(), queued)).content.decode()

    assert html.count("<video data-compare") == 1
    assert "No video yet." in html


def test_without_any_video_there_are_no_player_controls(member, user, source_image):
    queued = [
        Generation.objects.create_queued(owner=user, source_image=source_image, prompt="p")
        for _ in range(2)
    ]
    html = member.get(compare_url(*queued)).content.decode()
    assert 'id="play-all"' not in html


# --- a clear message, never a 500 ----------------------------------------------------------


def test_no_ids_asks_to_pick_and_offers_finished_videos(member, make):
    generation = make()

    response = member.get("/compare/")

    assert response.status_code == 200
    html = response.content.decode()
    assert "Pick 2 to 4 generations to compare." in html
    assert f'name="ids" value="{generation.pk}"' in html


@pytest.mark.parametrize(
    "query, status, message",
    [
        ("ids={a}", 400, "Pick at least one more generation"),
        ("ids={a},{b},{c},{d},{e}", 400, "You picked 5 generations; compare at most 4 at a time."),
        ("ids={a},99999", 400, "Only one of the generations you picked can be shown"),
        ("ids=99998,99999", 400, "None of the generations you picked can be shown"),
        ("ids=abc", 200, "Pick 2 to 4 generations"),
        ("ids=" + "9" * 40 + ",{a}", 400, "Pick at least one more generation"),
        ("ids=-1,{a}", 400, "Pick at least one more generation"),
    ],
)
def test_a_selection_outside_two_to_four_is_a_clear_message(member, make, query, status, message):
    ids = {name: make().pk for name in "abcde"}

    response = member.get("/compare/?" + query.format(**ids))

    assert response.status_code == status
    assert message in response.content.decode()
    assert "<video data-compare" not in response.content.decode()


def test_ids_that_cannot_be_shown_are_named_without_saying_why(member, make):
    first, second = make(), make()

    html = member.get(f"/compare/?ids={first.pk},{second.pk},99999").content.decode()

    assert "Not shown: #99999" in html
    assert "it does not exist or is hidden from you" in html


# --- flagged outputs stay hidden -------------------------------------------------------------


@pytest.fixture
def flagged(make, other_user):
    generation = make(owner=other_user, seed=3)
    Generation.objects.filter(pk=generation.pk).update(review_state=ReviewState.FLAGGED)
    return generation


def test_a_flagged_output_of_someone_else_is_hidden(member, make, flagged):
    visible = make()

    response = member.get(compare_url(visible, flagged))

    assert response.status_code == 400
    html = response.content.decode()
    assert "Only one of the generations you picked can be shown" in html
    assert f"/generations/{flagged.pk}/video.mp4" not in html


def test_a_flagged_output_is_not_offered_to_pick(member, make, flagged):
    make()
    html = member.get("/compare/").content.decode()
    assert f'value="{flagged.pk}"' not in html


def test_the_owner_of_a_flagged_output_still_compares_it(client, make, flagged, other_user):
    client.force_login(other_user)
    assert client.get(compare_url(make(), flagged)).status_code == 200


def test_an_admin_compares_flagged_outputs(client, make, flagged, admin_user):
    client.force_login(admin_user)
    assert client.get(compare_url(make(), flagged)).status_code == 200
