"""SIGKILL of the whole cluster (sentinel and workers), then a restart: nothing is posted
twice, nothing is lost. Once mid-run, with work in every state; once while one job posts, one
polls and one downloads, each request held open by the simulator (a hung submit, a hung poll,
a video that trickles), so the kill lands in the middle of each for certain.
"""

import time

import pytest

from .live_studio import LiveStudio, wait_until
from .support.faults import print_table, stored_video_matches_the_api
from .support.pictures import picture_bytes

pytestmark = pytest.mark.live

HOLD_SECONDS = 20  # how long the simulator holds a hung request or trickles a video
TABLE = []


@pytest.fixture(scope="module")
def studio(tmp_path_factory, request):
    live = LiveStudio(
        tmp_path_factory.mktemp("fault-crash"),
        WAN_READ_TIMEOUT=12,  # the hung submit and poll are still waiting when the kill comes
        Q_TIMEOUT=20,  # a download older than this died with its worker
        Q_WORKERS=4,
    )
    try:
        live.start()
        live.configure_simulator(hang_seconds=HOLD_SECONDS)
        yield live
    finally:
        live.stop()
        print_table(request.config, "Fault matrix - cluster killed", TABLE)


def test_kill_nine_mid_run_then_restart_loses_nothing_and_posts_once(studio):
    prompts = [f"crash test scene {index}" for index in range(6)]
    created = [
        studio.create(prompt, picture_bytes(640, 480 + index * 16))
        for index, prompt in enumerate(prompts)
    ]
    ids = [row["id"] for row in created]
    # Kill while work is in flight: some submitted, some processing or downloading.
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if sum(len(studio.posts_for(prompt)) for prompt in prompts) >= 2:
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
    accepted = {post["task_id"] for prompt in prompts for post in studio.accepted_posts_for(prompt)}
    succeeded_tasks = {row["api_task_id"] for row in finished.values() if row["api_task_id"]}
    assert succeeded_tasks <= accepted


def task_of(studio, generation):
    return studio.generation(generation["id"])["api_task_id"]


def test_sigkill_during_submit_poll_and_download_then_restart(studio):
    picture = picture_bytes(832, 480)
    download = studio.create("crash: killed while downloading [sim:slowvideox1]", picture)
    wait_until(
        lambda: "slowvideo" in studio.sim_faults(task_of(studio, download) or "-"),
        30,
        "the download to start",
    )
    # One after the other: the dispatcher, held by the hung poll, must not be the one to post.
    poll = studio.create("crash: killed while polling [sim:pollhangx1]", picture)
    wait_until(
        lambda: "pollhang" in studio.sim_faults(task_of(studio, poll) or "-"), 15, "a hung poll"
    )
    submit = studio.create("crash: killed while submitting [sim:timeout]", picture)
    wait_until(lambda: studio.posts_for(submit["parameters"]["prompt"]), 10, "a hung submit")
    assert studio.generation(download["id"])["status"] == "downloading"
    assert studio.generation(poll["id"])["status"] in ("submitted", "processing")
    assert studio.generation(submit["id"])["status"] == "submitting"

    studio.kill_cluster()
    studio.start_cluster()

    finished = studio.wait_for_terminal([download["id"], poll["id"], submit["id"]], timeout=150)

    expected = {
        download["id"]: "succeeded",
        poll["id"]: "succeeded",
        submit["id"]: "needs_attention",
    }
    for phase, generation in (("submit", submit), ("poll", poll), ("download", download)):
        row = finished[generation["id"]]
        posts = studio.posts_for(row["parameters"]["prompt"])
        note = row["failure_reason"][:60] or "video stored intact"
        TABLE.append(
            (f"SIGKILL during {phase}", expected[row["id"]], row["status"], len(posts), note)
        )
    for generation_id, row in finished.items():
        assert row["status"] == expected[generation_id], row
        assert len(studio.posts_for(row["parameters"]["prompt"])) == 1
    assert stored_video_matches_the_api(studio, finished[download["id"]])
    assert stored_video_matches_the_api(studio, finished[poll["id"]])
    assert finished[submit["id"]]["api_task_id"] is None
    assert "billed twice" in finished[submit["id"]]["failure_reason"]
