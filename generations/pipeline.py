"""The process: submit, poll, download, dispatch, reconcile. One function per step, each
taking an id.

The Generation row decides everything; the queue only carries ids. Every step first moves
the row with a compare-and-set, so a repeated or redelivered job does no harm, and the
dispatcher claims the rows it works on, so several dispatchers at once do no harm either.
"""

import logging
import os
import random
import secrets
import tempfile
import time
from dataclasses import replace
from datetime import timedelta

from django.conf import settings
from django.core.files import File
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import OperationalError, close_old_connections, transaction
from django.urls import reverse
from django.utils import timezone

from . import jobs, media, wan_api
from .models import ApiRateLimit, Generation, Status, StudioState, random_media_name
from .models.generation import webhook_token_hash

log = logging.getLogger(__name__)

RATE_LIMIT_NAME = "wan-api"
OUT_OF_CREDIT = "BILLING_BALANCE_NOT_ENOUGH"
# Poll answers that said "not found", "success without a video" or an expired link,
# in a row, before we give up on a task.
MAX_POLL_TROUBLES = {"not_found": 3, "no_video": 5, "expired": 3}
MAX_CONSECUTIVE_POLL_FAILURES = 40
# Tries to record an accepted task's id while the database refuses writes (1+2+3+4 s apart).
RECORD_ACCEPTED_TRIES = 5
# The API counts the requests that arrive in any minute. Slots spaced 3 % wider than the limit
# absorb a request that leaves late after one that left early, so no minute ever holds one too many.
RATE_MARGIN = 0.97
# How much longer a task takes than a 480p one (the contract's section 5).
CLARITY_SLOWDOWN = {"480p": 1.0, "720p": 2.5}
FAST_MODE_SPEEDUP = 2.0
# While webhooks are on, polls only back them up: each waits this many times longer.
WEBHOOK_FALLBACK_FACTOR = 2.0


def api_client():
    return wan_api.WanClient(
        settings.WAN_API_BASE_URL,
        settings.WAN_API_KEY or settings.WANSIM_API_KEY,
        connect_timeout=settings.WAN_CONNECT_TIMEOUT,
        read_timeout=settings.WAN_READ_TIMEOUT,
    )


def submit_stale_after():
    """After this long in `submitting`, the worker that was posting is certainly gone."""
    return timedelta(seconds=settings.WAN_CONNECT_TIMEOUT + settings.WAN_READ_TIMEOUT + 15)


def reserve_api_request(max_wait):
    """Wait for a slot of the shared API budget; False if none comes within max_wait."""
    per_minute = settings.WAN_API_RATE_PER_MINUTE * RATE_MARGIN
    wait = ApiRateLimit.reserve(RATE_LIMIT_NAME, per_minute, max_wait, time.time())
    if wait is None:
        return False
    if wait > 0:
        time.sleep(wait)
    return True


def seconds_until_free_slot():
    """How long until the shared API budget has a slot; 0 when one is free now."""
    budget = ApiRateLimit.objects.filter(name=RATE_LIMIT_NAME)
    next_slot = budget.values_list("next_slot", flat=True).first() or 0.0
    return max(0.0, next_slot - timezone.now().timestamp())


def with_jitter(seconds, spread=0.15):
    return seconds * random.uniform(1 - spread, 1 + spread)


def not_before(seconds, spread=0.1):
    """Jitter that only ever waits longer: a poll timed by an eta must not come before it."""
    return seconds * random.uniform(1.0, 1 + spread)


def webhook_url(token):
    return settings.PUBLIC_BASE_URL + reverse("api:wan-webhook", args=[token])


def submit_params(generation):
    return wan_api.SubmitParams(
        prompt=generation.prompt,
        image_url=generation.source_image.signed_url(),
        negative_prompt=generation.negative_prompt,
        width=generation.width,
        height=generation.height,
        loras=tuple(wan_api.Lora(lora.path, lora.scale) for lora in generation.loras.all()),
        seed=generation.seed,
        steps=generation.steps,
        guidance_scale=generation.guidance_scale,
        flow_shift=generation.flow_shift,
        enable_safety_checker=generation.enable_safety_checker,
        fast_mode=generation.fast_mode,
    )


# --- submit ------------------------------------------------------------------------------


def submit_generation(generation_id, max_wait=5.0):
    """Send one generation to the API: at most one POST per generation, ever."""
    generation = Generation.objects.filter(pk=generation_id).first()
    if generation is None:
        return
    if generation.status == Status.SUBMITTING:
        settle_interrupted_submit(generation)
        return
    if generation.status != Status.QUEUED or generation.due_at > timezone.now():
        return
    if StudioState.submissions_are_paused():
        return  # out of API credit: everything stays queued until an admin resumes
    try:
        body_params = submit_params(generation)
        wan_api.build_submit_body(body_params)
    except wan_api.InvalidParams as invalid:
        generation.mark_failed(f"Invalid parameters: {format_errors(invalid.errors)}")
        return
    token = secrets.token_urlsafe(32) if settings.WAN_WEBHOOKS else None
    # The claim before the API slot: a row another dispatcher has just taken costs no slot.
    if not generation.claim_for_submit(webhook_token_hash(token) if token else None):
        return  # another worker got there first, or the row is no longer due
    if not reserve_api_request(max_wait):
        # The budget is spent for now: nothing was sent, so the row waits its turn again.
        generation.release_submit_claim("Waiting for a free API request slot")
        return
    if StudioState.submissions_are_paused():
        generation.release_submit_claim("Held: submissions were paused")
        return
    if token:
        body_params = replace(body_params, webhook_url=webhook_url(token))
    result = api_client().submit(body_params)
    apply_submit_result(generation, result)


def apply_submit_result(generation, result):
    outcome = wan_api.SubmitOutcome
    if result.outcome == outcome.ACCEPTED:
        record_accepted(generation, result.task_id)  # the running dispatcher polls it when due
    elif result.outcome == outcome.REJECTED and result.reason == OUT_OF_CREDIT:
        StudioState.pause(f"The API account is out of credit ({api_error_text(result)}).")
        generation.requeue_submit(timezone.now(), "Held: the API account is out of credit")
    elif result.outcome == outcome.REJECTED:
        generation.mark_failed(api_error_text(result))
    elif result.outcome == outcome.RETRY_LATER:
        if generation.submit_attempts >= settings.WAN_SUBMIT_MAX_TRIES:
            tries = generation.submit_attempts
            generation.mark_failed(f"The API refused {tries} times; last: {api_error_text(result)}")
        else:
            delay = max(result.retry_after or 0, submit_backoff(generation.submit_attempts))
            generation.requeue_submit(
                timezone.now() + timedelta(seconds=delay),
                f"Refused before acceptance ({api_error_text(result)}); retrying in {delay:.0f} s",
            )
    else:
        generation.mark_needs_attention(
            "The API may or may not have created this task "
            f"({api_error_text(result)}). Submitting again may be billed twice."
        )


def record_accepted(generation, task_id):
    """The API has created, and billed, this task: a busy database must not lose its id."""
    for attempt in range(1, RECORD_ACCEPTED_TRIES + 1):
        try:
            generation.mark_submitted(
                task_id,
                first_poll_at=first_poll_time(generation),
                expected_seconds=expected_task_seconds(generation),
            )
            return
        except OperationalError:
            if attempt == RECORD_ACCEPTED_TRIES:
                log.error("Task %s of #%s was accepted but not recorded", task_id, generation.pk)
                raise
            log.warning("Recording task %s failed; trying again in %d s", task_id, attempt)
            time.sleep(attempt)


def settle_interrupted_submit(generation):
    """A worker died while posting: whether the API created the task is unknown."""
    if generation.api_task_id or generation.status_changed_at > timezone.now() - (
        submit_stale_after()
    ):
        return  # still being posted by a live worker
    generation.mark_needs_attention(
        "The submit was interrupted; the API may or may not have created this task. "
        "Submitting again may be billed twice."
    )


def submit_backoff(attempts):
    return with_jitter(min(300.0, 2.0 * 2 ** max(0, attempts - 1)))


def api_error_text(result):
    parts = [part for part in (result.reason, result.message) if part]
    if not parts and result.http_status:
        parts.append(f"HTTP {result.http_status}")
    return ": ".join(parts) or "no answer"


def format_errors(errors):
    return "; ".join(f"{field}: {' '.join(messages)}" for field, messages in errors.items())


# --- poll --------------------------------------------------------------------------------


def expected_task_seconds(generation):
    """How long a task like this one usually takes at the API."""
    seconds = settings.WAN_TASK_SECONDS * CLARITY_SLOWDOWN[generation.clarity]
    return seconds / FAST_MODE_SPEEDUP if generation.fast_mode else seconds


def fallback_factor():
    return WEBHOOK_FALLBACK_FACTOR if settings.WAN_WEBHOOKS else 1.0


def first_poll_time(generation):
    """Not before such a task is usually done: a poll sooner could only find it running."""
    delay = expected_task_seconds(generation) * fallback_factor()
    return timezone.now() + timedelta(seconds=not_before(delay))


def next_poll_time(generation, eta_seconds=None):
    """The task is not done: ask again when its eta says it will be, and back off (with
    jitter) once it runs past its eta. Slower while webhooks are on: they say when."""
    backoff = min(
        settings.WAN_POLL_MAX_SECONDS,
        settings.WAN_POLL_MIN_SECONDS * 1.5 ** min(generation.poll_attempts, 12),
    )
    # An eta of days would be a mistake of the API's: a poll now and then still goes.
    eta = min(float(eta_seconds or 0), 20 * settings.WAN_POLL_MAX_SECONDS)
    delay = max(eta, with_jitter(backoff)) * fallback_factor()
    return timezone.now() + timedelta(seconds=not_before(delay))


def trouble_poll_time(generation):
    delay = min(300.0, settings.WAN_POLL_MIN_SECONDS * 2 ** min(generation.poll_failures, 8))
    return timezone.now() + timedelta(seconds=with_jitter(delay))


def poll_generation(generation_id):
    """Ask the API about one in-flight task and act on the answer."""
    generation = Generation.objects.filter(pk=generation_id).first()
    if generation is None or generation.status not in (Status.SUBMITTED, Status.PROCESSING):
        return
    result = api_client().task_result(generation.api_task_id)
    outcome = wan_api.PollOutcome
    if result.outcome == outcome.OK:
        apply_task_result(generation, result.task)
    elif result.outcome == outcome.NOT_FOUND:
        note_poll_trouble(generation, "not_found", "The API no longer knows this task")
    else:
        if result.outcome == outcome.ERROR:
            log.error("Polling is refused: %s", api_error_text(result))
        generation.record_poll_trouble(trouble_poll_time(generation))
        if generation.poll_failures >= MAX_CONSECUTIVE_POLL_FAILURES:
            generation.mark_failed(f"The API kept failing to answer: {api_error_text(result)}")


def apply_task_result(generation, task):
    status = wan_api.TaskStatus
    if task.status == status.FAILED:
        generation.mark_failed(task.reason or "The API reported the task failed")
    elif task.status == status.SUCCEEDED:
        video = next((video for video in task.videos if video.url), None)
        if video is None:
            note_poll_trouble(generation, "no_video", "The API reported success without a video")
        elif generation.claim_for_download(task.seed):
            jobs.enqueue_download(generation.pk, video.url)
    else:
        generation.record_progress(
            processing=task.status == status.PROCESSING,
            progress_percent=task.progress_percent,
            eta_seconds=task.eta_seconds,
            next_poll_at=next_poll_time(generation, task.eta_seconds),
        )


def note_poll_trouble(generation, kind, why):
    generation.record_poll_trouble(trouble_poll_time(generation))
    if generation.poll_failures >= MAX_POLL_TROUBLES[kind]:
        generation.mark_failed(why)


# --- download ----------------------------------------------------------------------------


def download_result(generation_id, video_url):
    """Stream the finished video to storage, probe it, make its poster, then `succeeded`."""
    generation = Generation.objects.filter(pk=generation_id).first()
    if generation is None or generation.status != Status.DOWNLOADING:
        return
    with tempfile.NamedTemporaryFile(suffix=".mp4", delete=False) as temporary:
        temporary_path = temporary.name
        result = api_client().download(video_url, temporary, max_bytes=settings.WAN_MAX_VIDEO_BYTES)
    try:
        if result.outcome == wan_api.DownloadOutcome.OK:
            store_video(generation, temporary_path, result)
        else:
            retry_download_later(generation, result)
    finally:
        os.unlink(temporary_path)


def retry_download_later(generation, result):
    """Ask the API for a fresh link: a paid result is given up only after several tries.

    An error page served in place of the video (INVALID) may be a passing fault of the
    storage in front of it, like a dead link; a network failure is always retried.
    """
    expired = result.outcome == wan_api.DownloadOutcome.EXPIRED
    invalid = result.outcome == wan_api.DownloadOutcome.INVALID
    if (expired or invalid) and generation.poll_failures + 1 >= MAX_POLL_TROUBLES["expired"]:
        generation.mark_failed(
            f"The result could not be used: {result.message}"
            if invalid
            else "Result expired: the video link stopped working"
        )
        return
    if expired:
        why = "the video link has expired"
    elif invalid:
        why = f"the download was not a usable video ({result.message})"
    else:
        why = f"download failed ({result.message})"
    generation.return_to_polling(f"{why}; asking the API for a fresh link", timezone.now())


def store_video(generation, path, download):
    try:
        info = media.probe_video(path)
        poster = media.poster_jpeg(path)
    except media.VideoError as error:
        generation.mark_failed(f"The result is not a playable video: {error}")
        return
    tagged = media.tag_parameters(path, generation)  # its parameters in its `comment` tag
    with open(path, "rb") as video_file:
        video_name = default_storage.save(random_media_name("videos", "mp4"), File(video_file))
    poster_name = default_storage.save(random_media_name("posters", "jpg"), ContentFile(poster))
    stored = generation.mark_succeeded(
        video_name=video_name,
        poster_name=poster_name,
        duration=info.duration,
        width=info.width,
        height=info.height,
        size=tagged.size,
        sha256=tagged.sha256,
    )
    if not stored:  # another download won the race; keep only its files
        default_storage.delete(video_name)
        default_storage.delete(poster_name)


# --- dispatch and reconcile ------------------------------------------------------------

# Longest sleep between two looks at the due rows: a task accepted meanwhile is polled when due.
DISPATCH_IDLE_SECONDS = 1.0
# With webhooks on, a callback may make any task in flight due at any moment.
WEBHOOK_LOOK_SECONDS = 0.25
# Polls claimed at once: a row a webhook made due waits behind at most these.
POLL_BATCH = 5


def dispatch(until):
    """Send due submits and poll due tasks until `until` (a time.monotonic() moment).

    Each turn waits for the API budget's next free slot, then spends it on what is most
    urgent: due polls (a finished task waits on them) before due submits. Every row is
    claimed before it is acted on, so any number of these loops may run at once.
    """
    while time.monotonic() < until:
        try:
            time.sleep(max(0.0, min(seconds_until_free_slot(), time_left(until))))
            if poll_due_generations(until=until):
                continue  # polls first: submits go once none is due
            if submit_due_generations(until=until):
                continue
            wait = seconds_until_next_due()
        except OperationalError as error:
            # A locked or lost database: look again soon, rather than end the slice and
            # leave every task unpolled until the next one.
            log.warning("The dispatcher could not use the database (%s); trying again", error)
            close_old_connections()
            wait = None
        nap = DISPATCH_IDLE_SECONDS if wait is None else max(0.2, min(wait, DISPATCH_IDLE_SECONDS))
        if settings.WAN_WEBHOOKS and wait is not None:
            nap = min(nap, WEBHOOK_LOOK_SECONDS)
        time.sleep(max(0.0, min(nap, until - time.monotonic())))


def time_left(until):
    return float("inf") if until is None else until - time.monotonic()


def submit_due_generations(limit=10, backlog_window=500, until=None):
    """Queued rows whose time has come, taking turns between people; how many were tried."""
    if StudioState.submissions_are_paused():
        return 0
    due = Generation.objects.due_for_submit(timezone.now()).order_by("due_at", "id")
    rows = due.values_list("pk", "owner_id")[:backlog_window]
    tried = 0
    for generation_id in taking_turns(rows)[:limit]:
        if until is not None and time.monotonic() >= until:
            break
        if tried:
            # Wait for the next slot before choosing what takes it: a task that has finished
            # meanwhile (its webhook made it due) goes first.
            time.sleep(max(0.0, min(seconds_until_free_slot(), time_left(until))))
            if Generation.objects.due_for_poll(timezone.now()).exists():
                break
        submit_generation(generation_id)
        tried += 1
    return tried


def taking_turns(rows):
    """Interleave (id, owner) rows by owner, so one person's batch never starves the rest.

    Each person keeps their own order; people take turns in the order they first appear.
    """
    per_owner = {}
    for generation_id, owner_id in rows:
        per_owner.setdefault(owner_id, []).append(generation_id)
    turns = []
    while per_owner:
        for owner_id in list(per_owner):
            turns.append(per_owner[owner_id].pop(0))
            if not per_owner[owner_id]:
                del per_owner[owner_id]
    return turns


def has_submit_backlog(generation_id):
    """Others are waiting too: then the dispatcher decides the order, fairly."""
    due = Generation.objects.due_for_submit(timezone.now()).exclude(pk=generation_id)
    return due.exists()


def poll_due_generations(limit=POLL_BATCH, until=None):
    slot_wait = 60.0 / settings.WAN_API_RATE_PER_MINUTE + 1
    ids, held_until = claim_due_polls(limit, slot_wait)
    for index, generation_id in enumerate(ids):
        out_of_time = until is not None and time.monotonic() >= until
        if out_of_time or not reserve_api_request(max_wait=slot_wait):
            # The slice ends or the budget is spent: hand the rest back now, not when the
            # claim runs out.
            Generation.objects.filter(pk__in=ids[index:], due_at=held_until).update(
                due_at=timezone.now()
            )
            break
        poll_generation(generation_id)
    return len(ids)


def claim_due_polls(limit, slot_wait):
    """Due in-flight rows for this dispatcher alone, as others run at the same time: rows
    being claimed elsewhere are skipped, and claimed rows are not due again until this batch
    has had time to poll them."""
    now = timezone.now()
    held_until = now + timedelta(
        seconds=limit * slot_wait + settings.WAN_CONNECT_TIMEOUT + settings.WAN_READ_TIMEOUT
    )
    with transaction.atomic():
        due = Generation.objects.due_for_poll(now).order_by("due_at")
        ids = list(due.select_for_update(skip_locked=True).values_list("pk", flat=True)[:limit])
        Generation.objects.filter(pk__in=ids).update(due_at=held_until)
    return ids, held_until


def seconds_until_next_due():
    """How long the dispatcher may sleep; None when nothing waits on the API."""
    waiting = [Status.SUBMITTED, Status.PROCESSING]
    if not StudioState.submissions_are_paused():
        waiting.append(Status.QUEUED)
    pending = Generation.objects.filter(status__in=waiting).order_by("due_at")
    first = pending.values_list("due_at", flat=True).first()
    if first is None:
        return None
    return max(0.0, (first - timezone.now()).total_seconds())


def reconcile_stuck_generations():
    """Repair rows a dead worker left behind, from database state alone."""
    repaired = 0
    stale_submits = Generation.objects.filter(
        status=Status.SUBMITTING,
        api_task_id__isnull=True,
        status_changed_at__lt=timezone.now() - submit_stale_after(),
    )
    for generation in stale_submits:
        settle_interrupted_submit(generation)
        repaired += 1
    # A download that has not finished in its job's time limit died with its worker.
    stale_downloads = Generation.objects.filter(
        status=Status.DOWNLOADING,
        status_changed_at__lt=timezone.now() - timedelta(seconds=settings.Q_CLUSTER["timeout"]),
    )
    for generation in stale_downloads:
        generation.return_to_polling("the download was interrupted", timezone.now())
        repaired += 1
    return repaired
