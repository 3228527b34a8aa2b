"""Dispatchers at once (overlapping slices, several clusters) never poll one task twice or post
one generation twice: each claims the rows it works on, and that is all they share."""

import random
import time

import pytest
from django.utils import timezone

from generations import pipeline, wan_api
from generations.models import ApiRateLimit, Generation, Status

from .support.api_stand_ins import accepted, task


def processing(task_id):
    return task(
        wan_api.TaskStatus.PROCESSING,
        task_id=task_id,
        raw_status="TASK_STATUS_PROCESSING",
        progress_percent=40,
        eta_seconds=30,
    )


class RecordingApi:
    """Accepts every submit and answers every poll 'processing'; the first request lets
    `meanwhile` run first."""

    def __init__(self, meanwhile=None):
        self.polls = []
        self.submits = []
        self.meanwhile = meanwhile

    def let_meanwhile_run(self):
        if self.meanwhile:
            run, self.meanwhile = self.meanwhile, None
            run()

    def task_result(self, task_id):
        self.polls.append(task_id)
        self.let_meanwhile_run()
        return processing(task_id)

    def submit(self, params):
        self.submits.append(params.prompt)
        self.let_meanwhile_run()
        return accepted(f"task-{params.prompt}")


@pytest.fixture
def in_flight(make_generation):
    """The task ids of five generations the API holds, due to be polled now."""
    rows = [
        make_generation(status=Status.SUBMITTED, prompt=f"scene {index}", due_at=timezone.now())
        for index in range(5)
    ]
    return [row.api_task_id for row in rows]


@pytest.fixture
def api(pipeline_api):
    return pipeline_api(RecordingApi())


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


def test_a_dispatcher_whose_slice_ends_hands_its_claimed_rows_back(api, in_flight):
    pipeline.poll_due_generations(until=time.monotonic())

    assert api.polls == []
    assert all(row.due_at <= timezone.now() for row in Generation.objects.all())


@pytest.fixture
def queued(make_generation, user, other_user):
    """The prompts of four queued generations, of two people."""
    people = [user, other_user]
    return [
        make_generation(people[index % 2], prompt=f"queued {index}").prompt for index in range(4)
    ]


def test_two_dispatchers_sending_the_backlog_post_each_generation_once(api, queued):
    api.meanwhile = pipeline.submit_due_generations  # a second dispatcher, mid-POST

    pipeline.submit_due_generations()

    assert sorted(api.submits) == sorted(queued)
    assert set(Generation.objects.values_list("status", flat=True)) == {Status.SUBMITTED}


def test_a_dispatcher_whose_slice_ends_sends_nothing_more(api, queued):
    pipeline.submit_due_generations(until=time.monotonic())

    assert api.submits == []


def test_overlapping_dispatchers_take_an_api_slot_only_for_what_they_post(api, queued, monkeypatch):
    """The claim comes before the slot: a dispatcher waiting for its slot while another one
    sends the same row must not have spent a slot on it."""
    slots = []

    def reserve(max_wait):
        slots.append(1)
        api.let_meanwhile_run()  # the other dispatcher runs while this one waits
        return True

    monkeypatch.setattr(pipeline, "reserve_api_request", reserve)
    api.meanwhile = pipeline.submit_due_generations

    pipeline.submit_due_generations()

    assert sorted(api.submits) == sorted(queued)
    assert len(slots) == len(api.submits)


class Clock:
    """time for the limiter: sleeping moves it on, nothing waits."""

    def __init__(self):
        self.now = 1_000_000.0

    def time(self):
        return self.now

    def sleep(self, seconds):
        self.now += max(0.0, seconds)

    def monotonic(self):
        return self.now


def test_the_shared_limiter_never_lets_a_minute_hold_more_than_the_limit(db, settings, monkeypatch):
    """Three workers ask for slots as fast as they can; each request leaves up to a second
    after its slot (a busy worker), as the API then counts them."""
    settings.WAN_API_RATE_PER_MINUTE = 20
    clock, rng = Clock(), random.Random(7)
    monkeypatch.setattr(pipeline, "time", clock)
    arrivals = []
    for _ in range(200):
        worker_lag = rng.choice([0.0, 0.3, 1.0])  # the worker was busy before asking
        clock.now += worker_lag * rng.random() * 0.1
        assert pipeline.reserve_api_request(max_wait=10)
        arrivals.append(clock.now + rng.uniform(0.0, 1.0))
    ApiRateLimit.objects.all().delete()

    arrivals.sort()
    busiest = max(
        sum(1 for moment in arrivals if start <= moment < start + 60) for start in arrivals
    )
    assert busiest <= 20
