"""Which parameters differ between generations, and which ids a compare request names."""

import pytest

from generations.models import Generation, GenerationLora
from studio import compare


@pytest.fixture
def make(user, source_image):
    def make(**fields):
        return Generation.objects.create_queued(
            **{"owner": user, "source_image": source_image, "prompt": "boats", **fields}
        )

    return make


def labels(generations):
    return [parameter.label for parameter in compare.differing_parameters(generations)]


def test_identical_generations_differ_in_nothing(make):
    assert labels([make(), make()]) == []


def test_only_the_seed_differs(make):
    differing = compare.differing_parameters([make(seed=1), make(seed=2)])

    assert [(parameter.label, parameter.values) for parameter in differing] == [
        ("Seed asked", ["1", "2"])
    ]


def test_a_random_seed_is_named_and_the_seed_used_compared(make):
    first, second = make(seed=-1, reported_seed=11), make(seed=-1, reported_seed=12)

    differing = compare.differing_parameters([first, second])

    assert [(parameter.label, parameter.values) for parameter in differing] == [
        ("Seed used", ["11", "12"])
    ]
    assert compare.seed_asked_text(first) == "random"


def test_a_seed_not_reported_yet_is_said_so(make):
    assert compare.seed_used_text(make()) == "not reported"


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
def test_each_parameter_is_compared(make, fields, label):
    assert labels([make(), make(**fields)]) == [label]


def test_numbers_compare_by_value_not_by_spelling(make):
    first, second = make(guidance_scale=5.0), make(guidance_scale=5)
    assert labels([first, second]) == []


def test_size_is_shown_with_its_clarity(make):
    assert compare.size_text(make(width=1280, height=720)) == "1280×720 (720p)"


def test_loras_are_compared_with_their_scales(make):
    first, second, third = make(), make(), make()
    for generation, scale in ((first, 1.0), (second, 1.0), (third, 0.5)):
        GenerationLora.objects.create(
            generation=generation, position=1, path="Remade-AI/Painting", scale=scale
        )

    assert labels([first, second]) == []
    differing = compare.differing_parameters([first, third])
    assert [(parameter.label, parameter.values) for parameter in differing] == [
        ("LoRAs", ["Remade-AI/Painting × 1", "Remade-AI/Painting × 0.5"])
    ]


def test_no_loras_is_shown_as_none(make):
    assert compare.loras_text(make()) == "none"


def test_the_source_picture_is_compared(make, user):
    from .test_library_pictures import second_picture

    other = make(source_image=second_picture(user))

    differing = compare.differing_parameters([make(), other])

    assert [parameter.label for parameter in differing] == ["Source picture"]
    assert differing[0].values[1] == f"meadow.jpg (#{other.source_image_id})"


def test_a_difference_in_one_of_four_is_listed_with_every_value(make):
    generations = [make(), make(), make(steps=10), make()]

    differing = compare.differing_parameters(generations)

    assert [(parameter.label, parameter.values) for parameter in differing] == [
        ("Steps", ["30", "30", "10", "30"])
    ]


def test_shared_and_differing_parameters_cover_every_parameter(make):
    parameters = compare.compare_parameters([make(), make(seed=5)])

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


def test_a_selection_keeps_the_order_asked_and_names_the_missing(make):
    first, second = make(), make()

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
def test_a_selection_outside_two_to_four_says_why(make, raw, problem):
    a, b = make(), make()

    selection = compare.select(Generation.objects.all(), [r.format(a=a.pk, b=b.pk) for r in raw])

    assert selection.problem.startswith(problem)
