"""What every open page asks every few seconds: has work started, moved or landed anywhere
since it last looked? The answer's version is read by index lookups alone, so a page that
finds nothing new (`304`) costs one small query, at any number of generations."""

import hashlib
from dataclasses import dataclass
from datetime import timedelta

from django.db import connection
from django.utils import timezone

from generations.models import ACTIVE_STATUSES, Generation, Status

# Own work that landed this recently still counts as news for the title counter.
RECENTLY_LANDED = timedelta(minutes=10)
LANDED_STATUSES = (Status.SUCCEEDED, Status.FAILED, Status.NEEDS_ATTENTION, Status.CANCELED)


def studio_version():
    """A short string that changes whenever a generation is created, changes state, moves its
    progress or finishes. Each part is a scalar subquery: MAX over an indexed column is one
    index probe on both stores (asked together in one aggregate, SQLite would scan), and the
    active rows are the few the status index points at."""
    table = connection.ops.quote_name(Generation._meta.db_table)
    marks = ", ".join(["%s"] * len(ACTIVE_STATUSES))
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT (SELECT MAX(created_at) FROM {table}),"
            f" (SELECT MAX(finished_at) FROM {table}),"
            f" COUNT(*), MAX(status_changed_at), SUM(progress_percent)"
            f" FROM {table} WHERE status IN ({marks})",
            list(ACTIVE_STATUSES),
        )
        row = cursor.fetchone()
    return hashlib.blake2s(repr(row).encode(), digest_size=8).hexdigest(), row[2]


@dataclass
class Pulse:
    version: str
    team_active: int
    mine: list  # the viewer's own work in flight or landed recently, newest first

    def as_json(self):
        return {
            "version": self.version,
            "team_active": self.team_active,
            "mine_active": sum(1 for row in self.mine if row["active"]),
            "mine": self.mine,
        }


def pulse_for(viewer, version, team_active):
    """The news a page acts on once the version moved: the viewer's own recent work, whose
    landings the title counter and notifications announce."""
    since = timezone.now() - RECENTLY_LANDED
    rows = (
        Generation.objects.filter(owner=viewer)
        .in_live_queue(since)
        .order_by("-created_at", "-id")
        .values("pk", "status", "prompt", "batch_id")[:50]
    )
    mine = [
        {
            "id": row["pk"],
            "status": row["status"],
            "label": Status(row["status"]).label,
            "active": row["status"] in ACTIVE_STATUSES,
            "prompt": row["prompt"][:80],
            "url": Generation(pk=row["pk"]).get_absolute_url(),
        }
        for row in rows
    ]
    return Pulse(version, team_active, mine)
