"""Two clusters against one PostgreSQL: 300 generations, one POST each, each video stored once.

Runs in make test's second pass (DATABASE_URL naming a PostgreSQL server; with REDIS_URL the
clusters share a Redis queue). A recording proxy in front of the simulator sees every request.
"""

import os
import signal
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import psycopg
import pytest

from bench.recorder import RecordingProxy

from .live_studio import LiveStudio
from .support.pictures import picture_bytes

pytestmark = [
    pytest.mark.live,
    pytest.mark.skipif(
        not os.environ.get("DATABASE_URL", "").startswith(("postgres:", "postgresql:")),
        reason="needs DATABASE_URL naming a PostgreSQL server (make test's second pass)",
    ),
]

GENERATIONS = 300
POLL_MIN_SECONDS = 0.5  # LiveStudio's WAN_POLL_MIN_SECONDS
TERMINAL = ("succeeded", "failed", "canceled", "needs_attention")


class ProxiedStudio(LiveStudio):
    """A studio whose clusters reach the simulator through a RecordingProxy."""

    def start_simulator(self):
        super().start_simulator()
        self.proxy = RecordingProxy(self.sim_url).start()
        self.sim_url = self.proxy.url

    def stop(self):
        # The test is over: a cluster mid-dispatch need not finish its run (a graceful stop
        # would wait for it), and the proxy goes last.
        for name in ("cluster", "cluster-2"):
            if name in self.processes and self.processes[name].poll() is None:
                os.killpg(self.processes[name].pid, signal.SIGKILL)
        super().stop()
        self.proxy.stop()

    def sql(self, query):
        with psycopg.connect(self.postgres.url) as connection:
            return connection.execute(query).fetchall()

    def statuses(self):
        return dict(self.sql("SELECT status, count(*) FROM generations_generation GROUP BY 1"))


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    """Start two clusters, create the generations, wait until every one is finished."""
    studio = ProxiedStudio(
        tmp_path_factory.mktemp("scale"), Q_WORKERS=2, WAN_API_RATE_PER_MINUTE=60_000
    )
    studio.start()
    studio.start_cluster("cluster-2")
    started = time.monotonic()
    try:
        first = studio.create("scale scene 0", picture_bytes(640, 480))

        def create(index):
            data = {"prompt": f"scale scene {index}", "source_image": first["source_image"]}
            response = studio.api("POST", "/api/generations/", data=data)
            assert response.status_code == 201, response.text

        with ThreadPoolExecutor(4) as pool:
            list(pool.map(create, range(1, GENERATIONS)))
        deadline = time.monotonic() + 240
        while sum(studio.statuses().get(status, 0) for status in TERMINAL) < GENERATIONS:
            assert time.monotonic() < deadline, f"still running: {studio.statuses()}"
            time.sleep(1)
        print(f"\n{GENERATIONS} generations on two clusters in {time.monotonic() - started:.1f} s")
        yield studio
    finally:
        studio.stop()


def test_every_generation_succeeds(run):
    assert run.statuses() == {"succeeded": GENERATIONS}


def test_every_generation_was_posted_exactly_once(run):
    submits = run.sim_stats()["submits"]

    assert Counter(submit["prompt"] for submit in submits) == Counter(
        f"scale scene {index}" for index in range(GENERATIONS)
    )
    assert {submit["status_code"] for submit in submits} == {200}
    assert run.proxy.count("submit") == GENERATIONS


def test_every_video_was_downloaded_once(run):
    downloads = run.proxy.per_task("video")

    assert len(downloads) == GENERATIONS
    assert set(downloads.values()) == {1}
    assert run.sim_stats()["video_downloads"] == GENERATIONS


def test_every_video_and_poster_is_stored_once(run):
    rows = run.sql("SELECT video, poster, video_bytes FROM generations_generation")
    media = run.workdir / "media"

    assert len({video for video, _, _ in rows}) == GENERATIONS
    assert len(list(media.glob("videos/**/*.mp4"))) == GENERATIONS
    assert len(list(media.glob("posters/**/*.jpg"))) == GENERATIONS
    for video, _, size in rows:
        assert (media / video).stat().st_size == size


def test_no_task_was_polled_twice_at_once(run):
    # Each poll sets the next one at least POLL_MIN_SECONDS (less 15% jitter) later; two
    # dispatchers polling one task would show as polls closer together than that.
    gaps = [
        later - earlier
        for moments in run.proxy.times_by_task("poll").values()
        for earlier, later in zip(moments, moments[1:], strict=False)
    ]
    assert gaps and min(gaps) >= POLL_MIN_SECONDS * 0.8


def test_both_clusters_did_the_work(run):
    for cluster in ("cluster", "cluster-2"):
        log = (run.workdir / f"{cluster}.log").read_text(errors="replace")
        assert "Processed 'generations.tasks.submit'" in log, cluster
        assert "Processed 'generations.tasks.download'" in log, cluster


def test_healthz_counts_both_clusters(run):
    answer = run.api("GET", "/healthz")

    assert answer.status_code == 200, answer.text
    checks = answer.json()["checks"]
    if run.redis_url:  # clusters report in through Redis
        assert checks["broker"]["kind"] == "redis"
        assert checks["cluster"]["clusters"] == 2
