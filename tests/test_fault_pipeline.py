"""The pipeline's answers to faults that must not cost a paid result (fast, no processes;
tests/test_fault_matrix.py and friends play the same faults through the running studio)."""

import pytest
from django.db import OperationalError

from generations import pipeline, wan_api
from generations.models import Generation, Status

from .support.api_stand_ins import accepted

NOT_MP4 = wan_api.DownloadResult(wan_api.DownloadOutcome.INVALID, message="not an MP4 video")


class BadDownloads:
    def download(self, url, dest, *, max_bytes):
        return NOT_MP4


@pytest.fixture
def downloading(make_generation, pipeline_api):
    pipeline_api(BadDownloads())
    return make_generation(status=Status.DOWNLOADING, api_task_id="task-1")


def test_an_error_page_instead_of_the_video_asks_for_a_fresh_link(downloading):
    pipeline.download_result(downloading.pk, "https://cdn.example/v.mp4")

    downloading.refresh_from_db()
    assert downloading.status == Status.PROCESSING
    assert "not a usable video" in downloading.events.last().note


def test_a_link_that_never_serves_a_video_ends_failed_with_the_reason(downloading):
    for _ in range(pipeline.MAX_POLL_TROUBLES["expired"]):
        Generation.objects.filter(pk=downloading.pk).update(status=Status.DOWNLOADING)
        pipeline.download_result(downloading.pk, "https://cdn.example/v.mp4")

    downloading.refresh_from_db()
    assert downloading.status == Status.FAILED
    assert downloading.failure_reason == "The result could not be used: not an MP4 video"


# --- an accepted task while the database refuses writes --------------------------------


@pytest.fixture
def submitting(make_generation, monkeypatch):
    monkeypatch.setattr(pipeline.time, "sleep", lambda seconds: None)
    generation = make_generation()
    generation.claim_for_submit()
    return generation


def refusing(times, monkeypatch):
    """mark_submitted fails as SQLite does past its busy timeout, `times` times."""
    real = Generation.mark_submitted
    refusals = []

    def mark_submitted(self, *args, **kwargs):
        if len(refusals) < times:
            refusals.append(1)
            raise OperationalError("database is locked")
        return real(self, *args, **kwargs)

    monkeypatch.setattr(Generation, "mark_submitted", mark_submitted)
    return refusals


ACCEPTED = accepted("task-9")


def test_an_accepted_task_id_survives_a_database_that_refuses_writes(submitting, monkeypatch):
    refusals = refusing(pipeline.RECORD_ACCEPTED_TRIES - 1, monkeypatch)

    pipeline.apply_submit_result(submitting, ACCEPTED)

    submitting.refresh_from_db()
    assert (submitting.status, submitting.api_task_id) == (Status.SUBMITTED, "task-9")
    assert len(refusals) == pipeline.RECORD_ACCEPTED_TRIES - 1


def test_a_task_id_that_cannot_be_recorded_is_logged(submitting, monkeypatch, caplog):
    refusing(pipeline.RECORD_ACCEPTED_TRIES, monkeypatch)

    with pytest.raises(OperationalError):
        pipeline.apply_submit_result(submitting, ACCEPTED)

    assert "task-9" in caplog.text


# --- the dispatcher and a database that refuses for a moment -----------------------------


class Clock:
    """The dispatcher's time: a sleep moves it on at once."""

    def __init__(self):
        self.now = 0.0

    def monotonic(self):
        return self.now

    def sleep(self, seconds):
        self.now += seconds


def test_the_dispatcher_outlives_a_moment_of_database_refusal(db, monkeypatch):
    monkeypatch.setattr(pipeline, "time", Clock())
    refusals = iter([OperationalError("database is locked")])
    rounds = []

    def poll_due_generations(until):
        rounds.append(until)
        refusal = next(refusals, None)
        if refusal is not None:
            raise refusal

    monkeypatch.setattr(pipeline, "poll_due_generations", poll_due_generations)
    monkeypatch.setattr(pipeline, "submit_due_generations", lambda until: None)
    monkeypatch.setattr(pipeline, "seconds_until_next_due", lambda: None)

    pipeline.dispatch(until=3.0)

    assert len(rounds) == 3  # after the refusal it kept looking, a second apart, to its end


def test_the_dispatcher_looks_again_as_soon_as_a_task_is_due(db, monkeypatch):
    clock = Clock()
    monkeypatch.setattr(pipeline, "time", clock)
    looks = []
    monkeypatch.setattr(pipeline, "poll_due_generations", lambda until: looks.append(clock.now))
    monkeypatch.setattr(pipeline, "submit_due_generations", lambda until: None)
    monkeypatch.setattr(pipeline, "seconds_until_next_due", lambda: 0.3)

    pipeline.dispatch(until=1.0)

    assert looks == pytest.approx([0.0, 0.3, 0.6, 0.9])
