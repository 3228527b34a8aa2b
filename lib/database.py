"""The query planner's statistics. PostgreSQL's autovacuum keeps its own up to date. SQLite's
are what the last ANALYZE saw, which for a new studio is the empty tables `migrate` left: its
planner then takes a table of 1,000,000 generations for a small one, and, for instance, walked
the whole history for a person's favourites of one LoRA instead of starting from the favourites.
The cluster refreshes them every hour; ANALYZE samples (analysis_limit): 155 ms at 100,000
generations."""

from django.db import connections

SAMPLED_ROWS = 1000


def refresh_statistics(using="default"):
    """Refresh SQLite's statistics; True if there were any to refresh."""
    connection = connections[using]
    if connection.vendor != "sqlite":
        return False
    with connection.cursor() as cursor:
        cursor.execute(f"PRAGMA analysis_limit={SAMPLED_ROWS}")
        cursor.execute("ANALYZE")
    return True
