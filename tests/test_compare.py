"""The compare page: 2–4 visible generations side by side, the parameters that differ
(studio/compare.py decides which differ and which ids a request names)."""

from functools import partial

import pytest

from generations.models import Generation, GenerationLora, ReviewState, Status
from studio import compare

# --- which parameters differ ---------------------------------------------------------------


def labels(generations):
    return [parameter.label for parameter in compare.differing_parameters(generations)]


def test_identical_generations_differ_in_nothing(make_generation):
    assert labels([make_generation(), make_generation()]) == []


def test_only_the_seed_differs(make_generation):
    differing = compare.differing_parameters([make_generation(seed=1), make_generation(seed=2)])

    assert [(parameter.label, parameter.values) for parameter in differing] == [
        ("Seed asked", ["1", "2"])
    ]


def test_a_random_seed_is_named_and_the_seed_used_compared(make_generation):
    first, second = (
        make_generation(seed=-1, reported_seed=11),
        make_generation(seed=-1, reported_seed=12),
    )

    differing = compare.differing_parameters([first, second])

    assert [(parameter.label, parameter.values) for parameter in differing] == [
        ("Seed used", ["11", "12"])
    ]
    assert compare.seed_asked_text(first) == "random"


def test_a_seed_not_reported_yet_is_said_so(make_generation):
    assert compare.seed_used_text(make_generation()) == "not reported"


@pytest.mark.parametrize(
    "fields, label",
    [
        ({"prompt": "ships"}, "Prompt"),
        ({"negative_prompt": "blur"}, "Negative prompt"),
        ({"width": 480, "height": 832}, "Size"),
        ({"steps": 20}, "Steps"),
        ({"guidance_scale": 7.5}, "Guidance scale"),
        ({"flow_shift": 3.0}, "Flow shift"),
        ({"enable_safety_checker": False}, "Safety checker"),
        ({"fast_mode": True}, "Fast mode"),
    ],
)
def test_each_parameter_is_compared(make_generation, fields, label):
    assert labels([make_generation(), make_generation(**fields)]) == [label]


def test_numbers_compare_by_value_not_by_spelling(make_generation):
    first, second = make_generation(guidance_scale=5.0), make_generation(guidance_scale=5)
    assert labels([first, second]) == []


def test_size_is_shown_with_its_clarity(make_generation):
    assert compare.size_text(make_generation(width=1280, height=720)) == "1280×720 (720p)"


def test_loras_are_compared_with_their_scales(make_generation):
    first, second, third = make_generation(), make_generation(), make_generation()
    for generation, scale in ((first, 1.0), (second, 1.0), (third, 0.5)):
        GenerationLora.objects.create(
            generation=generation, position=1, path="Remade-AI/Painting", scale=scale
        )

    assert labels([first, second]) == []
    differing = compare.differing_parameters([first, third])
    assert [(parameter.label, parameter.values) for parameter in differing] == [
        ("LoRAs", ["Remade-AI/Painting × 1", "Remade-AI/Painting × 0.5"])
    ]


def test_no_loras_is_shown_as_none(make_generation):
    assert compare.loras_text(make_generation()) == "none"


def test_the_source_picture_is_compared(make_generation, make_source_image):
    meadow = make_source_image(800, 600, colour=(10, 200, 90), name="meadow.jpg")
    other = make_generation(source_image=meadow)

    differing = compare.differing_parameters([make_generation(), other])

    assert [parameter.label for parameter in differing] == ["Source picture"]
    assert differing[0].values[1] == f"meadow.jpg (#{other.source_image_id})"


def test_a_difference_in_one_of_four_is_listed_with_every_value(make_generation):
    generations = [
        make_generation(),
        make_generation(),
        make_generation(steps=10),
        make_generation(),
    ]

    differing = compare.differing_parameters(generations)

    assert [(parameter.label, parameter.values) for parameter in differing] == [
        ("Steps", ["30", "30", "10", "30"])
    ]


def test_shared_and_differing_parameters_cover_every_parameter(make_generation):
    parameters = compare.compare_parameters([make_generation(), make_generation(seed=5)])

    assert [parameter.label for parameter in parameters] == [
        label for label, _ in compare.PARAMETERS
    ]
    assert [parameter.label for parameter in parameters if parameter.differs] == ["Seed asked"]


# --- which ids a request names -------------------------------------------------------------


@pytest.mark.parametrize(
    "raw, ids",
    [
        (["3,7,9"], [3, 7, 9]),
        (["3", "7"], [3, 7]),
        (["3, 7", "9"], [3, 7, 9]),
        (["7,3,7"], [7, 3]),
        (["", "x", "-1", "2.5", "4"], [4]),
        (["9" * 19, "5"], [5]),
        ([], []),
    ],
)
def test_ids_are_read_in_order_once_each_and_junk_is_skipped(raw, ids):
    assert compare.parse_ids(raw) == ids


def test_a_selection_keeps_the_order_asked_and_names_the_missing(make_generation):
    first, second = make_generation(), make_generation()

    selection = compare.select(Generation.objects.all(), [f"{second.pk},999,{first.pk}"])

    assert selection.generations == [second, first]
    assert selection.missing == [999]
    assert selection.problem == ""


@pytest.mark.parametrize(
    "raw, problem",
    [
        ([], "Pick 2 to 4 generations"),
        (["{a}"], "Pick at least one more"),
        (["{a},998"], "Only one of the generations you picked can be shown"),
        (["997,998"], "None of the generations you picked can be shown"),
        (["{a},{b},101,102,103"], "You picked 5 generations; compare at most 4"),
    ],
)
def test_a_selection_outside_two_to_four_says_why(make_generation, raw, problem):
    a, b = make_generation(), make_generation()

    selection = compare.select(Generation.objects.all(), [r.format(a=a.pk, b=b.pk) for r in raw])

    assert selection.problem.startswith(problem)


# --- the page ------------------------------------------------------------------------------


@pytest.fixture
def make_video(make_generation, finished):
    """make_video(owner=maya, **fields): a finished generation like `finished`, with these
    parameters and the same stored video and poster."""
    return partial(
        make_generation,
        status=Status.SUCCEEDED,
        video=finished.video.name,
        poster=finished.poster.name,
    )


def compare_url(*generations):
    return "/compare/?ids=" + ",".join(str(generation.pk) for generation in generations)


def test_logged_out_people_are_sent_to_log_in(client, db):
    response = client.get("/compare/?ids=1,2")
    assert response.status_code == 302
    assert response["Location"].startswith("/login/")


@pytest.mark.parametrize("role", ["member", "reviewer", "admin"])
def test_every_role_compares(client_for, make_user, make_video, role):
    browser = client_for(make_user(f"someone-{role}", role))
    assert browser.get(compare_url(make_video(), make_video(seed=2))).status_code == 200


def test_an_account_without_a_role_may_not_compare(client_for, make_user, make_video):
    browser = client_for(make_user("nobody", role=None))
    assert browser.get(compare_url(make_video(), make_video())).status_code == 403


def test_videos_are_shown_side_by_side_in_the_order_asked(member_client, make_video):
    first, second = make_video(), make_video(seed=2)

    html = member_client.get(compare_url(second, first)).content.decode()

    assert html.count("<video data-compare") == 2
    assert html.index(f"/generations/{second.pk}/video.mp4") < html.index(
        f"/generations/{first.pk}/video.mp4"
    )
    assert 'id="play-all"' in html and 'id="pause-all"' in html
    assert '<label for="compare-seek">' in html


def test_the_table_lists_only_what_differs(member_client, make_video):
    first, second = make_video(seed=1, steps=30), make_video(seed=2, steps=20)

    response = member_client.get(compare_url(first, second))

    assert [parameter.label for parameter in response.context["differing"]] == [
        "Seed asked",
        "Steps",
    ]
    table = response.content.decode().split('id="differences"')[1].split("</table>")[0]
    assert "Seed asked" in table and "Steps" in table
    assert "Prompt" not in table


def test_the_same_parameters_everywhere_are_said_so(member_client, make_video):
    html = member_client.get(compare_url(make_video(), make_video())).content.decode()
    assert "made with the same parameters" in html


def test_repeated_ids_in_the_query_work_like_a_list(member_client, make_video):
    first, second = make_video(), make_video()

    response = member_client.get(f"/compare/?ids={first.pk}&ids={second.pk}")

    assert response.context["selection"].generations == [first, second]


def test_four_generations_are_compared(member_client, make_video):
    four = [make_video(seed=seed) for seed in range(4)]
    response = member_client.get(compare_url(*four))
    assert response.status_code == 200
    assert len(response.context["selection"].generations) == 4


def test_a_generation_without_a_video_shows_its_picture(member_client, make_video, make_generation):
    queued = make_generation()

    html = member_client.get(compare_url(make_video(), queued)).content.decode()

    assert html.count("<video data-compare") == 1
    assert "No video yet." in html


def test_without_any_video_there_are_no_player_controls(member_client, make_generation):
    queued = [make_generation() for _ in range(2)]
    html = member_client.get(compare_url(*queued)).content.decode()
    assert 'id="play-all"' not in html


# --- a clear message, never a 500 ----------------------------------------------------------


def test_no_ids_asks_to_pick_and_offers_finished_videos(member_client, make_video):
    generation = make_video()

    response = member_client.get("/compare/")

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
def test_a_selection_outside_two_to_four_is_a_clear_message(
    member_client, make_video, query, status, message
):
    ids = {name: make_video().pk for name in "abcde"}

    response = member_client.get("/compare/?" + query.format(**ids))

    assert response.status_code == status
    assert message in response.content.decode()
    assert "<video data-compare" not in response.content.decode()


def test_ids_that_cannot_be_shown_are_named_without_saying_why(member_client, make_video):
    first, second = make_video(), make_video()

    html = member_client.get(f"/compare/?ids={first.pk},{second.pk},99999").content.decode()

    assert "Not shown: #99999" in html
    assert "it does not exist or is hidden from you" in html


# --- flagged outputs stay hidden -------------------------------------------------------------


@pytest.fixture
def flagged(make_video, other_user):
    generation = make_video(owner=other_user, seed=3)
    Generation.objects.filter(pk=generation.pk).update(review_state=ReviewState.FLAGGED)
    return generation


def test_a_flagged_output_of_someone_else_is_hidden(member_client, make_video, flagged):
    visible = make_video()

    response = member_client.get(compare_url(visible, flagged))

    assert response.status_code == 400
    html = response.content.decode()
    assert "Only one of the generations you picked can be shown" in html
    assert f"/generations/{flagged.pk}/video.mp4" not in html


def test_a_flagged_output_is_not_offered_to_pick(member_client, make_video, flagged):
    make_video()
    html = member_client.get("/compare/").content.decode()
    assert f'value="{flagged.pk}"' not in html


def test_the_owner_of_a_flagged_output_still_compares_it(
    client_for, make_video, flagged, other_user
):
    assert client_for(other_user).get(compare_url(make_video(), flagged)).status_code == 200


def test_an_admin_compares_flagged_outputs(admin_client, make_video, flagged):
    assert admin_client.get(compare_url(make_video(), flagged)).status_code == 200
