"""The whole pipeline in real processes: JSON API → cluster → simulator → stored MP4."""

import io

import av
import pytest
import requests

from .live_studio import LiveStudio
from .support.pictures import picture_bytes

pytestmark = pytest.mark.live


@pytest.fixture(scope="module")
def studio(tmp_path_factory):
    live = LiveStudio(tmp_path_factory.mktemp("studio")).start()
    yield live
    live.stop()


def test_generation_reaches_succeeded_with_a_playable_h264_video(studio):
    created = studio.create("a harbour at dusk, slow push in", picture_bytes(800, 600))
    assert created["status"] == "queued"

    finished = studio.wait_for_terminal([created["id"]])[created["id"]]

    assert finished["status"] == "succeeded", finished["failure_reason"]
    assert finished["api_task_id"]
    assert finished["seed"] is not None
    video = studio.api("GET", finished["video_url"].removeprefix(studio.base_url))
    assert video.headers["Content-Type"] == "video/mp4"
    with av.open(io.BytesIO(video.content)) as container:
        stream = container.streams.video[0]
        assert stream.codec_context.name == "h264"
        assert container.duration / av.time_base == pytest.approx(5.06, abs=0.2)
        assert stream.width / stream.height == pytest.approx(800 / 600, rel=0.05)
    poster = studio.api("GET", finished["poster_url"].removeprefix(studio.base_url))
    assert poster.status_code == 200
    assert poster.content[:2] == b"\xff\xd8"  # a JPEG
    assert len(studio.accepted_posts_for("a harbour at dusk, slow push in")) == 1


def test_a_failing_task_ends_failed_with_the_api_reason(studio):
    prompt = "dancing statue [sim:fail=the pose is not allowed]"
    created = studio.create(prompt, picture_bytes(640, 640))

    finished = studio.wait_for_terminal([created["id"]])[created["id"]]

    assert finished["status"] == "failed"
    assert "the pose is not allowed" in finished["failure_reason"]
    assert len(studio.posts_for(prompt)) == 1


def test_rate_limited_then_accepted_ends_succeeded_with_one_task(studio):
    prompt = "waves rolling in [sim:429x2:retry-after=1]"
    created = studio.create(prompt, picture_bytes(600, 800))

    finished = studio.wait_for_terminal([created["id"]])[created["id"]]

    assert finished["status"] == "succeeded", finished["failure_reason"]
    posts = studio.posts_for(prompt)
    assert [post["status_code"] for post in posts] == [429, 429, 200]
    assert len(studio.accepted_posts_for(prompt)) == 1


def test_server_error_before_acceptance_is_retried(studio):
    prompt = "leaves in the wind [sim:500x1]"
    created = studio.create(prompt, picture_bytes(640, 480))

    finished = studio.wait_for_terminal([created["id"]])[created["id"]]

    assert finished["status"] == "succeeded", finished["failure_reason"]
    assert [post["status_code"] for post in studio.posts_for(prompt)] == [500, 200]


def test_accepted_then_dropped_submit_needs_attention_without_a_second_post(studio):
    prompt = "lanterns drifting [sim:drop]"
    created = studio.create(prompt, picture_bytes(640, 480))

    finished = studio.wait_for_terminal([created["id"]])[created["id"]]

    assert finished["status"] == "needs_attention"
    assert "billed twice" in finished["failure_reason"]
    assert len(studio.posts_for(prompt)) == 1


def test_read_timeout_after_sending_needs_attention(studio):
    prompt = "a slow river [sim:timeout]"
    created = studio.create(prompt, picture_bytes(640, 480))

    finished = studio.wait_for_terminal([created["id"]], timeout=60)[created["id"]]

    assert finished["status"] == "needs_attention"
    assert len(studio.posts_for(prompt)) == 1


def test_rejected_prompt_fails_with_the_api_message(studio):
    prompt = "something the API refuses [sim:reject]"
    created = studio.create(prompt, picture_bytes(640, 480))

    finished = studio.wait_for_terminal([created["id"]])[created["id"]]

    assert finished["status"] == "failed"
    assert "ILLEGAL_PROMPT" in finished["failure_reason"]
    assert len(studio.posts_for(prompt)) == 1


def test_api_refuses_anonymous_requests(studio):
    response = requests.get(studio.base_url + "/api/generations/", timeout=10)
    assert response.status_code == 401
