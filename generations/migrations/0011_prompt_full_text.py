"""Prompt search on SQLite: an FTS5 index of each prompt's trigrams (generations.search reads
it; the trigram tokenizer needs SQLite 3.34 or later). External content: the prompt is stored
once, in its generation row; triggers keep the index in step inside the transaction that
writes the row, and the rows already there are indexed here. PostgreSQL keeps its trigram
GIN index from 0007.

Trigrams, not words, because search finds a word anywhere in a prompt ("arbour" finds
"harbour"), as it did before there was an index.

A later migration that makes SQLite rebuild generations_generation (copy, drop, rename) drops
these triggers with the old table, and must create them again as this one does
(tests/test_search.py fails until it does).
"""

from django.db import migrations

TABLE = "generations_generation"
INDEX = "generations_prompt_search"

TRIGGERS = {
    f"{INDEX}_insert": f"""
        AFTER INSERT ON {TABLE} BEGIN
            INSERT INTO {INDEX}(rowid, prompt) VALUES (new.id, new.prompt);
        END""",
    f"{INDEX}_delete": f"""
        AFTER DELETE ON {TABLE} BEGIN
            INSERT INTO {INDEX}({INDEX}, rowid, prompt) VALUES ('delete', old.id, old.prompt);
        END""",
    f"{INDEX}_update": f"""
        AFTER UPDATE OF prompt ON {TABLE} WHEN old.prompt IS NOT new.prompt BEGIN
            INSERT INTO {INDEX}({INDEX}, rowid, prompt) VALUES ('delete', old.id, old.prompt);
            INSERT INTO {INDEX}(rowid, prompt) VALUES (new.id, new.prompt);
        END""",
}


def create_prompt_index(apps, schema_editor):
    if schema_editor.connection.vendor != "sqlite":
        return
    with schema_editor.connection.cursor() as cursor:
        cursor.execute(
            f"CREATE VIRTUAL TABLE IF NOT EXISTS {INDEX} USING fts5(prompt, "
            f"content='{TABLE}', content_rowid='id', tokenize='trigram')"
        )
        for name, definition in TRIGGERS.items():
            cursor.execute(f"DROP TRIGGER IF EXISTS {name}")
            cursor.execute(f"CREATE TRIGGER {name} {definition}")
        cursor.execute(f"INSERT INTO {INDEX}({INDEX}) VALUES ('rebuild')")


def drop_prompt_index(apps, schema_editor):
    if schema_editor.connection.vendor != "sqlite":
        return
    with schema_editor.connection.cursor() as cursor:
        for name in TRIGGERS:
            cursor.execute(f"DROP TRIGGER IF EXISTS {name}")
        cursor.execute(f"DROP TABLE IF EXISTS {INDEX}")


class Migration(migrations.Migration):
    dependencies = [("generations", "0010_delete_workerlease")]

    operations = [migrations.RunPython(create_prompt_index, drop_prompt_index)]
