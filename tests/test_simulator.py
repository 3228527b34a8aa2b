"""The API simulator (wansim) against the contract, over real HTTP. No database needed."""

import io
import math
import os
import select
import signal
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import av
import pytest
import requests

from wansim.config import SimConfig
from wansim.render import output_size
from wansim.tasks import PROCESSING, QUEUED, SUCCEED, Task
from wansim.testing import poll_until
from wansim.validation import SubmitRequest

from .live_studio import free_port
from .support.simulator import API_KEY, MISSING, body, poll, submit

AREA_480P = 832 * 480
AREA_720P = 1280 * 720


def run_task(sim, payload) -> list[dict]:
    response = submit(sim, payload)
    assert response.status_code == 200, response.text
    return poll_until(sim.base_url, API_KEY, response.json()["task_id"])


def finished_video(sim, payload) -> bytes:
    answer = run_task(sim, payload)[-1]
    assert answer["task"]["status"] == SUCCEED, answer["task"]["reason"]
    response = requests.get(answer["videos"][0]["video_url"])
    assert response.status_code == 200
    return response.content


def probe(data: bytes) -> dict:
    with av.open(io.BytesIO(data)) as container:
        stream = container.streams.video[0]
        frames = sum(1 for _ in container.decode(stream))
        return {
            "codec": stream.codec_context.name,
            "pix_fmt": stream.codec_context.pix_fmt,
            "frames": frames,
            "fps": stream.average_rate,
            "duration": container.duration / av.time_base,
            "width": stream.width,
            "height": stream.height,
        }


def error_of(response: requests.Response) -> tuple[int, str]:
    payload = response.json()
    assert set(payload) == {"code", "reason", "message", "metadata"}
    assert payload["code"] == response.status_code
    return response.status_code, payload["reason"]


# --- authentication ----------------------------------------------------------------------------


def test_submit_without_key_is_missing_api_key(sim, picture_host):
    assert error_of(submit(sim, body(picture_host), key=None)) == (401, "MISSING_API_KEY")


def test_submit_with_wrong_key_is_invalid_api_key(sim, picture_host):
    assert error_of(submit(sim, body(picture_host), key="nope")) == (403, "INVALID_API_KEY")


def test_poll_needs_the_key_too(sim):
    assert error_of(poll(sim, "x", key=None)) == (401, "MISSING_API_KEY")
    assert error_of(poll(sim, "x", key="nope")) == (403, "INVALID_API_KEY")


# --- validation --------------------------------------------------------------------------------

INVALID_FIELDS = [
    ({"prompt": MISSING}, "prompt"),
    ({"prompt": ""}, "prompt"),
    ({"prompt": "x" * 2001}, "prompt"),
    ({"prompt": 42}, "prompt"),
    ({"image_url": MISSING}, "image_url"),
    ({"image_url": "ftp://example.com/a.png"}, "image_url"),
    ({"image_url": "a-picture.png"}, "image_url"),
    ({"negative_prompt": "x" * 2001}, "negative_prompt"),
    ({"negative_prompt": ["blurry"]}, "negative_prompt"),
    ({"width": 1000, "height": 480}, "width"),
    ({"width": "832", "height": 480}, "width"),
    ({"width": 480, "height": 480}, "height"),
    ({"width": 1280, "height": 480}, "height"),
    ({"loras": {"path": "a/b", "scale": 1}}, "loras"),
    ({"loras": [{"path": "a/b", "scale": 1}] * 4}, "loras"),
    ({"loras": ["a/b"]}, "loras[0]"),
    ({"loras": [{"scale": 1}]}, "loras[0].path"),
    ({"loras": [{"path": "a/b"}]}, "loras[0].scale"),
    ({"loras": [{"path": "a/b", "scale": 4.5}]}, "loras[0].scale"),
    ({"loras": [{"path": "a/b", "scale": -0.1}]}, "loras[0].scale"),
    ({"seed": -2}, "seed"),
    ({"seed": 10_000_000_000}, "seed"),
    ({"seed": 1.5}, "seed"),
    ({"steps": 0}, "steps"),
    ({"steps": 41}, "steps"),
    ({"steps": True}, "steps"),
    ({"guidance_scale": -0.1}, "guidance_scale"),
    ({"guidance_scale": 10.5}, "guidance_scale"),
    ({"guidance_scale": "5"}, "guidance_scale"),
    ({"flow_shift": 0.5}, "flow_shift"),
    ({"flow_shift": 11}, "flow_shift"),
    ({"enable_safety_checker": "yes"}, "enable_safety_checker"),
    ({"fast_mode": 1}, "fast_mode"),
    ({"extra": "webhook"}, "extra"),
    ({"extra": {"webhook": "https://example.com/hook"}}, "extra.webhook"),
    ({"extra": {"webhook": {"url": "ftp://example.com/hook"}}}, "extra.webhook.url"),
]


@pytest.mark.parametrize(("fields", "name"), INVALID_FIELDS)
def test_invalid_field_is_invalid_request_body_naming_it(sim, picture_host, fields, name):
    response = submit(sim, body(picture_host, **fields))
    assert error_of(response) == (400, "INVALID_REQUEST_BODY")
    assert response.json()["message"].startswith(f"{name}:")
    assert sim.stats()["tasks"] == {}


@pytest.mark.parametrize("raw", [b"{not json", b"[1, 2]", b""])
def test_body_that_is_not_a_json_object_is_invalid_request_body(sim, raw):
    response = requests.post(
        f"{sim.base_url}/v3/async/wan-i2v",
        data=raw,
        headers={"Authorization": f"Bearer {API_KEY}", "Content-Type": "application/json"},
    )
    assert error_of(response) == (400, "INVALID_REQUEST_BODY")


VALID_EDGES = [
    {"prompt": "x" * 2000, "negative_prompt": "y" * 2000},
    {"width": 480, "height": 832},
    {"width": 720, "height": 1280},
    {"width": 1280, "height": 720},
    {"width": 999},  # height missing: both forced to 832x480
    {"loras": [{"path": "Remade-AI/Painting", "scale": 0}, {"path": "a/b", "scale": 4}] * 1},
    {"loras": [{"path": "https://civitai.com/api/download/models/1", "scale": 1.5}] * 3},
    {"seed": -1, "steps": 1, "guidance_scale": 0, "flow_shift": 1},
    {"seed": 9_999_999_999, "steps": 40, "guidance_scale": 10, "flow_shift": 10},
    {"enable_safety_checker": False, "fast_mode": True, "negative_prompt": None},
    {"extra": {"webhook": {"url": "https://example.com/hook"}}, "unknown_field": 1},
]


@pytest.mark.parametrize("fields", VALID_EDGES)
def test_valid_edge_values_are_accepted(sim, picture_host, fields):
    sim.configure(queue_seconds=60)  # never processed: the reset of the next test forgets it
    response = submit(sim, body(picture_host, **fields))
    assert response.status_code == 200, response.text
    assert set(response.json()) == {"task_id"}


# --- lifecycle ---------------------------------------------------------------------------------


def test_task_goes_queued_then_processing_then_succeed(sim, picture_host):
    sim.configure(queue_seconds=0.3, process_seconds=1.0)
    answers = run_task(sim, body(picture_host))
    statuses = [answer["task"]["status"] for answer in answers]
    assert statuses[0] == QUEUED and statuses[-1] == SUCCEED
    assert PROCESSING in statuses
    order = [QUEUED, PROCESSING, SUCCEED]
    assert [order.index(status) for status in statuses] == sorted(order.index(s) for s in statuses)
    progress = [answer["task"]["progress_percent"] for answer in answers]
    etas = [answer["task"]["eta"] for answer in answers]
    assert progress == sorted(progress) and progress[0] == 0 and progress[-1] == 100
    assert len(set(progress)) > 3
    assert etas == sorted(etas, reverse=True) and etas[-1] == 0
    assert all(answer["videos"] == [] for answer in answers[:-1])


def test_progress_rises_and_eta_falls_with_time():
    task = Task(SubmitRequest("p", "http://x/a.png"), 2, 10, 5, submitted_at=1000.0)
    assert _progress_eta(task, 1000.5) == (0, 12)
    assert _progress_eta(task, 1001.5) == (0, 11)
    task.status, task.started_at = PROCESSING, 1002.0
    assert _progress_eta(task, 1005.0) == (30, 7)
    assert _progress_eta(task, 1011.0) == (90, 1)
    # A render running past its planned time never looks finished, and never goes backwards.
    assert _progress_eta(task, 1020.0) == (99, 1)
    assert _progress_eta(task, 1004.0) == (99, 1)


def _progress_eta(task: Task, now: float) -> tuple[int, int]:
    answer = task.result_body("", 3600, now=now)["task"]
    return answer["progress_percent"], answer["eta"]


def test_queued_answer_has_the_contract_shape(sim, picture_host):
    sim.configure(queue_seconds=60)
    task_id = submit(sim, body(picture_host, seed=1234)).json()["task_id"]
    answer = poll(sim, task_id).json()
    assert set(answer) == {"task", "videos", "images", "audios", "extra"}
    eta = answer["task"]["eta"]
    assert 60 <= eta <= 61  # 60 s of queue plus 0.3 s of processing, rounded up
    assert answer["task"] == {
        "task_id": task_id,
        "task_type": "WAN_IMG_TO_VIDEO",
        "status": QUEUED,
        "reason": "",
        "eta": eta,
        "progress_percent": 0,
    }
    assert answer["videos"] == answer["images"] == answer["audios"] == []
    assert answer["extra"]["seed"] == "1234"
    assert answer["extra"]["enable_nsfw_detection"] is False
    debug = answer["extra"]["debug_info"]
    assert debug["request_info"] == ""
    assert abs(int(debug["submit_time_ms"]) - time.time() * 1000) < 5000
    assert debug["execute_time_ms"] == debug["complete_time_ms"] == "0"


def test_random_seed_is_reported_when_minus_one_is_asked(sim, picture_host):
    sim.configure(queue_seconds=60)
    task_id = submit(sim, body(picture_host, seed=-1)).json()["task_id"]
    seed = poll(sim, task_id).json()["extra"]["seed"]
    assert seed.isdigit()


def test_succeeded_answer_has_one_mp4_video_and_all_times(sim, picture_host):
    answer = run_task(sim, body(picture_host))[-1]
    assert answer["task"]["progress_percent"] == 100 and answer["task"]["eta"] == 0
    [video] = answer["videos"]
    assert video["video_type"] == "mp4"
    assert video["video_url_ttl"] == "3600"
    times = answer["extra"]["debug_info"]
    assert int(times["submit_time_ms"]) <= int(times["execute_time_ms"])
    assert int(times["execute_time_ms"]) <= int(times["complete_time_ms"])


@pytest.mark.parametrize(
    ("fields", "prompt", "eta"),
    [
        ({}, "plain", 5 + 4),
        ({"width": 1280, "height": 720}, "plain", 5 + 10),  # 720p takes 2.5x
        ({"fast_mode": True}, "plain", 5 + 2),  # fast_mode half
        ({}, "a slow one [sim:slow]", 5 + 16),  # 4x
    ],
)
def test_processing_time_depends_on_clarity_fast_mode_and_slow_marker(
    sim, picture_host, fields, prompt, eta
):
    sim.configure(queue_seconds=5, process_seconds=4)
    task_id = submit(sim, body(picture_host, prompt=prompt, **fields)).json()["task_id"]
    assert poll(sim, task_id).json()["task"]["eta"] == eta


def test_unknown_task_is_task_not_found(sim):
    assert error_of(poll(sim, "no-such-task")) == (404, "TASK_NOT_FOUND")


def test_poll_without_task_id_is_invalid_request_body(sim):
    response = requests.get(
        f"{sim.base_url}/v3/async/task-result", headers={"Authorization": f"Bearer {API_KEY}"}
    )
    assert error_of(response) == (400, "INVALID_REQUEST_BODY")


# --- the picture fetch -------------------------------------------------------------------------


def test_image_url_answering_403_fails_the_task(sim, picture_host):
    answer = run_task(sim, body(picture_host, picture="/forbidden.png"))[-1]
    assert answer["task"]["status"] == "TASK_STATUS_FAILED"
    assert answer["task"]["reason"] == (
        "IMAGE_FETCH_FAILED: could not download image_url (HTTP 403)"
    )
    assert answer["videos"] == []


def test_unreachable_image_url_fails_the_task(sim):
    payload = {"prompt": "p", "image_url": f"http://127.0.0.1:{free_port()}/gone.png"}
    answer = run_task(sim, payload)[-1]
    assert answer["task"]["status"] == "TASK_STATUS_FAILED"
    assert answer["task"]["reason"].startswith("IMAGE_FETCH_FAILED: could not download image_url")


def test_image_url_that_is_not_a_picture_fails_the_task(sim, picture_host):
    answer = run_task(sim, body(picture_host, picture="/page.html"))[-1]
    assert answer["task"]["status"] == "TASK_STATUS_FAILED"
    assert answer["task"]["reason"].startswith("IMAGE_FETCH_FAILED: image_url is not a picture")


# --- the video ---------------------------------------------------------------------------------


def test_480p_video_is_h264_81_frames_at_16_fps_with_the_source_aspect(sim, picture_host):
    video = probe(finished_video(sim, body(picture_host, picture="/landscape.png")))
    assert video["codec"] == "h264" and video["pix_fmt"] == "yuv420p"
    assert video["frames"] == 81
    assert video["fps"] == 16
    assert video["duration"] == pytest.approx(5.06, abs=0.02)
    assert video["width"] / video["height"] == pytest.approx(640 / 480, rel=0.03)
    assert video["width"] * video["height"] == pytest.approx(AREA_480P, rel=0.05)
    assert video["width"] % 16 == 0 and video["height"] % 16 == 0


def test_portrait_source_gives_a_portrait_480p_video(sim, picture_host):
    video = probe(finished_video(sim, body(picture_host, picture="/portrait.jpg")))
    assert video["width"] / video["height"] == pytest.approx(360 / 640, rel=0.03)
    assert video["width"] * video["height"] == pytest.approx(AREA_480P, rel=0.05)


def test_missing_height_renders_480p(sim, picture_host):
    video = probe(finished_video(sim, body(picture_host, width=1280)))
    assert video["width"] * video["height"] == pytest.approx(AREA_480P, rel=0.05)


@pytest.mark.live
def test_720p_video_of_a_square_source_is_square(sim, picture_host):
    payload = body(picture_host, picture="/square.png", width=720, height=1280)
    video = probe(finished_video(sim, payload))
    assert (video["width"], video["height"]) == (960, 960)
    assert video["frames"] == 81


def test_video_has_its_moov_atom_before_mdat(sim, picture_host):
    data = finished_video(sim, body(picture_host))
    assert 0 <= data.find(b"moov") < data.find(b"mdat")


def test_video_link_needs_no_key_and_sends_type_and_length(sim, picture_host):
    answer = run_task(sim, body(picture_host))[-1]
    response = requests.get(answer["videos"][0]["video_url"])
    assert response.headers["Content-Type"] == "video/mp4"
    assert int(response.headers["Content-Length"]) == len(response.content) > 1000


def test_video_link_is_refused_once_expired(sim, picture_host):
    sim.configure(video_ttl=1)
    answer = run_task(sim, body(picture_host))[-1]
    url = answer["videos"][0]["video_url"]
    assert answer["videos"][0]["video_url_ttl"] == "1"
    assert requests.get(url).status_code == 200
    expires = int(parse_qs(urlsplit(url).query)["expires"][0])
    time.sleep(max(0.0, expires - time.time() + 0.1))
    assert error_of(requests.get(url)) == (403, "ACCESS_DENIED")


@pytest.mark.parametrize("part", ["signature", "expires", "task"])
def test_tampered_video_link_is_refused(sim, picture_host, part):
    url = run_task(sim, body(picture_host))[-1]["videos"][0]["video_url"]
    parts = urlsplit(url)
    query = parse_qs(parts.query)
    expires, signature = query["expires"][0], query["signature"][0]
    path = parts.path
    if part == "signature":
        signature = ("0" if signature[0] != "0" else "1") + signature[1:]
    elif part == "expires":
        expires = str(int(expires) + 3600)
    else:
        first = len("/sim/videos/")
        path = path[:first] + ("0" if path[first] != "0" else "1") + path[first + 1 :]
    tampered = f"{sim.base_url}{path}?expires={expires}&signature={signature}"
    assert error_of(requests.get(tampered))[0] == 403


def test_each_poll_signs_a_fresh_link(sim, picture_host):
    task_id = run_task(sim, body(picture_host))[-1]["task"]["task_id"]
    sim.configure(video_ttl=7200)
    url = poll(sim, task_id).json()["videos"][0]["video_url"]
    expires = int(parse_qs(urlsplit(url).query)["expires"][0])
    assert expires == pytest.approx(time.time() + 7200, abs=5)
    assert requests.get(url).status_code == 200


# --- prompt markers ----------------------------------------------------------------------------


def test_fail_marker_fails_the_task_with_the_safety_reason(sim, picture_host):
    answer = run_task(sim, body(picture_host, prompt="a cat [sim:fail]"))[-1]
    assert answer["task"]["status"] == "TASK_STATUS_FAILED"
    assert answer["task"]["reason"] == "The content was refused by the safety checker"
    assert answer["videos"] == []


def test_fail_marker_can_carry_its_own_reason(sim, picture_host):
    answer = run_task(sim, body(picture_host, prompt="[sim:fail=GPU fell over] a cat"))[-1]
    assert answer["task"]["reason"] == "GPU fell over"


@pytest.mark.parametrize(
    ("prompt", "status", "reason"),
    [
        ("a cat [sim:reject]", 400, "ILLEGAL_PROMPT"),
        ("a cat [SIM:Reject] on a roof", 400, "ILLEGAL_PROMPT"),
        ("a cat [sim:balance]", 400, "BILLING_BALANCE_NOT_ENOUGH"),
        ("a cat [sim:500]", 500, "CREATE_TASK_FAILED"),
        ("a cat [sim:429]", 429, "RATE_LIMIT_EXCEEDED"),
    ],
)
def test_submit_markers_refuse_without_creating_a_task(sim, picture_host, prompt, status, reason):
    for _ in range(3):
        assert error_of(submit(sim, body(picture_host, prompt=prompt))) == (status, reason)
    assert sim.stats()["tasks"] == {}


def test_counted_429_marker_refuses_only_the_first_submits_of_that_prompt(sim, picture_host):
    prompt = "a dog [sim:429x2]"
    codes = [submit(sim, body(picture_host, prompt=prompt)).status_code for _ in range(3)]
    assert codes == [429, 429, 200]
    assert submit(sim, body(picture_host, prompt="another [sim:429x2]")).status_code == 429


def test_counted_500_marker_then_accepts(sim, picture_host):
    codes = [submit(sim, body(picture_host, prompt="[sim:500x1]")).status_code for _ in range(2)]
    assert codes == [500, 200]


def test_retry_after_suffix_sets_the_header(sim, picture_host):
    response = submit(sim, body(picture_host, prompt="a dog [sim:429x1:retry-after=2]"))
    assert response.status_code == 429
    assert response.headers["Retry-After"] == "2"


def test_timeout_marker_creates_the_task_but_never_answers(sim, picture_host):
    with pytest.raises(requests.ReadTimeout):
        submit(sim, body(picture_host, prompt="[sim:timeout] a cat"), timeout=(2, 0.5))
    [entry] = sim.stats()["submits"]
    assert entry["fault"] == "timeout" and entry["status_code"] is None
    assert entry["task_id"] in sim.stats()["tasks"]


def test_drop_marker_creates_the_task_and_closes_the_connection(sim, picture_host):
    with pytest.raises(requests.ConnectionError):
        submit(sim, body(picture_host, prompt="[sim:drop] a cat"), timeout=5)
    [entry] = sim.stats()["submits"]
    assert entry["fault"] == "drop" and entry["status_code"] is None
    assert entry["task_id"] in sim.stats()["tasks"]


# --- webhooks ----------------------------------------------------------------------------------


def webhook_events(stub, task_id, count, timeout=5.0) -> list[tuple[str, dict]]:
    """The webhook POSTs the stub received for this task, once there are count of them."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        events = [post for post in stub.posts if post[1]["payload"]["task"]["task_id"] == task_id]
        if len(events) >= count:
            return events
        time.sleep(0.05)
    raise TimeoutError(f"fewer than {count} webhook calls for {task_id}")


def test_webhook_receives_the_result_when_the_task_ends(sim, picture_host):
    payload = body(picture_host, extra={"webhook": {"url": picture_host.url("/hook")}})
    task_id = run_task(sim, payload)[-1]["task"]["task_id"]
    [(path, event)] = webhook_events(picture_host, task_id, 1)
    assert path == "/hook"
    assert event["event_type"] == "ASYNC_TASK_RESULT"
    assert event["payload"]["task"]["status"] == SUCCEED
    assert requests.get(event["payload"]["videos"][0]["video_url"]).status_code == 200


def test_webhook_is_retried_while_the_receiver_fails(sim, picture_host):
    payload = body(
        picture_host,
        prompt="[sim:fail]",
        extra={"webhook": {"url": picture_host.url("/hook-down")}},
    )
    task_id = run_task(sim, payload)[-1]["task"]["task_id"]
    events = webhook_events(picture_host, task_id, 2)
    assert all(event["payload"]["task"]["status"] == "TASK_STATUS_FAILED" for _, event in events)
    assert [call["status_code"] for call in sim.stats()["webhooks"]][:2] == [503, 503]


def hooked(picture_host, prompt="a lighthouse at dusk"):
    return body(picture_host, prompt=prompt, extra={"webhook": {"url": picture_host.url("/hook")}})


def test_a_dropped_webhook_is_never_sent(sim, picture_host):
    task_id = run_task(sim, hooked(picture_host, "[sim:hookdrop]"))[-1]["task"]["task_id"]
    time.sleep(0.3)
    assert sim.stats()["webhooks"] == []
    assert sim.stats()["faults"][0] == {**sim.stats()["faults"][0], "fault": "webhook-drop"}
    assert task_id in sim.stats()["finished_at"]


def test_a_duplicated_webhook_comes_twice(sim, picture_host):
    task_id = run_task(sim, hooked(picture_host, "[sim:hookdup]"))[-1]["task"]["task_id"]
    events = webhook_events(picture_host, task_id, 2)
    assert [event["payload"]["task"]["status"] for _, event in events] == [SUCCEED, SUCCEED]


def test_a_delayed_webhook_comes_after_the_task_has_ended(sim, picture_host):
    sim.configure(webhook_fault="delay", webhook_delay=1.0)
    task_id = run_task(sim, hooked(picture_host))[-1]["task"]["task_id"]
    assert [post for post in picture_host.posts if task_id in str(post)] == []
    [(_, event)] = webhook_events(picture_host, task_id, 1)
    assert event["payload"]["task"]["status"] == SUCCEED


def test_an_early_webhook_comes_while_the_task_still_runs_and_none_at_the_end(sim, picture_host):
    sim.configure(queue_seconds=0.1, process_seconds=1.0)
    task_id = submit(sim, hooked(picture_host, "[sim:hookearly]")).json()["task_id"]
    [(_, event)] = webhook_events(picture_host, task_id, 1)
    assert event["payload"]["task"]["status"] == PROCESSING
    assert event["payload"]["task"]["progress_percent"] < 100
    poll_until(sim.base_url, API_KEY, task_id)
    time.sleep(0.3)
    assert len(webhook_events(picture_host, task_id, 1)) == 1


def test_webhook_fault_setting_is_checked(sim):
    with pytest.raises(ValueError, match="webhook_fault"):
        sim.configure(webhook_fault="sometimes")


# --- timings -----------------------------------------------------------------------------------


def test_default_timings_are_the_hosted_services():
    config = SimConfig()
    assert config.queue_seconds + config.process_seconds == 60  # 480p, about a minute
    assert config.queue_seconds + 2.5 * config.process_seconds == pytest.approx(145.5)
    assert 0 < config.spread < 0.5


def test_each_task_takes_its_own_time_within_the_spread(sim, picture_host):
    sim.configure(queue_seconds=60, process_seconds=10, spread=0.2)
    ids = [submit(sim, body(picture_host)).json()["task_id"] for _ in range(8)]
    times = {sim.tasks.get(task_id).process_seconds for task_id in ids}
    assert len(times) == 8
    assert all(8 <= seconds <= 12 for seconds in times)


def test_eta_falls_and_progress_rises_while_a_task_runs(sim, picture_host):
    sim.configure(queue_seconds=0.2, process_seconds=2.0)
    answers = run_task(sim, body(picture_host))
    running = [answer["task"] for answer in answers if answer["task"]["status"] != SUCCEED]
    etas = [task["eta"] for task in running]
    progress = [task["progress_percent"] for task in running]
    assert etas == sorted(etas, reverse=True) and etas[0] > etas[-1]
    assert progress == sorted(progress) and progress[-1] > progress[0]


# --- control endpoints -------------------------------------------------------------------------


def configure(sim, **settings) -> requests.Response:
    return requests.post(f"{sim.base_url}/sim/config", json=settings)


def test_configured_submit_fault_applies_to_every_prompt(sim, picture_host):
    response = configure(sim, submit_fault="500")
    assert response.status_code == 200 and response.json()["submit_fault"] == "500"
    assert error_of(submit(sim, body(picture_host))) == (500, "CREATE_TASK_FAILED")
    assert error_of(submit(sim, body(picture_host, prompt="other"))) == (500, "CREATE_TASK_FAILED")


def test_configured_submit_fault_can_be_counted(sim, picture_host):
    configure(sim, submit_fault="429x1:retry-after=3")
    first = submit(sim, body(picture_host))
    assert first.status_code == 429 and first.headers["Retry-After"] == "3"
    assert submit(sim, body(picture_host)).status_code == 200


def test_fail_rate_one_fails_every_task(sim, picture_host):
    configure(sim, fail_rate=1)
    answer = run_task(sim, body(picture_host))[-1]
    assert answer["task"]["status"] == "TASK_STATUS_FAILED"
    assert answer["task"]["reason"] == "The content was refused by the safety checker"


def test_rate_limit_per_minute_refuses_with_retry_after(sim, picture_host):
    configure(sim, rate_limit_per_minute=2, queue_seconds=60)
    codes = [submit(sim, body(picture_host)).status_code for _ in range(2)]
    refused = submit(sim, body(picture_host))
    assert codes == [200, 200]
    assert error_of(refused) == (429, "RATE_LIMIT_EXCEEDED")
    assert 1 <= int(refused.headers["Retry-After"]) <= 60


@pytest.mark.parametrize(
    "settings",
    [{"port": 1}, {"fail_rate": 2}, {"queue_seconds": "soon"}, {"submit_fault": "nonsense"}],
)
def test_bad_config_is_refused(sim, settings):
    assert error_of(configure(sim, **settings)) == (400, "INVALID_REQUEST_BODY")


def test_config_can_be_read(sim):
    config = requests.get(f"{sim.base_url}/sim/config").json()
    assert config["queue_seconds"] == 0.1 and config["video_ttl"] == 3600


def test_stats_count_submits_polls_and_downloads(sim, picture_host):
    answers = run_task(sim, body(picture_host))
    requests.get(answers[-1]["videos"][0]["video_url"])
    submit(sim, body(picture_host, prompt="[sim:429]"))
    stats = requests.get(f"{sim.base_url}/sim/stats").json()
    task_id = answers[-1]["task"]["task_id"]
    assert [(s["status_code"], s["task_id"]) for s in stats["submits"]] == [
        (200, task_id),
        (429, None),
    ]
    assert stats["submits"][0]["prompt"] == "a lighthouse at dusk"
    assert stats["submits"][0]["image_url"] == picture_host.url("/landscape.png")
    assert stats["submits"][0]["at"] == pytest.approx(time.time(), abs=30)
    assert stats["tasks"] == {task_id: SUCCEED}
    assert stats["polls"] == len(answers)
    assert stats["video_downloads"] == 1


def test_reset_forgets_tasks_and_stats(sim, picture_host):
    task_id = submit(sim, body(picture_host)).json()["task_id"]
    assert requests.post(f"{sim.base_url}/sim/reset").status_code == 200
    assert requests.get(f"{sim.base_url}/sim/stats").json() == {
        "submits": [],
        "tasks": {},
        "polls": 0,
        "video_downloads": 0,
        "webhooks": [],
        "faults": [],
        "finished_at": {},
        "task_polls": {},
        "task_downloads": {},
    }
    assert error_of(poll(sim, task_id)) == (404, "TASK_NOT_FOUND")


def test_unknown_path_is_404(sim):
    assert error_of(requests.get(f"{sim.base_url}/v3/nothing"))[0] == 404


# --- the command line --------------------------------------------------------------------------


def test_command_line_prints_its_address_and_stops_on_sigterm(tmp_path: Path):
    env = dict(os.environ, WANSIM_API_KEY="env-key")
    process = subprocess.Popen(
        [sys.executable, "-m", "wansim", "--port", "0", "--data-dir", str(tmp_path), "--quiet"],
        stdout=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        ready, _, _ = select.select([process.stdout], [], [], 15)
        assert ready, "the simulator printed nothing"
        line = process.stdout.readline().strip()
        assert line.startswith("wansim listening on http://127.0.0.1:")
        base_url = line.rsplit(" ", 1)[1]
        headers = {"Authorization": "Bearer env-key"}
        response = requests.post(f"{base_url}/v3/async/wan-i2v", json={}, headers=headers)
        assert error_of(response) == (400, "INVALID_REQUEST_BODY")  # the key was accepted
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=10) == 0
    finally:
        if process.poll() is None:
            process.kill()
    assert (tmp_path / "videos").is_dir()


def test_frame_size_keeps_the_aspect_at_the_clarity_area():
    assert output_size((832, 480), "480p") == (832, 480)
    assert output_size((1280, 720), "720p") == (1280, 720)
    assert output_size((1000, 1000), "480p") == (624, 624)
    assert output_size((1000, 1000), "720p") == (960, 960)
    width, height = output_size((3000, 4000), "720p")
    assert width / height == pytest.approx(0.75, rel=0.03)
    assert math.isclose(width * height, AREA_720P, rel_tol=0.05)
