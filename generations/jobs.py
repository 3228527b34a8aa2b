"""How work reaches the django-q2 cluster: jobs that carry ids, the schedules, a worker's start.

The cluster runs the entry points of `generations.tasks`, named here by dotted path, so the
pipeline enqueues through this module and nothing imports `tasks` but django-q2.

The dispatcher is one loop, as healthchecks' `sendalerts` is one loop: it sends the submits that
wait their turn and polls the tasks that are due. It claims each row before acting on it (a poll
with `SELECT … FOR UPDATE SKIP LOCKED` and a hold on `due_at`, a submit with the compare-and-set
`queued → submitting`), so any number of loops may run at once, and that claim is the only
coordination between them: no lease, no lock service, nothing to restart.

django-q2 runs the loop in slices. The `dispatch` schedule starts one every minute, and each works
until the scheduler has surely started the next (django-q2 looks for due schedules every 30 s),
so one is always running and two overlap for a moment. Always running is what makes a new task's
first poll, a retry that comes due or a resumed studio start within a second, without anything
having to start a dispatcher. Slices rather than one job for ever, because a job has a time limit
and the database broker gives a job that stays silent too long to another worker. A cluster that
starts has lost its slice, so its first worker has the schedule start one at once. A fresh submit
does not wait for the loop: its own job sends it at once, unless others are waiting, in which
case the loop sends them all, taking turns between people.
"""

import logging
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django_q.models import Schedule
from django_q.tasks import async_task

log = logging.getLogger(__name__)

DISPATCH = "dispatch"
RECONCILE = "reconcile"  # also the cluster heartbeat that /healthz reads
STATISTICS = "statistics"  # the query planner's, on SQLite (lib/database.py)
EVERY = timedelta(minutes=1)
# A slice ends this long after the next one is due: django-q2's scheduler looks every 30 s.
HANDOVER = timedelta(seconds=35)
# The workers of a cluster start within a second or two: the first one's run serves them all.
STARTING_TOGETHER = timedelta(seconds=5)


def enqueue_submit(generation_id):
    """Queue the submit job once the row that names it is committed."""
    transaction.on_commit(
        lambda: async_task(
            "generations.tasks.submit", generation_id, task_name=f"submit-{generation_id}"
        )
    )


def enqueue_download(generation_id, video_url):
    transaction.on_commit(
        lambda: async_task(
            "generations.tasks.download",
            generation_id,
            video_url,
            task_name=f"download-{generation_id}",
        )
    )


def ensure_schedules():
    """Install (or update) the dispatcher, reconcile and the planner's statistics."""
    every_minute = dict(schedule_type=Schedule.MINUTES, minutes=1, repeats=-1)
    Schedule.objects.update_or_create(
        name=RECONCILE, defaults=dict(func="generations.tasks.reconcile", **every_minute)
    )
    Schedule.objects.update_or_create(
        name=STATISTICS,
        defaults=dict(
            func="generations.tasks.refresh_statistics", schedule_type=Schedule.HOURLY, repeats=-1
        ),
    )
    Schedule.objects.update_or_create(
        name=DISPATCH,
        defaults=dict(
            func="generations.tasks.dispatch",
            # A slice may outlast the cluster's job time limit (Q_TIMEOUT): it has its own.
            kwargs=repr({"q_options": {"timeout": dispatch_timeout()}}),
            **every_minute,
        ),
    )


def dispatch_timeout():
    """The longest slice, plus the API request it may have begun just before its end."""
    request = settings.WAN_CONNECT_TIMEOUT + settings.WAN_READ_TIMEOUT
    slot_wait = 60.0 / settings.WAN_API_RATE_PER_MINUTE + 1
    return int((EVERY + HANDOVER).total_seconds() + request + slot_wait + 15)


def dispatch_slice_end():
    """When the running slice may stop: once the scheduler has surely started the next one."""
    now = timezone.now()
    next_run = Schedule.objects.filter(name=DISPATCH).values_list("next_run", flat=True).first()
    next_run = next_run or now
    if next_run <= now:  # the scheduler moves next_run on a whole number of periods
        next_run += EVERY * ((now - next_run) // EVERY + 1)
    return next_run + HANDOVER


def on_worker_start(**kwargs):
    """post_spawn, in each worker of a cluster that starts (or that replaces a dead worker).

    Run reconcile and a dispatcher slice now, not at the scheduler's first look 30 s from now:
    the slice this cluster ran died with it, and reconcile repairs what the dead cluster left.
    Its other workers, starting at the same moment, find both just run and add nothing (the
    scheduler locks the schedule rows, so each run starts once)."""
    from django_q.scheduler import scheduler

    now = timezone.now()
    try:
        not_just_run = Q(next_run__lt=now + EVERY - STARTING_TOGETHER)
        Schedule.objects.filter(not_just_run, name__in=[DISPATCH, RECONCILE]).update(next_run=now)
        scheduler()
    except Exception:  # a worker must start even if the database does not answer yet
        log.exception("Could not run the schedules at start; the scheduler will")


def enqueue_export(sequence_id):
    """Queue a sequence's export (local rendering, no API call) once its row is committed."""
    transaction.on_commit(
        lambda: async_task(
            "generations.tasks.export_sequence",
            sequence_id,
            task_name=f"export-{sequence_id}",
        )
    )


def enqueue_webhook(delivery_id):
    """Queue one webhook delivery once its row is committed. Robust: a broker that refuses is
    logged, not raised into the change that announced it; the row stays due for reconcile."""
    transaction.on_commit(
        lambda: async_task(
            "generations.tasks.send_webhook", delivery_id, task_name=f"webhook-{delivery_id}"
        ),
        robust=True,
    )


def enqueue_email(person_id, subject, body):
    """Queue one notification e-mail once the change it tells of is committed."""
    transaction.on_commit(
        lambda: async_task(
            "generations.tasks.send_email",
            person_id,
            subject,
            body,
            task_name=f"email-{person_id}",
        ),
        robust=True,
    )
