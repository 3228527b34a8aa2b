"""The fault matrix: every way the API can misbehave, played through the running studio.

A real simulator, web server and django-q2 cluster talk real HTTP. For each fault the test
asserts the generation's end state, how many POSTs the simulator saw (never a second task),
that the fault really was played, and that every finished video is stored byte for byte.
The table of outcomes is printed at the end of the module (and kept in test-output/).
"""

import sqlite3
import threading
import time
from dataclasses import dataclass

import pytest

from .live_studio import LiveStudio, wait_until
from .support import PASSWORD
from .support.faults import (
    create_from_source,
    hold_write_lock,
    print_table,
    stored_video_matches_the_api,
    upload_source,
)
from .support.pictures import picture_bytes
from .support.sessions import logged_in_session

pytestmark = pytest.mark.live

API_KEY = "sk-fault-matrix-5e1f0c2b9a7d4c3e"


@dataclass(frozen=True)
class Case:
    name: str
    marker: str
    expected: str  # the end state
    posts: int = 1  # POSTs the simulator must see for this generation
    reason: str = ""  # a part of the failure reason, when it must say why
    played: tuple = ()  # (fault, times) the simulator must have played at least

    @property
    def prompt(self):
        return f"fault matrix: {self.name} {self.marker}".strip()


CASES = [
    Case("no fault", "", "succeeded"),
    Case("submit 500 before acceptance", "[sim:500x1]", "succeeded", posts=2),
    Case("429 without Retry-After", "[sim:429x2]", "succeeded", posts=3),
    Case("429, Retry-After in seconds", "[sim:429x1:retry-after=2]", "succeeded", posts=2),
    Case("429, Retry-After as an HTTP-date", "[sim:429x1:retry-date=3]", "succeeded", posts=2),
    Case("refused as invalid (400)", "[sim:reject]", "failed", reason="ILLEGAL_PROMPT"),
    Case("accepted, then connection dropped", "[sim:drop]", "needs_attention", reason="billed"),
    Case("read timeout after sending", "[sim:timeout]", "needs_attention", reason="billed"),
    Case("task failed by the API", "[sim:fail=pose refused]", "failed", reason="pose refused"),
    Case("poll 502 HTML", "[sim:poll502x3]", "succeeded", played=(("poll502", 3),)),
    Case("poll truncated JSON", "[sim:pollcutx3]", "succeeded", played=(("pollcut", 3),)),
    Case("poll 404 TASK_NOT_FOUND, then found", "[sim:poll404x2]", "succeeded"),
    Case(
        "poll 404 TASK_NOT_FOUND for good",
        "[sim:poll404]",
        "failed",
        reason="no longer knows",
        played=(("poll404", 3),),
    ),
    Case("unknown status values", "[sim:oddstatusx3]", "succeeded", played=(("oddstatus", 3),)),
    Case("numbers as strings, strings as numbers", "[sim:flip]", "succeeded"),
    Case("success with an empty videos list", "[sim:novideox2]", "succeeded"),
    Case(
        "success with no video, for good",
        "[sim:novideo]",
        "failed",
        reason="without a video",
        played=(("novideo", 5),),
    ),
    Case(
        "link already expired, fresh link on re-poll",
        "[sim:expiredx1]",
        "succeeded",
        played=(("expired", 1),),
    ),
    Case(
        "link already expired, no fresh link",
        "[sim:expired]",
        "failed",
        reason="expired",
        played=(("expired", 3),),
    ),
    Case("download truncated mid-body", "[sim:cutvideox1]", "succeeded", played=(("cutvideo", 1),)),
    Case("a 'video' that is not an MP4, once", "[sim:notmp4x1]", "succeeded"),
    Case(
        "a 'video' that is never an MP4",
        "[sim:notmp4]",
        "failed",
        reason="not an MP4",
        played=(("notmp4", 3),),
    ),
]
TABLE = []  # (case, expected, outcome, POSTs, note)


@pytest.fixture(scope="module")
def studio(tmp_path_factory, request):
    live = LiveStudio(tmp_path_factory.mktemp("fault-matrix"), WAN_API_KEY=API_KEY)
    try:
        live.start()
        live.configure_simulator(api_key=API_KEY, hang_seconds=6)
        yield live
    finally:
        live.stop()
        print_table(request.config, "Fault matrix", TABLE)


def judge(studio, case, row, posts):
    """What is wrong with this row's outcome ("" when it is what the case expects)."""
    problems = []
    if row["status"] != case.expected:
        problems.append(f"ended {row['status']}: {row['failure_reason']}")
    if len(posts) != case.posts:
        problems.append(f"{len(posts)} POSTs, expected {case.posts}")
    if sum(1 for post in posts if post["task_id"]) > 1:
        problems.append("more than one task created")
    if case.reason and case.reason.lower() not in row["failure_reason"].lower():
        problems.append(f"reason {row['failure_reason']!r} lacks {case.reason!r}")
    if row["status"] == "succeeded" and not stored_video_matches_the_api(studio, row):
        problems.append("the stored video is not the API's")
    task_id = next((post["task_id"] for post in posts if post["task_id"]), None)
    for fault, times in case.played:
        played = studio.sim_faults(task_id).count(fault)
        if played < times:
            problems.append(f"{fault} played {played} times, expected {times}")
    return "; ".join(problems)


def test_every_fault_of_the_api_ends_where_it_should(studio):
    source_id = upload_source(studio)
    created = {case: create_from_source(studio, case.prompt, source_id) for case in CASES}

    finished = studio.wait_for_terminal([row["id"] for row in created.values()], timeout=150)

    wrong = []
    for case, row in created.items():
        row = finished[row["id"]]
        posts = studio.posts_for(case.prompt)
        problem = judge(studio, case, row, posts)
        note = problem or (row["failure_reason"] or "video stored intact")[:70]
        TABLE.append((case.name, case.expected, row["status"], len(posts), note))
        if problem:
            wrong.append(f"{case.name}: {problem}")
    assert not wrong, "\n".join(wrong)


def post_gap(studio, prompt):
    times = [post["at"] for post in studio.posts_for(prompt)]
    return times[1] - times[0]


@pytest.mark.parametrize(
    "name, at_least",
    [("429, Retry-After in seconds", 1.9), ("429, Retry-After as an HTTP-date", 1.5)],
)
def test_retry_after_is_honoured(studio, name, at_least):
    case = next(case for case in CASES if case.name == name)
    assert len(studio.posts_for(case.prompt)) == 2, "run after the matrix"
    assert post_gap(studio, case.prompt) >= at_least


def test_connection_refused_is_retried_until_the_api_comes_back(studio):
    prompt = "fault matrix: connection refused"
    studio.stop_simulator()
    try:
        created = studio.create(prompt, picture_bytes(832, 480))
        wait_until(
            lambda: "CONNECTION_FAILED" in studio.generation(created["id"])["failure_reason"],
            30,
            "a refused submit",
        )
        assert studio.generation(created["id"])["status"] == "queued"
    finally:
        studio.restart_simulator("--api-key", API_KEY)

    row = studio.wait_for_terminal([created["id"]], timeout=60)[created["id"]]

    posts = studio.posts_for(prompt)
    outcome = row["status"] if row["status"] != "succeeded" or len(posts) == 1 else "duplicated"
    TABLE.append(("connection refused", "succeeded", outcome, len(posts), "retried, then sent"))
    assert row["status"] == "succeeded", row["failure_reason"]
    assert len(posts) == 1  # the refused attempts never reached the API
    assert stored_video_matches_the_api(studio, row)


def test_a_briefly_locked_database_loses_nothing_and_posts_once(studio):
    if not str(studio.env()["DATABASE_URL"]).startswith("sqlite"):
        pytest.skip("the write lock is SQLite's")
    source_id = upload_source(studio)
    prompts = [f"fault matrix: database locked {index}" for index in range(4)]
    created = [create_from_source(studio, prompt, source_id) for prompt in prompts]
    wait_until(lambda: len(studio.sim_stats()["submits"]) >= 1, 20, "a submit")
    locked = threading.Event()
    holder = threading.Thread(
        target=hold_write_lock, args=(studio.workdir / "studio.sqlite3", 4.0, locked)
    )
    holder.start()
    locked.wait(10)
    began = time.monotonic()
    holder.join()
    held = time.monotonic() - began

    finished = studio.wait_for_terminal([row["id"] for row in created], timeout=90)

    outcomes = sorted({row["status"] for row in finished.values()})
    posts = [len(studio.posts_for(prompt)) for prompt in prompts]
    note = f"write lock held {held:.1f} s while {len(prompts)} generations ran"
    TABLE.append(("database briefly locked", "succeeded", "/".join(outcomes), sum(posts), note))
    assert outcomes == ["succeeded"]
    assert posts == [1] * len(prompts)
    assert all(stored_video_matches_the_api(studio, row) for row in finished.values())


def test_the_api_key_is_in_no_page_log_or_row(studio):
    studio.manage(
        "shell",
        "-c",
        "from django.contrib.auth import get_user_model; get_user_model().objects."
        "filter(username='root').exists() or get_user_model().objects.create_superuser("
        f"'root', password={PASSWORD!r})",
    )
    browser = logged_in_session(studio, "root", path="/admin/login/")
    rows = studio.api("GET", "/api/generations/?limit=200").json()["results"]
    paths = ["/", "/admin/", "/admin/generations/generation/", "/admin/django_q/"]
    for row in rows:
        paths += [
            f"/generations/{row['id']}/",
            f"/admin/generations/generation/{row['id']}/change/",
        ]
    pages = {path: browser.get(studio.base_url + path) for path in paths}
    assert pages["/admin/"].status_code == 200 and "Log out" in pages["/admin/"].text

    leaks = [path for path, page in pages.items() if API_KEY in page.text]
    leaks += ["JSON API"] if API_KEY in str(rows) else []
    leaks += [log.name for log in studio.workdir.glob("*.log") if API_KEY in log.read_text()]
    if studio.env()["DATABASE_URL"].startswith("sqlite"):
        with sqlite3.connect(studio.workdir / "studio.sqlite3") as database:
            leaks += ["database"] if any(API_KEY in line for line in database.iterdump()) else []

    TABLE.append(
        ("API key in pages, logs, rows", "nowhere", ", ".join(leaks) or "nowhere", "-", "")
    )
    assert leaks == []
