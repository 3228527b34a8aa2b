"""The queue glue: jobs carry ids once the row is committed, the dispatcher runs in slices that
hand over to each other, and a starting cluster runs what came due at once."""

import ast
import uuid
from datetime import timedelta

import pytest
from django.utils import timezone
from django_q.models import Schedule

from generations import jobs


@pytest.fixture
def enqueued(monkeypatch):
    """What reaches the queue, as (dotted path, args), instead of the broker."""
    sent = []

    def async_task(func, *args, **kwargs):
        sent.append((func, args))
        return uuid.uuid4().hex

    monkeypatch.setattr(jobs, "async_task", async_task)
    monkeypatch.setattr("django_q.scheduler.async_task", async_task)
    # As a worker would; here it would close the connection the test's transaction is on.
    monkeypatch.setattr("django_q.scheduler.close_old_django_connections", lambda: None)
    return sent


def test_a_submit_is_enqueued_by_id_once_its_row_is_committed(
    db, enqueued, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        jobs.enqueue_submit(42)
        assert enqueued == []

    assert enqueued == [("generations.tasks.submit", (42,))]


def test_a_download_is_enqueued_with_its_link(db, enqueued, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        jobs.enqueue_download(42, "https://cdn.example/v.mp4")

    assert enqueued == [("generations.tasks.download", (42, "https://cdn.example/v.mp4"))]


def test_the_dispatcher_reconcile_and_statistics_are_one_schedule_each(db):
    jobs.ensure_schedules()
    jobs.ensure_schedules()  # every migrate

    schedules = dict(Schedule.objects.values_list("name", "func"))
    assert schedules == {
        "dispatch": "generations.tasks.dispatch",
        "reconcile": "generations.tasks.reconcile",
        "statistics": "generations.tasks.refresh_statistics",
    }


def test_a_slice_has_time_enough_for_its_last_request(db, settings):
    settings.WAN_READ_TIMEOUT = 30
    jobs.ensure_schedules()

    kwargs = Schedule.objects.get(name="dispatch").kwargs
    longest_slice = (jobs.EVERY + jobs.HANDOVER).total_seconds()
    assert ast.literal_eval(kwargs)["q_options"]["timeout"] >= longest_slice + 30


def test_a_slice_ends_once_the_next_has_surely_begun(db):
    jobs.ensure_schedules()
    next_run = timezone.now() + timedelta(seconds=20)
    Schedule.objects.filter(name="dispatch").update(next_run=next_run)

    assert jobs.dispatch_slice_end() == next_run + jobs.HANDOVER


def test_a_slice_started_before_the_scheduler_saved_its_next_run_still_hands_over(db):
    jobs.ensure_schedules()
    fired_at = timezone.now() - timedelta(seconds=2)
    Schedule.objects.filter(name="dispatch").update(next_run=fired_at)

    assert jobs.dispatch_slice_end() == fired_at + jobs.EVERY + jobs.HANDOVER


def test_a_starting_cluster_runs_one_slice_and_one_reconcile_at_once(db, enqueued):
    jobs.ensure_schedules()
    Schedule.objects.update(next_run=timezone.now() + timedelta(seconds=40))  # the last run's

    for _worker in range(4):
        jobs.on_worker_start(proc_name="worker")

    started = sorted(func for func, _ in enqueued)
    assert started == ["generations.tasks.dispatch", "generations.tasks.reconcile"]


def test_a_cluster_starting_as_another_starts_its_slice_adds_none(db, enqueued):
    jobs.ensure_schedules()
    Schedule.objects.update(next_run=timezone.now() + timedelta(seconds=58))

    jobs.on_worker_start(proc_name="worker")

    assert enqueued == []
