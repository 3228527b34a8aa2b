"""SIGKILL the cluster mid-run, start it again: nothing is posted twice, nothing is lost."""

import time

import pytest

from .conftest import picture_bytes
from .live_studio import LiveStudio

pytestmark = pytest.mark.live


def test_kill_nine_mid_run_then_restart_loses_nothing_and_posts_once(tmp_path):
    studio = LiveStudio(tmp_path / "studio").start()
    try:
        prompts = [f"crash test scene {index}" for index in range(6)]
        created = [
            studio.create(prompt, picture_bytes(640, 480 + index * 16))
            for index, prompt in enumerate(prompts)
        ]
        ids = [row["id"] for row in created]
        # Kill while work is in flight: some submitted, some processing or downloading.
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if len(studio.sim_stats()["submits"]) >= 2:
                break
            time.sleep(0.2)
        studio.kill_cluster()
        studio.start_cluster()

        finished = studio.wait_for_terminal(ids, timeout=180)

        for prompt in prompts:
            assert len(studio.posts_for(prompt)) <= 1, prompt
        for row in finished.values():
            assert row["status"] in ("succeeded", "needs_attention"), row
            if row["status"] == "succeeded":
                video = studio.api("GET", row["video_url"].removeprefix(studio.base_url))
                assert video.status_code == 200 and len(video.content) == row["video_bytes"]
            else:  # only a submit interrupted mid-POST may end here
                assert row["api_task_id"] is None
        accepted = {post["task_id"] for post in studio.sim_stats()["submits"] if post["task_id"]}
        succeeded_tasks = {row["api_task_id"] for row in finished.values() if row["api_task_id"]}
        assert succeeded_tasks <= accepted
    finally:
        studio.stop()
