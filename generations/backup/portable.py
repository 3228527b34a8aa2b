"""The portable copy of a database: every row of every table, in JSON lines.

Rows are read and written through the models as the backup's own migrations describe them
(not as the code that restores them does), so a backup from an older studio loads into the
schema it was made with and is then migrated forward like any older database. The same file
loads into SQLite or PostgreSQL.

Each table is one header line, {"model": "app.model", "fields": [column names]}, followed by
one JSON array per row. Values are written as Django's serializers write them, but with whole
microseconds (its JSON encoder cuts them to milliseconds).
"""

import datetime
import decimal
import gzip
import json
import uuid

from django.core.management.color import no_style
from django.db import connections, models, transaction
from django.utils.encoding import is_protected_type

from .errors import BackupError

BATCH_ROWS = 1000


def tables(apps):
    """Every model that owns a table, many-to-many tables included."""
    return [
        model
        for model in apps.get_models(include_auto_created=True)
        if model._meta.managed and not model._meta.proxy
    ]


def dump(alias, apps, path):
    """Write every row that alias holds; returns (rows per model, names of stored files)."""
    counts = {}
    file_names = set()
    with gzip.open(path, "wt", encoding="utf-8", compresslevel=6) as out:
        for model in tables(apps):
            fields = model._meta.concrete_fields
            file_fields = [field for field in fields if isinstance(field, models.FileField)]
            header = {"model": model._meta.label_lower, "fields": [f.attname for f in fields]}
            out.write(json.dumps(header) + "\n")
            rows = 0
            for row in model._base_manager.using(alias).order_by("pk").iterator(chunk_size=2000):
                out.write(json.dumps([value_of(row, f) for f in fields], default=encode) + "\n")
                file_names.update(n for f in file_fields if (n := getattr(row, f.attname).name))
                rows += 1
            counts[model._meta.label_lower] = rows
    return counts, file_names


def value_of(row, field):
    value = field.value_from_object(row)
    return value if is_protected_type(value) else field.value_to_string(row)


def encode(value):
    if isinstance(value, datetime.datetime | datetime.date | datetime.time):
        return value.isoformat()
    if isinstance(value, decimal.Decimal | uuid.UUID):
        return str(value)
    raise TypeError(f"{type(value).__name__} cannot be written to a backup")


def load(alias, apps, path):
    """Replace every row of alias's tables with the dump's, in one transaction."""
    connection = connections[alias]
    models_by_label = {model._meta.label_lower: model for model in tables(apps)}
    table_names = [model._meta.db_table for model in models_by_label.values()]
    with transaction.atomic(using=alias):
        with connection.cursor() as cursor:
            # The migrations may have written rows (groups, permissions): the dump's win.
            for statement in connection.ops.sql_flush(no_style(), table_names, allow_cascade=True):
                cursor.execute(statement)
        for model, rows in read(path, models_by_label):
            insert(alias, model, rows)
        with connection.cursor() as cursor:
            for statement in connection.ops.sequence_reset_sql(
                no_style(), list(models_by_label.values())
            ):
                cursor.execute(statement)


def read(path, models_by_label):
    """(model, batch of unsaved rows) from a dump, a batch at a time."""
    model, fields, batch = None, [], []
    with gzip.open(path, "rt", encoding="utf-8") as lines:
        for line in lines:
            item = json.loads(line)
            if isinstance(item, dict):
                if batch:
                    yield model, batch
                    batch = []
                model, fields = header_model(item, models_by_label)
                continue
            pairs = zip(fields, item, strict=True)
            batch.append(model(*(None if v is None else f.to_python(v) for f, v in pairs)))
            if len(batch) >= BATCH_ROWS:
                yield model, batch
                batch = []
    if batch:
        yield model, batch


def header_model(header, models_by_label):
    model = models_by_label.get(header["model"])
    fields = model._meta.concrete_fields if model else []
    if model is None or [field.attname for field in fields] != header["fields"]:
        raise BackupError(
            f"The portable dump's table {header['model']} does not match the backup's "
            "migration state: the backup is damaged."
        )
    return model, fields


def insert(alias, model, rows):
    """INSERT the rows as they are: raw, so no auto_now or pre_save hook rewrites a value."""
    fields = model._meta.concrete_fields
    size = max(1, min(BATCH_ROWS, connections[alias].ops.bulk_batch_size(fields, rows)))
    for start in range(0, len(rows), size):
        model._base_manager.using(alias)._insert(
            rows[start : start + size], fields=fields, using=alias, raw=True
        )


def count(alias, apps):
    return {
        model._meta.label_lower: model._base_manager.using(alias).count() for model in tables(apps)
    }
