"""A database that refuses writes (SQLite locked past its busy timeout) at the worst moment:
the API has just accepted, and billed, a task whose id must be recorded."""

import threading
import time

import pytest

from .live_studio import LiveStudio, wait_until
from .support.faults import (
    create_from_source,
    hold_write_lock,
    print_table,
    stored_video_matches_the_api,
    upload_source,
)

pytestmark = pytest.mark.live

ANSWER_AFTER = 2.0  # seconds the simulator holds its "accepted" answer
LOCK_SECONDS = 4.0  # longer than the busy timeout: writes fail with "database is locked"
TABLE = []


@pytest.fixture(scope="module")
def studio(tmp_path_factory, request):
    if not LiveStudio(tmp_path_factory.mktemp("probe")).env()["DATABASE_URL"].startswith("sqlite"):
        pytest.skip("the write lock is SQLite's")
    live = LiveStudio(tmp_path_factory.mktemp("fault-database"), SQLITE_BUSY_TIMEOUT=1)
    try:
        live.start()
        live.configure_simulator(hang_seconds=ANSWER_AFTER)
        yield live
    finally:
        live.stop()
        print_table(request.config, "Fault matrix - database refusing writes", TABLE)


def test_an_accepted_task_is_recorded_even_if_the_database_refuses_writes_for_a_while(studio):
    source_id = upload_source(studio)
    wait_until(lambda: len(studio.sim_stats()["submits"]) == 1, 30, "the first submit")
    prompt = "database: locked while the answer comes [sim:slowaccept]"
    created = create_from_source(studio, prompt, source_id)
    wait_until(lambda: studio.posts_for(prompt), 10, "the POST to reach the API")
    locked = threading.Event()
    holder = threading.Thread(
        target=hold_write_lock, args=(studio.workdir / "studio.sqlite3", LOCK_SECONDS, locked)
    )
    holder.start()
    locked.wait(10)
    holder.join()
    released = time.monotonic()

    row = studio.wait_for_terminal([created["id"]], timeout=90)[created["id"]]
    recovered_in = time.monotonic() - released

    posts = studio.posts_for(prompt)
    TABLE.append(
        (
            "database locked past its busy timeout as the API accepts",
            "succeeded",
            row["status"],
            len(posts),
            row["failure_reason"][:60]
            or f"task id recorded, video stored {recovered_in:.0f} s later",
        )
    )
    assert row["status"] == "succeeded", row["failure_reason"]
    assert len(posts) == 1
    assert row["api_task_id"] == posts[0]["task_id"]
    assert stored_video_matches_the_api(studio, row)
    # The dispatcher kept going through the refusals rather than give up until its next slice.
    assert recovered_in < 30
