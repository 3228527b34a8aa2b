"""The pipeline against a scripted stand-in for the API (one module under test)."""

import hashlib
import io
import tempfile
import time
from datetime import timedelta
from pathlib import Path

import pytest
from django.utils import timezone
from PIL import Image

from generations import media, pipeline, wan_api
from generations.models import Generation, Status
from wansim.render import render_video

from .support.api_stand_ins import ScriptedClient, accepted, task
from .support.pictures import picture_bytes
from .support.simulator import API_KEY


@pytest.fixture
def api(pipeline_api):
    return pipeline_api(ScriptedClient())


@pytest.fixture
def generation(make_generation):
    return make_generation(prompt="a quiet lake")


def test_accepted_submit_records_the_task_id(api, generation):
    api.submit_answers = [accepted("abc")]

    pipeline.submit_generation(generation.pk)

    generation.refresh_from_db()
    assert generation.status == Status.SUBMITTED
    assert generation.api_task_id == "abc"
    assert generation.submit_attempts == 1
    assert len(api.submits) == 1
    assert api.submits[0].image_url.startswith("http://127.0.0.1:8000/public/source/")


def test_a_second_submit_job_never_posts_again(api, generation):
    api.submit_answers = [accepted("abc")]
    pipeline.submit_generation(generation.pk)

    pipeline.submit_generation(generation.pk)

    assert len(api.submits) == 1


def test_redelivered_job_finding_a_fresh_submitting_row_leaves_it_alone(api, generation):
    generation.claim_for_submit()

    pipeline.submit_generation(generation.pk)

    generation.refresh_from_db()
    assert generation.status == Status.SUBMITTING
    assert api.submits == []


def test_redelivered_job_finding_a_stale_submitting_row_needs_attention(api, generation):
    generation.claim_for_submit()
    Generation.objects.filter(pk=generation.pk).update(
        status_changed_at=timezone.now() - timedelta(minutes=10)
    )

    pipeline.submit_generation(generation.pk)

    generation.refresh_from_db()
    assert generation.status == Status.NEEDS_ATTENTION
    assert "billed twice" in generation.failure_reason
    assert api.submits == []


def test_rejected_submit_fails_with_reason_and_message(api, generation):
    api.submit_answers = [
        wan_api.SubmitResult(
            wan_api.SubmitOutcome.REJECTED,
            reason="ILLEGAL_PROMPT",
            message="prompt refused",
            http_status=400,
        )
    ]

    pipeline.submit_generation(generation.pk)

    generation.refresh_from_db()
    assert generation.status == Status.FAILED
    assert generation.failure_reason == "ILLEGAL_PROMPT: prompt refused"


def test_refusal_before_acceptance_requeues_after_retry_after(api, generation):
    api.submit_answers = [
        wan_api.SubmitResult(
            wan_api.SubmitOutcome.RETRY_LATER,
            reason="RATE_LIMIT_EXCEEDED",
            retry_after=120,
            http_status=429,
        )
    ]

    pipeline.submit_generation(generation.pk)

    generation.refresh_from_db()
    assert generation.status == Status.QUEUED
    assert generation.due_at >= timezone.now() + timedelta(seconds=110)
    assert "RATE_LIMIT_EXCEEDED" in generation.failure_reason


def test_refusals_give_up_after_the_configured_tries(api, generation, settings):
    settings.WAN_SUBMIT_MAX_TRIES = 2
    refusal = wan_api.SubmitResult(
        wan_api.SubmitOutcome.RETRY_LATER, reason="CREATE_TASK_FAILED", http_status=500
    )
    api.submit_answers = [refusal, refusal]

    for _ in range(2):
        Generation.objects.filter(pk=generation.pk).update(due_at=timezone.now())
        pipeline.submit_generation(generation.pk)

    generation.refresh_from_db()
    assert generation.status == Status.FAILED
    assert "CREATE_TASK_FAILED" in generation.failure_reason
    assert len(api.submits) == 2


def test_unknown_outcome_needs_attention(api, generation):
    api.submit_answers = [
        wan_api.SubmitResult(wan_api.SubmitOutcome.UNKNOWN, message="read timed out")
    ]

    pipeline.submit_generation(generation.pk)

    generation.refresh_from_db()
    assert generation.status == Status.NEEDS_ATTENTION


def test_queued_row_not_yet_due_is_not_sent(api, generation):
    Generation.objects.filter(pk=generation.pk).update(due_at=timezone.now() + timedelta(hours=1))

    pipeline.submit_generation(generation.pk)

    assert api.submits == []


def test_submit_again_after_needs_attention_posts_once_more(api, generation):
    api.submit_answers = [
        wan_api.SubmitResult(wan_api.SubmitOutcome.UNKNOWN, message="reset"),
        accepted("second"),
    ]
    pipeline.submit_generation(generation.pk)
    generation.refresh_from_db()

    assert generation.submit_again()
    pipeline.submit_generation(generation.pk)

    generation.refresh_from_db()
    assert generation.status == Status.SUBMITTED
    assert len(api.submits) == 2


@pytest.fixture
def submitted(api, generation):
    api.submit_answers = [accepted("task-1")]
    pipeline.submit_generation(generation.pk)
    generation.refresh_from_db()
    return generation


def test_poll_records_progress_and_processing(api, submitted):
    api.poll_answers = [task(wan_api.TaskStatus.PROCESSING, progress_percent=40, eta_seconds=12)]

    pipeline.poll_generation(submitted.pk)

    submitted.refresh_from_db()
    assert submitted.status == Status.PROCESSING
    assert (submitted.progress_percent, submitted.eta_seconds) == (40, 12)
    assert submitted.due_at > timezone.now()


def test_poll_unknown_status_is_not_finished(api, submitted):
    api.poll_answers = [task(wan_api.TaskStatus.UNKNOWN)]

    pipeline.poll_generation(submitted.pk)

    submitted.refresh_from_db()
    assert submitted.status == Status.SUBMITTED


def test_poll_failed_task_records_the_reason(api, submitted):
    api.poll_answers = [task(wan_api.TaskStatus.FAILED, reason="NSFW content")]

    pipeline.poll_generation(submitted.pk)

    submitted.refresh_from_db()
    assert submitted.status == Status.FAILED
    assert submitted.failure_reason == "NSFW content"


def test_poll_success_starts_the_download_with_the_link(api, submitted, monkeypatch):
    downloads = []
    monkeypatch.setattr("generations.jobs.enqueue_download", lambda *args: downloads.append(args))
    video = wan_api.ResultVideo("https://cdn.example/v.mp4?sig=1", 3600, "mp4")
    api.poll_answers = [task(wan_api.TaskStatus.SUCCEEDED, videos=(video,), seed=77)]

    pipeline.poll_generation(submitted.pk)

    submitted.refresh_from_db()
    assert submitted.status == Status.DOWNLOADING
    assert submitted.reported_seed == 77
    assert downloads == [(submitted.pk, video.url)]


def test_success_without_a_video_is_polled_again_then_fails(api, submitted):
    api.poll_answers = [task(wan_api.TaskStatus.SUCCEEDED)] * 5

    for _ in range(5):
        pipeline.poll_generation(submitted.pk)

    submitted.refresh_from_db()
    assert submitted.status == Status.FAILED
    assert "without a video" in submitted.failure_reason


def test_task_not_found_repeatedly_fails(api, submitted):
    api.poll_answers = [wan_api.PollResult(wan_api.PollOutcome.NOT_FOUND, http_status=404)] * 3

    for _ in range(3):
        pipeline.poll_generation(submitted.pk)

    submitted.refresh_from_db()
    assert submitted.status == Status.FAILED


def test_transient_poll_errors_back_off_and_keep_the_task(api, submitted):
    api.poll_answers = [wan_api.PollResult(wan_api.PollOutcome.RETRY_LATER, http_status=502)]

    pipeline.poll_generation(submitted.pk)

    submitted.refresh_from_db()
    assert submitted.status == Status.SUBMITTED
    assert submitted.poll_failures == 1


def downloading(generation):
    generation.claim_for_download(reported_seed=5)
    return generation


def write_rendered_video(dest):
    """What the object store would send: a real MP4 as the simulator renders it."""
    with tempfile.TemporaryDirectory() as folder:
        target = Path(folder) / "out.mp4"
        render_video(Image.open(io.BytesIO(picture_bytes(640, 480))), "480p", target)
        content = target.read_bytes()
    dest.write(content)
    return wan_api.DownloadResult(
        wan_api.DownloadOutcome.OK, size=len(content), sha256=hashlib.sha256(content).hexdigest()
    )


def test_download_stores_video_and_poster(api, submitted, media_root):
    downloading(submitted)
    api.download_answer = write_rendered_video

    pipeline.download_result(submitted.pk, "https://cdn.example/v.mp4")

    submitted.refresh_from_db()
    assert submitted.status == Status.SUCCEEDED
    assert submitted.video_duration == pytest.approx(5.06, abs=0.2)
    assert (media_root / submitted.video.name).stat().st_size == submitted.video_bytes
    assert (media_root / submitted.poster.name).read_bytes()[:2] == b"\xff\xd8"
    delivered = media.probe_video(media_root / submitted.video.name)
    assert (submitted.video_width, submitted.video_height) == (delivered.width, delivered.height)


def test_expired_link_goes_back_to_polling_for_a_fresh_one(api, submitted):
    downloading(submitted)
    api.download_answer = lambda dest: wan_api.DownloadResult(wan_api.DownloadOutcome.EXPIRED)

    pipeline.download_result(submitted.pk, "https://cdn.example/v.mp4")

    submitted.refresh_from_db()
    assert submitted.status == Status.PROCESSING
    assert submitted.due_at <= timezone.now()


def test_link_that_stays_expired_ends_failed_as_result_expired(api, submitted):
    api.download_answer = lambda dest: wan_api.DownloadResult(wan_api.DownloadOutcome.EXPIRED)
    for _ in range(3):
        downloading(submitted)
        pipeline.download_result(submitted.pk, "https://cdn.example/v.mp4")

    submitted.refresh_from_db()
    assert submitted.status == Status.FAILED
    assert "expired" in submitted.failure_reason.lower()


def test_a_file_that_is_not_a_video_fails(api, submitted, media_root):
    downloading(submitted)

    def html_page(dest):
        dest.write(b"\x00\x00\x00\x18ftypisomnot really a video")
        return wan_api.DownloadResult(wan_api.DownloadOutcome.OK, size=30, sha256="x")

    api.download_answer = html_page

    pipeline.download_result(submitted.pk, "https://cdn.example/v.mp4")

    submitted.refresh_from_db()
    assert submitted.status == Status.FAILED
    assert not submitted.video


def test_reconcile_settles_a_submit_interrupted_long_ago(api, generation):
    generation.claim_for_submit()
    Generation.objects.filter(pk=generation.pk).update(
        status_changed_at=timezone.now() - timedelta(minutes=5)
    )

    assert pipeline.reconcile_stuck_generations() == 1

    generation.refresh_from_db()
    assert generation.status == Status.NEEDS_ATTENTION


def test_reconcile_sends_a_dead_download_back_to_polling(api, submitted, settings):
    downloading(submitted)
    Generation.objects.filter(pk=submitted.pk).update(
        status_changed_at=timezone.now() - timedelta(seconds=settings.Q_CLUSTER["timeout"] + 5)
    )

    pipeline.reconcile_stuck_generations()

    submitted.refresh_from_db()
    assert submitted.status == Status.PROCESSING


def test_every_state_entered_is_on_the_timeline(api, submitted):
    statuses = list(submitted.events.values_list("status", flat=True))
    assert statuses == [Status.QUEUED, Status.SUBMITTING, Status.SUBMITTED]


def test_a_job_that_finds_no_api_slot_puts_its_claim_back_unsent(api, generation, monkeypatch):
    monkeypatch.setattr(pipeline, "reserve_api_request", lambda max_wait: False)

    pipeline.submit_generation(generation.pk)

    generation.refresh_from_db()
    assert api.submits == []
    assert generation.status == Status.QUEUED
    assert generation.submit_attempts == 0


def test_people_take_turns_when_a_batch_is_queued():
    maya, noor, ada = 1, 2, 3
    rows = [(10, maya), (11, maya), (12, maya), (13, noor), (14, maya), (15, ada), (16, noor)]

    assert pipeline.taking_turns(rows) == [10, 13, 15, 11, 16, 12, 14]


def test_dispatcher_sends_a_late_single_before_the_rest_of_a_batch(
    api, make_generation, other_user
):
    batch = [make_generation(prompt=f"b{n}") for n in range(5)]
    single = make_generation(other_user, prompt="single")
    api.submit_answers = [accepted(f"t{n}") for n in range(2)]

    pipeline.submit_due_generations(limit=2)

    sent = [params.prompt for params in api.submits]
    assert sent == [batch[0].prompt, single.prompt]


# --- polling that knows the eta ------------------------------------------------------------


def test_the_first_poll_waits_until_such_a_task_is_usually_done(api, generation, settings):
    settings.WAN_TASK_SECONDS = 60
    api.submit_answers = [accepted("abc")]

    pipeline.submit_generation(generation.pk)

    generation.refresh_from_db()
    assert generation.due_at >= timezone.now() + timedelta(seconds=59)


def test_a_720p_task_is_first_polled_later_and_a_fast_one_sooner(make_generation, settings):
    settings.WAN_TASK_SECONDS = 60
    slow = make_generation(width=1280, height=720)
    fast = make_generation(fast_mode=True)

    assert pipeline.expected_task_seconds(slow) == 150
    assert pipeline.expected_task_seconds(fast) == 30


def test_a_running_task_is_polled_again_no_sooner_than_its_eta(api, submitted):
    api.poll_answers = [task(wan_api.TaskStatus.PROCESSING, progress_percent=30, eta_seconds=40)]

    pipeline.poll_generation(submitted.pk)

    submitted.refresh_from_db()
    assert submitted.due_at >= timezone.now() + timedelta(seconds=39)


def test_a_task_running_past_its_eta_is_polled_with_growing_waits(api, submitted, settings):
    settings.WAN_POLL_MIN_SECONDS, settings.WAN_POLL_MAX_SECONDS = 3, 30
    waits = []
    for _ in range(6):
        api.poll_answers = [task(wan_api.TaskStatus.PROCESSING, eta_seconds=1)]
        pipeline.poll_generation(submitted.pk)
        submitted.refresh_from_db()
        waits.append((submitted.due_at - timezone.now()).total_seconds())

    assert waits[-1] > 2 * waits[0]
    assert max(waits) <= 30 * 1.15 * 1.1 + 1


def test_with_webhooks_on_polling_is_a_slower_fallback(api, submitted, settings):
    settings.WAN_WEBHOOKS = True
    api.poll_answers = [task(wan_api.TaskStatus.PROCESSING, eta_seconds=40)]

    pipeline.poll_generation(submitted.pk)

    submitted.refresh_from_db()
    assert submitted.due_at >= timezone.now() + timedelta(seconds=79)


def test_progress_is_estimated_between_polls_from_the_last_eta(submitted):
    Generation.objects.filter(pk=submitted.pk).update(
        status=Status.PROCESSING,
        progress_percent=40,
        eta_seconds=60,
        progress_at=timezone.now() - timedelta(seconds=30),
    )
    submitted.refresh_from_db()

    assert submitted.estimated_progress == 70


def test_estimated_progress_never_claims_done_before_the_api_does(submitted):
    Generation.objects.filter(pk=submitted.pk).update(
        progress_percent=90, eta_seconds=5, progress_at=timezone.now() - timedelta(minutes=5)
    )
    submitted.refresh_from_db()

    assert submitted.estimated_progress == 99


def test_a_fresh_task_shows_progress_from_the_expected_time(submitted):
    Generation.objects.filter(pk=submitted.pk).update(
        progress_at=timezone.now() - timedelta(seconds=submitted.eta_seconds / 2)
    )
    submitted.refresh_from_db()

    assert submitted.progress_percent == 0
    assert 45 <= submitted.estimated_progress <= 50


# --- webhooks out --------------------------------------------------------------------------


def test_with_webhooks_a_submit_carries_a_callback_url_with_a_secret_token(
    api, generation, settings
):
    settings.WAN_WEBHOOKS = True
    settings.PUBLIC_BASE_URL = "https://studio.example"
    api.submit_answers = [accepted("abc")]

    pipeline.submit_generation(generation.pk)

    [sent] = api.submits
    prefix = "https://studio.example/api/webhooks/wan/"
    assert sent.webhook_url.startswith(prefix)
    token = sent.webhook_url.removeprefix(prefix).rstrip("/")
    generation.refresh_from_db()
    assert generation.webhook_token_hash == hashlib.sha256(token.encode()).hexdigest()
    assert token not in generation.webhook_token_hash


def test_without_webhooks_a_submit_asks_for_no_callback(api, generation):
    api.submit_answers = [accepted("abc")]

    pipeline.submit_generation(generation.pk)

    assert api.submits[0].webhook_url == ""
    generation.refresh_from_db()
    assert generation.webhook_token_hash is None


def test_against_the_simulator_no_poll_comes_before_its_eta_says_done(
    sim, picture_host, make_generation, settings, monkeypatch
):
    sim.configure(queue_seconds=0.2, process_seconds=1.0)
    settings.WAN_API_BASE_URL, settings.WAN_API_KEY = sim.base_url, API_KEY
    settings.WAN_POLL_MIN_SECONDS = 0.05
    monkeypatch.setattr(pipeline, "reserve_api_request", lambda max_wait: True)
    client = pipeline.api_client()
    answers = []  # (when it was asked, what its eta said)

    def task_result(task_id):
        asked_at = timezone.now()
        result = wan_api.WanClient.task_result(client, task_id)
        answers.append((asked_at, result.task.eta_seconds, result.task.status))
        return result

    monkeypatch.setattr(client, "task_result", task_result)
    monkeypatch.setattr(pipeline, "api_client", lambda: client)
    image_url = picture_host.url("/landscape.png")
    task_id = client.submit(wan_api.SubmitParams(prompt="p", image_url=image_url)).task_id
    generation = make_generation(status=Status.SUBMITTED, api_task_id=task_id)

    while generation.status in (Status.SUBMITTED, Status.PROCESSING):
        time.sleep(max(0.0, (generation.due_at - timezone.now()).total_seconds()))
        pipeline.poll_generation(generation.pk)
        generation.refresh_from_db()
        if generation.status == Status.PROCESSING:
            asked_at, eta, _ = answers[-1]
            assert generation.due_at >= asked_at + timedelta(seconds=eta)

    assert generation.status == Status.DOWNLOADING
    assert answers[-1][2] == wan_api.TaskStatus.SUCCEEDED
    assert all(eta >= 1 for _, eta, status in answers[:-1])
