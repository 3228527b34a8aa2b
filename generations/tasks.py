"""django-q2 entry points: thin wrappers that carry ids into the pipeline.

Only django-q2 calls these, by the dotted paths `generations.jobs` enqueues and schedules.
"""

import logging
import time

from django.utils import timezone

from lib import database

from . import jobs, notify, pipeline, sequences

log = logging.getLogger(__name__)


def submit(generation_id):
    if pipeline.has_submit_backlog(generation_id):
        return  # others are waiting too: the dispatcher sends them all, taking turns
    pipeline.submit_generation(generation_id)


def download(generation_id, video_url):
    pipeline.download_result(generation_id, video_url)


def dispatch():
    """One slice of the dispatcher (see `generations.jobs`)."""
    seconds = (jobs.dispatch_slice_end() - timezone.now()).total_seconds()
    pipeline.dispatch(until=time.monotonic() + seconds)


def reconcile():
    repaired = pipeline.reconcile_stuck_generations()
    if repaired:
        log.info("Reconcile repaired %d generation(s)", repaired)
    notify.enqueue_due_webhooks()  # retries that came due, and deliveries whose job was lost


def refresh_statistics():
    database.refresh_statistics()


def export_sequence(sequence_id):
    sequences.export(sequence_id)


def send_webhook(delivery_id):
    notify.send_webhook(delivery_id)


def send_email(person_id, subject, body):
    notify.send_email(person_id, subject, body)
