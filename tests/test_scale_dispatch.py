"""Two dispatchers at once (a lapsed lease, several clusters) never poll one task twice."""

import pytest
from django.utils import timezone

from generations import pipeline, wan_api
from generations.models import Generation, Status


def processing(task_id):
    task = wan_api.TaskResult(
        task_id=task_id,
        status=wan_api.TaskStatus.PROCESSING,
        raw_status="TASK_STATUS_PROCESSING",
        reason="",
        progress_percent=40,
        eta_seconds=30,
        videos=(),
        seed=None,
    )
    return wan_api.PollResult(wan_api.PollOutcome.OK, task=task)


class RecordingApi:
    """Answers every poll 'processing'; the first poll lets `meanwhile` run first."""

    def __init__(self, meanwhile=None):
        self.polls = []
        self.meanwhile = meanwhile

    def task_result(self, task_id):
        self.polls.append(task_id)
        if self.meanwhile:
            run, self.meanwhile = self.meanwhile, None
            run()
        return processing(task_id)


@pytest.fixture
def in_flight(source_image, user):
    rows = [
        Generation.objects.create(
            owner=user,
            source_image=source_image,
            prompt=f"scene {index}",
            status=Status.SUBMITTED,
            api_task_id=f"task-{index}",
            due_at=timezone.now(),
        )
        for index in range(5)
    ]
    return [row.api_task_id for row in rows]


@pytest.fixture
def api(monkeypatch):
    recording = RecordingApi()
    monkeypatch.setattr(pipeline, "api_client", lambda: recording)
    monkeypatch.setattr(pipeline, "reserve_api_request", lambda max_wait: True)
    return recording


def test_a_dispatcher_starting_mid_batch_polls_none_of_that_batch_again(api, in_flight):
    api.meanwhile = pipeline.poll_due_generations  # a second dispatcher, mid-way through

    pipeline.poll_due_generations()

    assert sorted(api.polls) == sorted(in_flight)


def test_two_dispatchers_share_the_due_rows_between_them(api, in_flight):
    api.meanwhile = lambda: pipeline.poll_due_generations(limit=2)

    pipeline.poll_due_generations(limit=3)

    assert sorted(api.polls) == sorted(in_flight)


def test_rows_left_unpolled_when_the_budget_runs_out_are_due_again_at_once(
    api, in_flight, monkeypatch
):
    slots = iter([True, True])
    monkeypatch.setattr(pipeline, "reserve_api_request", lambda max_wait: next(slots, False))

    pipeline.poll_due_generations()

    assert len(api.polls) == 2
    unpolled = Generation.objects.exclude(api_task_id__in=api.polls)
    assert all(row.due_at <= timezone.now() for row in unpolled)


def test_a_polled_row_is_next_due_when_its_answer_says(api, in_flight):
    pipeline.poll_due_generations()

    for row in Generation.objects.all():
        assert row.poll_attempts == 1
        assert row.due_at > timezone.now()
