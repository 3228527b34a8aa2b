"""Webhooks in: a callback with a known token makes its generation due for a poll now, and
nothing else; polling stays the fallback. Then the whole loop in real processes."""

import hashlib
import secrets
import threading
from datetime import timedelta

import pytest
import requests
from django.test import Client
from django.utils import timezone

from generations import pipeline, wan_api
from generations.models import Generation, Status

from .live_studio import LiveStudio, wait_until
from .support.api_stand_ins import ScriptedClient, task
from .support.faults import hold_write_lock, print_table, stored_video_matches_the_api
from .support.pictures import picture_bytes

LATER = timedelta(minutes=5)


def url(token):
    return f"/api/webhooks/wan/{token}/"


def callback_body(status="TASK_STATUS_SUCCEED"):
    """What the API POSTs: a task-result answer (never trusted)."""
    result = {
        "task": {"task_id": "task-x", "status": status},
        "videos": [{"video_url": "https://evil.example/fake.mp4", "video_url_ttl": "3600"}],
    }
    return {"event_type": "ASYNC_TASK_RESULT", "payload": result}


@pytest.fixture
def api(pipeline_api):
    """No answers scripted: any request to the API fails the test."""
    return pipeline_api(ScriptedClient())


@pytest.fixture
def callbacks():
    """The API's side: no session, no CSRF token, JSON bodies."""
    client = Client(enforce_csrf_checks=True)

    def post(token, body=None):
        return client.post(url(token), body or callback_body(), content_type="application/json")

    return post


@pytest.fixture
def token():
    return secrets.token_urlsafe(32)


@pytest.fixture
def in_flight(make_generation, token):
    """A generation the API is processing, next polled in five minutes, holding `token`."""
    return make_generation(
        status=Status.PROCESSING,
        due_at=timezone.now() + LATER,
        webhook_token_hash=hashlib.sha256(token.encode()).hexdigest(),
    )


def test_a_known_token_makes_its_generation_due_now_and_nothing_else(
    api, callbacks, in_flight, token
):
    answer = callbacks(token)

    assert answer.status_code == 204
    assert "Set-Cookie" not in answer.headers
    row = Generation.objects.get(pk=in_flight.pk)
    assert row.due_at <= timezone.now()
    assert (row.status, row.video.name, row.poll_attempts) == (Status.PROCESSING, "", 0)
    assert api.polls == []


def test_a_forged_token_is_not_found_after_one_lookup_and_changes_nothing(
    api, callbacks, in_flight, django_assert_num_queries
):
    with django_assert_num_queries(1):
        answer = callbacks(secrets.token_urlsafe(32))

    assert answer.status_code == 404
    assert answer.json() == {"detail": "No task waits for a callback at this address."}
    assert Generation.objects.get(pk=in_flight.pk).due_at == in_flight.due_at
    assert api.polls == []


def test_a_token_of_the_wrong_shape_is_not_even_looked_up(
    api, callbacks, in_flight, django_assert_num_queries
):
    with django_assert_num_queries(0):
        assert callbacks("../../generations/1").status_code == 404


def test_the_stored_hash_is_not_a_token(api, callbacks, in_flight):
    assert callbacks(in_flight.webhook_token_hash).status_code == 404


def test_only_post_is_accepted(api, in_flight, token):
    assert Client().get(url(token)).status_code == 405


def test_a_replay_after_success_is_acknowledged_and_harmless(api, callbacks, finished, token):
    token_hash = hashlib.sha256(token.encode()).hexdigest()
    Generation.objects.filter(pk=finished.pk).update(webhook_token_hash=token_hash)
    before = Generation.objects.get(pk=finished.pk)

    answer = callbacks(token)

    after = Generation.objects.get(pk=finished.pk)
    assert answer.status_code == 204
    assert (after.status, after.due_at, after.video) == (
        Status.SUCCEEDED,
        before.due_at,
        before.video,
    )
    assert api.polls == []


def test_duplicated_callbacks_cost_one_poll(api, callbacks, in_flight, token):
    api.poll_answers = [done()]
    callbacks(token)
    callbacks(token)

    pipeline.poll_due_generations()
    pipeline.poll_due_generations()

    assert len(api.polls) == 1
    assert Generation.objects.get(pk=in_flight.pk).status == Status.DOWNLOADING


def test_a_callback_after_the_download_began_changes_nothing(api, callbacks, in_flight, token):
    api.poll_answers = [done()]
    callbacks(token)
    pipeline.poll_due_generations()

    callbacks(token)  # late, or the API's retry
    pipeline.poll_due_generations()

    assert len(api.polls) == 1


def test_an_early_callback_finds_the_task_running_and_it_is_polled_again_later(
    api, callbacks, in_flight, token
):
    api.poll_answers = [task(wan_api.TaskStatus.PROCESSING, progress_percent=50, eta_seconds=30)]
    callbacks(token)

    pipeline.poll_due_generations()
    pipeline.poll_due_generations()

    row = Generation.objects.get(pk=in_flight.pk)
    assert len(api.polls) == 1
    assert row.status == Status.PROCESSING
    assert row.due_at >= timezone.now() + timedelta(seconds=29)


def test_a_lost_callback_is_made_up_for_by_the_fallback_poll(api, in_flight):
    api.poll_answers = [done()]
    Generation.objects.filter(pk=in_flight.pk).update(due_at=timezone.now())  # its time came

    pipeline.poll_due_generations()

    assert Generation.objects.get(pk=in_flight.pk).status == Status.DOWNLOADING


def test_the_body_of_a_callback_is_never_used(api, callbacks, in_flight, token):
    callbacks(token, callback_body("TASK_STATUS_FAILED"))

    row = Generation.objects.get(pk=in_flight.pk)
    assert (row.status, row.failure_reason) == (Status.PROCESSING, "")


def done():
    video = wan_api.ResultVideo("https://videos.example/v.mp4", 3600, "mp4")
    return task(wan_api.TaskStatus.SUCCEEDED, videos=(video,))


# --- the whole loop: the simulator calls the live studio back -----------------------------


TABLE = []
LATE_BY = 8.0  # seconds a delayed callback comes after the task: past the 6 s fallback poll
LOCK_SECONDS = 3.0  # within the studio's busy timeout and the simulator's 5 s callback timeout


@pytest.fixture(scope="module")
def studio(tmp_path_factory, request):
    """Webhooks on; a task takes about 2.5 s, so the fallback poll (twice the 3 s expected)
    comes well after any callback."""
    live = LiveStudio(tmp_path_factory.mktemp("webhooks"), WAN_WEBHOOKS="1", WAN_TASK_SECONDS="3")
    try:
        live.start()
        live.configure_simulator(webhook_delay=LATE_BY)
        yield live
    finally:
        live.stop()
        print_table(
            request.config,
            "Webhook fault matrix",
            TABLE,
            header=("case", "expected", "outcome", "POSTs", "polls, callbacks (answers)"),
        )


def finish(studio, prompt):
    created = studio.create(prompt, picture_bytes(640, 480))
    finished = studio.wait_for_terminal([created["id"]], timeout=60)[created["id"]]
    assert finished["status"] == "succeeded", finished["failure_reason"]
    return finished, *api_requests_for(studio, finished)


def api_requests_for(studio, finished):
    stats = studio.sim_stats()
    task_id = finished["api_task_id"]
    calls = [call for call in stats["webhooks"] if call["task_id"] == task_id]
    return stats["task_polls"].get(task_id, 0), calls


def record(studio, case, prompt, row, polls, calls):
    """A row of the table: the end state, the API requests made, the video kept."""
    answers = ",".join(str(call["status_code"]) for call in calls) or "-"
    kept = stored_video_matches_the_api(studio, row)
    TABLE.append(
        (
            case,
            "succeeded, 1 POST, video kept",
            f"{row['status']}, video {'kept' if kept else 'LOST'}",
            len(studio.posts_for(prompt)),
            f"{polls} polls, {len(calls)} callbacks ({answers})",
        )
    )
    assert kept
    assert len(studio.accepted_posts_for(prompt)) == 1


@pytest.mark.live
def test_a_callback_from_the_api_finishes_the_generation_with_one_poll(studio):
    prompt = "a lighthouse, called back"
    row, polls, calls = finish(studio, prompt)
    record(studio, "normal callback", prompt, row, polls, calls)

    assert polls == 1
    assert [call["status_code"] for call in calls] == [204]
    assert calls[0]["url"].startswith(studio.base_url + "/api/webhooks/wan/")


@pytest.mark.live
def test_a_lost_callback_still_finishes_by_the_fallback_poll(studio):
    prompt = "a lighthouse, never called back [sim:hookdrop]"
    row, polls, calls = finish(studio, prompt)
    record(studio, "lost", prompt, row, polls, calls)

    assert calls == []
    assert polls >= 1


@pytest.mark.live
def test_an_early_callback_is_followed_by_polls_until_done(studio):
    prompt = "a lighthouse, called back too soon [sim:hookearly]"
    row, polls, calls = finish(studio, prompt)
    record(studio, "early (before done)", prompt, row, polls, calls)

    assert [call["status_code"] for call in calls] == [204]
    assert polls >= 2  # the early one found it running


@pytest.mark.live
def test_a_duplicated_callback_stores_one_video(studio):
    prompt = "a lighthouse, called back twice [sim:hookdup]"
    row, polls, calls = finish(studio, prompt)
    record(studio, "duplicated", prompt, row, polls, calls)

    assert len(calls) == 2
    assert studio.sim_stats()["task_downloads"][row["api_task_id"]] == 1


@pytest.mark.live
def test_a_callback_delayed_past_the_fallback_poll_changes_nothing(studio):
    prompt = "a lighthouse, called back late [sim:hookdelay]"
    row, polls, calls = finish(studio, prompt)
    assert calls == []  # the fallback poll finished it first

    wait_until(lambda: api_requests_for(studio, row)[1], LATE_BY + 10, "the late callback")
    polls, calls = api_requests_for(studio, row)
    record(studio, "delayed past the fallback poll", prompt, row, polls, calls)

    assert polls == 1
    assert [call["status_code"] for call in calls] == [204]
    assert studio.generation(row["id"]) == row
    assert studio.sim_stats()["task_downloads"][row["api_task_id"]] == 1


@pytest.mark.live
def test_a_replayed_callback_after_success_changes_nothing_and_asks_the_api_nothing(studio):
    prompt = "a lighthouse, called back, then replayed"
    row, polls, calls = finish(studio, prompt)
    requests_before = studio.sim_stats()["polls"]

    replay = requests.post(calls[0]["url"], json=callback_body(), timeout=10)

    polls_after, _ = api_requests_for(studio, row)
    record(studio, "replay of an old callback after success", prompt, row, polls_after, calls)
    assert replay.status_code == 204
    assert studio.generation(row["id"]) == row
    assert (polls_after, studio.sim_stats()["polls"]) == (polls, requests_before)
    assert studio.sim_stats()["task_downloads"][row["api_task_id"]] == 1


@pytest.mark.live
def test_callbacks_while_the_database_is_locked_lose_no_video(studio):
    if studio.postgres:
        pytest.skip("the write lock is SQLite's")
    prompt = "a lighthouse, called back twice into a locked database [sim:hookdup]"
    created = studio.create(prompt, picture_bytes(640, 480))
    wait_until(lambda: studio.accepted_posts_for(prompt), 20, "the API to accept the task")
    locked = threading.Event()
    holder = threading.Thread(
        target=hold_write_lock, args=(studio.workdir / "studio.sqlite3", LOCK_SECONDS, locked)
    )
    holder.start()  # from the accept until after the task ends: both callbacks wait on it
    locked.wait(10)
    holder.join()

    row = studio.wait_for_terminal([created["id"]], timeout=60)[created["id"]]
    assert row["status"] == "succeeded", row["failure_reason"]
    polls, calls = api_requests_for(studio, row)
    record(studio, "callbacks while the database is locked", prompt, row, polls, calls)

    assert len(calls) >= 2
    assert {call["status_code"] for call in calls} == {204}
    assert studio.sim_stats()["task_downloads"][row["api_task_id"]] == 1


@pytest.mark.live
def test_forged_callbacks_spend_no_api_request(studio):
    polls_before = studio.sim_stats()["polls"]

    answers = [
        requests.post(studio.base_url + url(secrets.token_urlsafe(32)), json={}, timeout=10)
        for _ in range(20)
    ]

    assert {answer.status_code for answer in answers} == {404}
    assert studio.sim_stats()["polls"] == polls_before
    TABLE.append(("forged token (20 callbacks)", "404, no poll", "404", 0, "0 polls"))
