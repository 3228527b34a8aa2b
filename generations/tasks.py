"""django-q2 entry points and schedules: thin wrappers that carry ids into the pipeline."""

import logging
import os
import socket
import time

from django.db import OperationalError, close_old_connections, transaction
from django_q.models import Schedule
from django_q.tasks import async_task

from . import pipeline
from .models import StudioState, WorkerLease

log = logging.getLogger(__name__)

DISPATCHER = "dispatcher"
DISPATCHER_LEASE_SECONDS = 45
# A dispatcher run stays well under the cluster's job timeout, then hands over to a new job.
DISPATCHER_RUN_SECONDS = 50
DISPATCHER_IDLE_SLEEP = 1.0


def enqueue_submit(generation_id):
    """Queue the submit job once the row that names it is committed."""
    transaction.on_commit(
        lambda: async_task(
            "generations.tasks.submit", generation_id, task_name=f"submit-{generation_id}"
        )
    )


def enqueue_download(generation_id, video_url):
    async_task(
        "generations.tasks.download",
        generation_id,
        video_url,
        task_name=f"download-{generation_id}",
    )


def start_dispatcher():
    """Make sure a dispatcher runs; the lease turns extra starts into no-ops."""
    if WorkerLease.is_free(DISPATCHER):
        async_task("generations.tasks.dispatch", task_name="dispatch")


def resume_submissions():
    """An admin says the API account has credit again: send what waited."""
    StudioState.resume()
    start_dispatcher()


def submit(generation_id):
    if pipeline.has_submit_backlog(generation_id):
        start_dispatcher()  # it sends the backlog taking turns between people
        return
    pipeline.submit_generation(generation_id)


def download(generation_id, video_url):
    pipeline.download_result(generation_id, video_url)


def reconcile():
    repaired = pipeline.reconcile_stuck_generations()
    if repaired:
        log.info("Reconcile repaired %d generation(s)", repaired)
    start_dispatcher()


def dispatch(wait_for_lease=False):
    """Submit due retries and poll due tasks until nothing waits on the API, then stop."""
    holder = f"{socket.gethostname()}:{os.getpid()}:{time.monotonic_ns()}"
    if not acquire_dispatcher_lease(holder, wait_for_lease):
        return
    deadline = time.monotonic() + DISPATCHER_RUN_SECONDS
    more_work = True
    try:
        while time.monotonic() < deadline:
            try:
                WorkerLease.acquire(DISPATCHER, holder, DISPATCHER_LEASE_SECONDS)
                pipeline.submit_due_generations()
                pipeline.poll_due_generations()
                wait = pipeline.seconds_until_next_due()
            except OperationalError as error:
                # A locked or lost database: try again soon, rather than die holding the
                # lease and leave every task unpolled until it runs out.
                log.warning("The dispatcher could not use the database (%s); trying again", error)
                close_old_connections()
                time.sleep(DISPATCHER_IDLE_SLEEP)
                continue
            if wait is None:
                more_work = False
                break
            time.sleep(max(0.2, min(wait, DISPATCHER_IDLE_SLEEP, deadline - time.monotonic())))
    finally:
        WorkerLease.release(DISPATCHER, holder)
    # Checked after the release, so a task submitted meanwhile is never left unpolled.
    if more_work or pipeline.seconds_until_next_due() is not None:
        start_dispatcher()


def acquire_dispatcher_lease(holder, wait_for_lease):
    give_up_at = time.monotonic() + (DISPATCHER_LEASE_SECONDS + 5 if wait_for_lease else 0)
    while True:
        if WorkerLease.acquire(DISPATCHER, holder, DISPATCHER_LEASE_SECONDS):
            return True
        if time.monotonic() >= give_up_at:
            return False
        time.sleep(1.0)


def reconcile_on_start():
    pipeline.reconcile_stuck_generations()
    # A killed dispatcher's lease runs out soon; wait for it rather than for the schedule.
    dispatch(wait_for_lease=True)


def on_worker_start(**kwargs):
    """On cluster start, pick up whatever the last run left, from database state.

    Every worker process sends this signal; a short lease keeps it to one reconcile.
    """
    holder = f"{socket.gethostname()}:{os.getpid()}"
    if WorkerLease.acquire("cluster-start", holder, ttl_seconds=30):
        async_task("generations.tasks.reconcile_on_start", task_name="reconcile-on-start")


def ensure_schedules():
    """The minute-by-minute safety net: reconcile, which also restarts the dispatcher."""
    Schedule.objects.update_or_create(
        name="reconcile",
        defaults=dict(
            func="generations.tasks.reconcile",
            schedule_type=Schedule.MINUTES,
            minutes=1,
            repeats=-1,
        ),
    )
