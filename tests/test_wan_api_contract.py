"""The Wan API contract as data: parameter checks, the submit body, reading a task result."""

import json
import logging
from dataclasses import replace

import pytest

from generations import wan_api
from generations.wan_api import (
    InvalidParams,
    Lora,
    MalformedAnswer,
    SubmitParams,
    TaskStatus,
    build_submit_body,
    parse_task_result,
    validate_params,
)

PARAMS = SubmitParams(prompt="A cat turns its head", image_url="https://example.com/cat.png")


# --- parameters ------------------------------------------------------------------------


def test_defaults_match_submit_params():
    assert SubmitParams(prompt="p", image_url="https://x.test/a.png") == SubmitParams(
        prompt="p", image_url="https://x.test/a.png", **wan_api.DEFAULTS
    )
    assert wan_api.DEFAULTS["width"] == 832 and wan_api.DEFAULTS["height"] == 480


def test_valid_params_have_no_errors():
    assert validate_params(PARAMS) == {}


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("prompt", ""),
        ("prompt", "   "),
        ("prompt", "x" * 2001),
        ("negative_prompt", "x" * 2001),
        ("image_url", ""),
        ("image_url", "ftp://example.com/cat.png"),
        ("image_url", "cat.png"),
        ("image_url", "https://example.com/a cat.png"),
        ("width", 640),
        ("width", 832.0),
        ("seed", -2),
        ("seed", 10_000_000_000),
        ("seed", 1.5),
        ("steps", 0),
        ("steps", 41),
        ("steps", True),
        ("guidance_scale", -0.1),
        ("guidance_scale", 10.5),
        ("guidance_scale", float("nan")),
        ("flow_shift", 0.9),
        ("flow_shift", 11),
        ("flow_shift", "5"),
        ("enable_safety_checker", "yes"),
        ("fast_mode", 1),
    ],
)
def test_out_of_range_value_is_reported_on_its_field(name, value):
    errors = validate_params(replace(PARAMS, **{name: value}))
    assert list(errors) == [name]
    assert all(isinstance(message, str) and message for message in errors[name])


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("prompt", "x" * 2000),
        ("negative_prompt", "x" * 2000),
        ("seed", -1),
        ("seed", 9_999_999_999),
        ("steps", 1),
        ("steps", 40),
        ("guidance_scale", 0),
        ("guidance_scale", 10.0),
        ("flow_shift", 1),
        ("flow_shift", 10.0),
    ],
)
def test_documented_bounds_are_valid(name, value):
    assert validate_params(replace(PARAMS, **{name: value})) == {}


@pytest.mark.parametrize("size", wan_api.ALLOWED_SIZES)
def test_each_documented_size_is_valid(size):
    assert validate_params(replace(PARAMS, width=size[0], height=size[1])) == {}


def test_height_must_pair_with_width():
    errors = validate_params(replace(PARAMS, width=1280, height=480))
    assert errors == {"height": ["Must be 720 when the width is 1280."]}


def test_more_than_three_loras_is_an_error():
    loras = tuple(Lora(f"owner/style-{n}", 1.0) for n in range(4))
    assert list(validate_params(replace(PARAMS, loras=loras))) == ["loras"]


@pytest.mark.parametrize("scale", [-0.1, 4.5, "1"])
def test_lora_scale_out_of_range_is_an_error(scale):
    errors = validate_params(replace(PARAMS, loras=(Lora("Remade-AI/Painting", scale),)))
    assert errors["loras"][0].startswith("LoRA 1 scale:")


@pytest.mark.parametrize(
    "path", ["Remade-AI/Painting", "https://civitai.com/api/download/models/1"]
)
def test_lora_path_may_be_a_repo_or_a_url(path):
    assert validate_params(replace(PARAMS, loras=(Lora(path, 4.0),))) == {}


@pytest.mark.parametrize("path", ["", "Painting", "owner/name/extra", "owner / name"])
def test_other_lora_paths_are_errors(path):
    assert list(validate_params(replace(PARAMS, loras=(Lora(path, 1.0),)))) == ["loras"]


def test_body_omits_loras_when_there_are_none():
    body = build_submit_body(PARAMS)
    assert "loras" not in body
    assert body == {"prompt": PARAMS.prompt, "image_url": PARAMS.image_url, **wan_api.DEFAULTS}


def test_body_lists_loras_with_float_scales():
    body = build_submit_body(replace(PARAMS, loras=(Lora("Remade-AI/Painting", 1),)))
    assert body["loras"] == [{"path": "Remade-AI/Painting", "scale": 1.0}]


def test_body_of_invalid_params_raises_with_the_errors():
    with pytest.raises(InvalidParams) as raised:
        build_submit_body(replace(PARAMS, steps=99, prompt=""))
    assert set(raised.value.errors) == {"steps", "prompt"}


# --- parsing a task result -------------------------------------------------------------

DOCUMENTED = {
    "task": {
        "task_id": "t-1",
        "task_type": "WAN_IMG_TO_VIDEO",
        "status": "TASK_STATUS_SUCCEED",
        "reason": "",
        "eta": 0,
        "progress_percent": 100,
    },
    "videos": [
        {"video_url": "https://s.test/v.mp4?sig=1", "video_url_ttl": "3600", "video_type": "mp4"}
    ],
    "images": [],
    "audios": [],
    "extra": {
        "seed": "158881667",
        "enable_nsfw_detection": False,
        "debug_info": {"request_info": "", "submit_time_ms": "1732440000000"},
    },
}


def task_body(**task_fields):
    return {"task": {"task_id": "t-1", "status": "TASK_STATUS_PROCESSING", **task_fields}}


def test_parse_the_documented_example():
    task = parse_task_result(DOCUMENTED)
    assert (task.task_id, task.status, task.raw_status) == (
        "t-1",
        TaskStatus.SUCCEEDED,
        "TASK_STATUS_SUCCEED",
    )
    assert task.videos == (wan_api.ResultVideo("https://s.test/v.mp4?sig=1", 3600, "mp4"),)
    assert (task.seed, task.finished) == (158881667, True)


def test_parse_accepts_json_text():
    assert parse_task_result(json.dumps(DOCUMENTED)).seed == 158881667


@pytest.mark.parametrize(
    ("raw", "status"),
    [
        ("TASK_STATUS_QUEUED", TaskStatus.QUEUED),
        ("TASK_STATUS_PROCESSING", TaskStatus.PROCESSING),
        ("TASK_STATUS_SUCCEED", TaskStatus.SUCCEEDED),
        ("TASK_STATUS_FAILED", TaskStatus.FAILED),
        ("TASK_STATUS_UNKNOWN", TaskStatus.UNKNOWN),
        ("TASK_STATUS_PAUSED", TaskStatus.UNKNOWN),
    ],
)
def test_parse_status(raw, status):
    assert parse_task_result(task_body(status=raw)).status == status


@pytest.mark.parametrize(
    ("raw", "finished"),
    [
        ("TASK_STATUS_QUEUED", False),
        ("TASK_STATUS_PROCESSING", False),
        ("TASK_STATUS_SUCCEED", True),
        ("TASK_STATUS_FAILED", True),
        ("TASK_STATUS_PAUSED", False),
    ],
)
def test_only_succeeded_and_failed_are_finished(raw, finished):
    assert parse_task_result(task_body(status=raw)).finished is finished


def test_parse_unknown_status_is_logged_as_a_warning(caplog):
    with caplog.at_level(logging.WARNING, logger="generations.wan_api"):
        parse_task_result(task_body(status="TASK_STATUS_PAUSED"))
    assert "TASK_STATUS_PAUSED" in caplog.text


@pytest.mark.parametrize(
    ("value", "expected"),
    [("42", 42), (42, 42), (42.0, 42), ("42.5", 42), (None, None), ("soon", None), (True, None)],
)
def test_parse_numbers_as_strings_and_strings_as_numbers(value, expected):
    task = parse_task_result(task_body(eta=value, progress_percent=value))
    assert (task.eta_seconds, task.progress_percent) == (expected, expected)


@pytest.mark.parametrize(("value", "expected"), [(-5, 0), (150, 100), ("101", 100), ("0", 0)])
def test_parse_clamps_progress(value, expected):
    assert parse_task_result(task_body(progress_percent=value)).progress_percent == expected


@pytest.mark.parametrize(
    ("ttl", "expected"), [("0", 0), (0, 0), ("3600", 3600), (3600, 3600), ("soon", None), (-1, -1)]
)
def test_parse_keeps_the_ttl_as_given(ttl, expected):
    body = {**task_body(), "videos": [{"video_url": "https://s.test/v", "video_url_ttl": ttl}]}
    assert parse_task_result(body).videos[0].ttl_seconds == expected


def test_parse_missing_ttl_is_none():
    body = {**task_body(), "videos": [{"video_url": "https://s.test/v"}]}
    assert parse_task_result(body).videos == (wan_api.ResultVideo("https://s.test/v", None, ""),)


def test_parse_skips_videos_without_a_url():
    videos = [{"video_url": ""}, {"video_url": None}, "junk", {"video_url": "https://s.test/v"}]
    body = {**task_body(), "videos": videos}
    assert [video.url for video in parse_task_result(body).videos] == ["https://s.test/v"]


def test_parse_minimal_body_has_no_optional_values():
    task = parse_task_result({"task": {"status": "TASK_STATUS_QUEUED"}})
    assert task == wan_api.TaskResult(
        "", TaskStatus.QUEUED, "TASK_STATUS_QUEUED", "", None, None, (), None
    )


def test_parse_nulls_everywhere():
    body = {
        "task": {"task_id": "t-1", "status": "TASK_STATUS_FAILED", "reason": None, "eta": None},
        "videos": None,
        "extra": {"seed": None, "debug_info": None},
    }
    task = parse_task_result(body)
    assert (task.reason, task.videos, task.seed, task.eta_seconds) == ("", (), None, None)


@pytest.mark.parametrize(("seed", "expected"), [("158881667", 158881667), (158881667, 158881667)])
def test_parse_seed_as_string_or_number(seed, expected):
    assert parse_task_result({**task_body(), "extra": {"seed": seed}}).seed == expected


def test_parse_failure_reason():
    task = parse_task_result(task_body(status="TASK_STATUS_FAILED", reason="NSFW content"))
    assert (task.status, task.reason) == (TaskStatus.FAILED, "NSFW content")


@pytest.mark.parametrize(
    "body",
    [None, [], {}, {"task": None}, {"task": "t-1"}, {"task": {}}, {"task": {"status": ""}}, "{"],
)
def test_parse_without_a_usable_task_raises(body):
    with pytest.raises(MalformedAnswer):
        parse_task_result(body)
