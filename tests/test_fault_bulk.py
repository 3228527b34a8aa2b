"""200 generations at once, one in ten with a random fault, through the running studio.

Every one must end succeeded, failed with a reason, or needs_attention as its fault says;
no prompt may have made two tasks; every video the studio knows of must be stored intact.
"""

import os
import random
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import pytest

from .live_studio import LiveStudio
from .support.faults import (
    create_from_source,
    print_table,
    stored_video_matches_the_api,
    upload_source,
)

pytestmark = pytest.mark.live

COUNT = 200
FAULT_SHARE = 0.10
# Each fault, and where a generation that meets it must end.
FAULTS = {
    "[sim:500x1]": "succeeded",
    "[sim:429x1:retry-after=1]": "succeeded",
    "[sim:drop]": "needs_attention",
    "[sim:timeout]": "needs_attention",
    "[sim:reject]": "failed",
    "[sim:fail=refused by the checker]": "failed",
    "[sim:poll502x2]": "succeeded",
    "[sim:pollcutx2]": "succeeded",
    "[sim:poll404x1]": "succeeded",
    "[sim:oddstatusx2]": "succeeded",
    "[sim:flip]": "succeeded",
    "[sim:novideox1]": "succeeded",
    "[sim:expiredx1]": "succeeded",
    "[sim:cutvideox1]": "succeeded",
    "[sim:notmp4x1]": "succeeded",
}


@pytest.fixture(scope="module")
def studio(tmp_path_factory):
    live = LiveStudio(
        tmp_path_factory.mktemp("fault-bulk"),
        WAN_API_RATE_PER_MINUTE=12000,
        Q_WORKERS=4,
    )
    try:
        live.start()
        live.configure_simulator(hang_seconds=5)
        yield live
    finally:
        live.stop()


def planned_prompts(seed):
    chance = random.Random(seed)
    faulty = set(chance.sample(range(COUNT), int(COUNT * FAULT_SHARE)))
    plan = {}
    for index in range(COUNT):
        marker = chance.choice(sorted(FAULTS)) if index in faulty else ""
        plan[f"bulk {index:03d} {marker}".strip()] = marker
    return plan


def test_two_hundred_at_once_with_random_faults_lose_nothing(studio, request):
    seed = int(os.environ.get("FAULT_SEED") or time.time())  # printed, to replay a run
    plan = planned_prompts(seed)
    source_id = upload_source(studio)
    began = time.monotonic()
    with ThreadPoolExecutor(max_workers=4) as pool:
        created = list(pool.map(lambda prompt: create_from_source(studio, prompt, source_id), plan))
    finished = studio.wait_for_terminal([row["id"] for row in created], timeout=300)
    elapsed = time.monotonic() - began

    rows = {row["parameters"]["prompt"]: finished[row["id"]] for row in created}
    submits = studio.sim_stats()["submits"]
    tasks_per_prompt = Counter(post["prompt"] for post in submits if post["task_id"])
    wrong, outcomes = [], Counter()
    for prompt, row in rows.items():
        expected = FAULTS.get(plan[prompt], "succeeded")
        outcomes[(plan[prompt] or "no fault", expected, row["status"])] += 1
        if row["status"] != expected:
            wrong.append(f"{prompt}: {row['status']} ({row['failure_reason']})")
        if row["status"] in ("failed", "needs_attention") and not row["failure_reason"]:
            wrong.append(f"{prompt}: {row['status']} without a reason")
        if tasks_per_prompt[prompt] > 1:
            wrong.append(f"{prompt}: {tasks_per_prompt[prompt]} tasks")
        if row["status"] == "succeeded" and not stored_video_matches_the_api(studio, row):
            wrong.append(f"{prompt}: the stored video is not the API's")
    task_ids = [row["api_task_id"] for row in rows.values() if row["api_task_id"]]
    succeeded_in_sim = {
        task_id
        for task_id, status in studio.sim_stats()["tasks"].items()
        if status.endswith("SUCCEED")
    }
    known = {row["api_task_id"]: row for row in rows.values() if row["api_task_id"]}
    lost = [
        task for task in succeeded_in_sim if task in known and known[task]["status"] != "succeeded"
    ]

    statuses = Counter(row["status"] for row in rows.values())
    posts = sum(1 for post in submits if post["prompt"] in plan)
    table = [
        (marker, expected, status, count, "")
        for (marker, expected, status), count in sorted(outcomes.items())
    ]
    table.append(
        (
            f"all {COUNT}, seed {seed}",
            "-",
            ", ".join(f"{count} {status}" for status, count in statuses.most_common()),
            COUNT,
            f"{posts} POSTs, {len(set(task_ids))} tasks, {len(lost)} lost videos, {elapsed:.0f} s",
        )
    )
    header = ("fault", "expected", "outcome", "generations", "note")
    print_table(request.config, "Fault matrix - 200 at once", table, header)

    assert len(task_ids) == len(set(task_ids)), "a task id is shared"
    assert lost == []
    assert not wrong, "\n".join(wrong[:20])
