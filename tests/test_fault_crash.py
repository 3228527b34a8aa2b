"""SIGKILL of the whole cluster while one job posts, one polls and one downloads; restart.

The simulator holds each of those three requests open (a hung submit, a hung poll, a video
that trickles), so the kill lands in the middle of each for certain.
"""

import pytest

from .conftest import picture_bytes
from .live_studio import LiveStudio, wait_until
from .test_fault_matrix import print_table, stored_video_matches_the_api

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
