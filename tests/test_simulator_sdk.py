"""The vendor's own SDK (novita_client 0.7.1) reads the simulator's task-result answers.

If the SDK parses them, the simulator's answers have the shapes and types the real service sends.
"""

import time

import pytest
import requests
from novita_client import NovitaClient
from novita_client.proto import V3TaskResponseStatus

from wansim.testing import poll_until

from .support.simulator import API_KEY


@pytest.fixture
def novita(sim):
    return NovitaClient(API_KEY, base_url=sim.base_url)


def submit(sim, picture_host, prompt="a quiet harbour", **settings) -> str:
    sim.configure(**{"queue_seconds": 0.1, "process_seconds": 0.3, **settings})
    response = requests.post(
        f"{sim.base_url}/v3/async/wan-i2v",
        json={"prompt": prompt, "image_url": picture_host.url("/landscape.png"), "seed": 42},
        headers={"Authorization": f"Bearer {API_KEY}"},
    )
    assert response.status_code == 200, response.text
    return response.json()["task_id"]


def test_sdk_reads_a_queued_task(sim, picture_host, novita):
    task_id = submit(sim, picture_host, queue_seconds=60)
    result = novita.async_task_result(task_id)
    assert result.task.task_id == task_id
    assert result.task.status == V3TaskResponseStatus.TASK_STATUS_QUEUED
    assert result.task.progress_percent == 0
    assert result.task.eta > 0
    assert result.videos == []
    assert result.extra.seed == 42
    assert result.extra.debug_info.execute_time_ms == 0
    assert not result.finished()


def test_sdk_reads_a_processing_task(sim, picture_host, novita):
    task_id = submit(sim, picture_host, process_seconds=60)
    poll_until(sim.base_url, API_KEY, task_id, statuses=("TASK_STATUS_PROCESSING",), timeout=10)
    result = novita.async_task_result(task_id)
    assert result.task.status == V3TaskResponseStatus.TASK_STATUS_PROCESSING
    assert 0 <= result.task.progress_percent < 100
    assert result.extra.debug_info.execute_time_ms > 0
    assert not result.finished()


def test_sdk_reads_a_succeeded_task(sim, picture_host, novita):
    task_id = submit(sim, picture_host)
    poll_until(sim.base_url, API_KEY, task_id)
    result = novita.async_task_result(task_id)
    assert result.task.status == V3TaskResponseStatus.TASK_STATUS_SUCCEED
    assert result.finished()
    [video] = result.videos
    assert video.video_type == "mp4"
    assert video.video_url_ttl == 3600  # sent as the string "3600", as the docs show
    assert requests.get(video.video_url).status_code == 200
    assert result.extra.debug_info.complete_time_ms >= result.extra.debug_info.submit_time_ms


def test_sdk_reads_a_failed_task(sim, picture_host, novita):
    task_id = submit(sim, picture_host, prompt="a harbour [sim:fail]")
    poll_until(sim.base_url, API_KEY, task_id)
    result = novita.async_task_result(task_id)
    assert result.task.status == V3TaskResponseStatus.TASK_STATUS_FAILED
    assert result.task.reason == "The content was refused by the safety checker"
    assert result.videos == []
    assert result.finished()


def test_sdk_wait_helper_sees_the_task_through(sim, picture_host, novita):
    task_id = submit(sim, picture_host)
    started = time.monotonic()
    result = novita.wait_for_task_v3(task_id, wait_for=30)
    assert result.task.status == V3TaskResponseStatus.TASK_STATUS_SUCCEED
    assert time.monotonic() - started < 30
