"""Prompt search on PostgreSQL: a trigram index on UPPER(prompt), the expression Django's
icontains compares. It finds rare words without reading every row, and ANALYZE keeps
statistics of the expression, so the planner knows how common a word is. Where pg_trgm cannot
be created (it is a trusted extension from PostgreSQL 13; older servers need a superuser),
expression statistics alone still give the planner its estimates. SQLite is left alone."""

from django.db import migrations, transaction

TABLE = "generations_generation"


def add_prompt_search(apps, schema_editor):
    connection = schema_editor.connection
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        try:
            with transaction.atomic(using=connection.alias):
                cursor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
                cursor.execute(
                    f"CREATE INDEX IF NOT EXISTS gallery_prompt_search ON {TABLE} "
                    "USING gin (UPPER(prompt) gin_trgm_ops)"
                )
        except Exception:  # no privilege to create the extension
            cursor.execute(
                "CREATE STATISTICS IF NOT EXISTS gallery_prompt_words "
                f"ON (UPPER(prompt)) FROM {TABLE}"
            )
        cursor.execute(f"ANALYZE {TABLE}")


def remove_prompt_search(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    with schema_editor.connection.cursor() as cursor:
        cursor.execute("DROP INDEX IF EXISTS gallery_prompt_search")
        cursor.execute("DROP STATISTICS IF EXISTS gallery_prompt_words")


class Migration(migrations.Migration):
    dependencies = [("generations", "0006_gallery_indexes")]

    operations = [migrations.RunPython(add_prompt_search, remove_prompt_search)]
