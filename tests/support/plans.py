"""SQLite's query plan of a queryset, for tests that a page reads its index."""

from django.db import connection


def sqlite_plan(queryset):
    """EXPLAIN QUERY PLAN's rows for queryset, as one line of text."""
    sql, params = queryset.query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN QUERY PLAN {sql}", params)
        return " ".join(str(row) for row in cursor.fetchall())
