"""The database's half of a backup: one consistent snapshot while the studio runs, and putting
it back.

Each backup keeps two copies of the same moment. The native one restores fastest and most
faithfully into the same kind of database: SQLite's online backup API, or `pg_dump`. The
portable one (see `portable.py`) restores into either kind, which is how a studio moves from
SQLite to PostgreSQL. Both are read from one snapshot: on SQLite the portable copy is read from
the native file once it is written; on PostgreSQL both are read inside one REPEATABLE READ
transaction, whose snapshot `pg_dump --snapshot` shares.
"""

import os
import sqlite3
import subprocess
from contextlib import closing, contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from django.apps import apps as current_apps
from django.contrib.auth import get_user_model
from django.db import DatabaseError, connections, transaction
from django.db.migrations.executor import MigrationExecutor
from django.db.migrations.loader import MigrationLoader
from django.db.migrations.recorder import MigrationRecorder
from django.db.utils import load_backend

from generations.search import PROMPT_INDEX

from . import portable
from .errors import BackupError

SNAPSHOT_ALIAS = "backup_snapshot"
VENDORS = ("sqlite", "postgresql")


@dataclass
class Snapshot:
    vendor: str
    native: Path  # a SQLite file or a pg_dump archive
    native_format: str
    portable: Path
    migrations: list
    counts: dict = field(default_factory=dict)
    file_names: set = field(default_factory=set)


def take_snapshot(workdir, alias="default"):
    connection = connections[alias]
    if connection.vendor not in VENDORS:
        raise BackupError(f"Backing up a {connection.vendor} database is not supported.")
    try:
        if connection.vendor == "sqlite":
            return sqlite_snapshot(connection, workdir)
        return postgresql_snapshot(connection, workdir)
    except DatabaseError as error:
        raise BackupError(f"Could not read the database: {error}") from error


def sqlite_snapshot(connection, workdir):
    native = workdir / "database.sqlite3"
    connection.ensure_connection()
    with closing(sqlite3.connect(native)) as copy:
        # One step (pages=-1) copies every page inside one read transaction: in WAL mode the
        # web server and the cluster keep writing meanwhile, and the copy is of one moment.
        connection.connection.backup(copy)
        copy.execute("PRAGMA journal_mode=DELETE")  # one self-contained file
    with snapshot_connection(native) as alias:
        return read_portable(alias, "sqlite", native, "sqlite3", workdir)


def postgresql_snapshot(connection, workdir):
    native = workdir / "database.pgdump"
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")  # connect (and health-check) before the transaction begins
    with transaction.atomic(using=connection.alias):
        with connection.cursor() as cursor:
            cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
            cursor.execute("SELECT pg_export_snapshot()")
            (snapshot_id,) = cursor.fetchone()
        run_postgresql_tool(
            "pg_dump",
            connection.settings_dict,
            "--format=custom",
            "--no-owner",
            "--no-privileges",
            f"--snapshot={snapshot_id}",
            f"--file={native}",
        )
        return read_portable(connection.alias, "postgresql", native, "pg_dump custom", workdir)


def read_portable(alias, vendor, native, native_format, workdir):
    migrations = applied_migrations(alias)
    dump = workdir / "data.jsonl.gz"
    counts, file_names = portable.dump(alias, state_apps(migrations), dump)
    return Snapshot(vendor, native, native_format, dump, migrations, counts, file_names)


@contextmanager
def snapshot_connection(path):
    """A read-only Django connection to a SQLite snapshot file, under its own alias."""
    settings = dict(connections["default"].settings_dict)
    settings.update(
        ENGINE="django.db.backends.sqlite3", NAME=f"{Path(path).as_uri()}?mode=ro", OPTIONS={}
    )
    configured = connections.configure_settings({"default": {}, SNAPSHOT_ALIAS: settings})
    # Held by this thread only, never added to the project's DATABASES.
    connections[SNAPSHOT_ALIAS] = load_backend(settings["ENGINE"]).DatabaseWrapper(
        configured[SNAPSHOT_ALIAS], SNAPSHOT_ALIAS
    )
    try:
        yield SNAPSHOT_ALIAS
    finally:
        connections[SNAPSHOT_ALIAS].close()
        del connections[SNAPSHOT_ALIAS]


# --- migration state -------------------------------------------------------------------------


def applied_migrations(alias="default"):
    return sorted(MigrationRecorder(connections[alias]).applied_migrations())


def state_apps(migrations):
    """The models as the given migrations left them (the backup's own schema)."""
    loader = MigrationLoader(None, ignore_no_migrations=True)
    unknown = sorted(set(migrations) - set(loader.graph.nodes))
    if unknown:
        names = ", ".join(f"{app}.{name}" for app, name in unknown[:5])
        raise BackupError(
            f"The backup was made by a newer studio (migrations this one lacks: {names}). "
            "Upgrade the studio, then restore."
        )
    return loader.project_state(list(migrations)).apps


def migrate_to(migrations, alias="default"):
    """Bring an empty database to exactly the backup's migration state."""
    executor = MigrationExecutor(connections[alias])
    applied = set(migrations)
    graph = executor.loader.graph
    # Per app, the last migration applied: a target that is not an app's last would unapply.
    targets = [
        node
        for node in applied
        if not any(
            child[0] == node[0] and child in applied for child in graph.node_map[node].children
        )
    ]
    executor.migrate(targets)


# --- the instance restored into --------------------------------------------------------------


def prepare(alias="default"):
    """A SQLite file's folder must exist before the first connection creates the file."""
    settings = connections[alias].settings_dict
    if connections[alias].vendor == "sqlite" and not str(settings["NAME"]).startswith("file:"):
        Path(settings["NAME"]).parent.mkdir(parents=True, exist_ok=True)


def contents(alias="default"):
    """What the studio's own tables hold: {"generations": 12, "users": 3}, empty when empty."""
    connection = connections[alias]
    tables = set(connection.introspection.table_names())
    found = {}
    models = [get_user_model(), *current_apps.get_app_config("generations").get_models()]
    with connection.cursor() as cursor:
        for model in models:
            table = model._meta.db_table
            if table in tables:
                cursor.execute(f"SELECT COUNT(*) FROM {connection.ops.quote_name(table)}")
                (rows,) = cursor.fetchone()
                if rows:
                    found[str(model._meta.verbose_name_plural)] = rows
    return found


def drop_every_table(alias="default"):
    """--replace: the restored database starts from nothing, whatever schema it had."""
    connection = connections[alias]
    quote = connection.ops.quote_name
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            # Full-text tables first: dropping one drops its shadow tables.
            cursor.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table' "
                "AND sql LIKE 'CREATE VIRTUAL TABLE%'"
            )
            for (name,) in cursor.fetchall():
                cursor.execute(f"DROP TABLE IF EXISTS {quote(name)}")
            cursor.execute("PRAGMA foreign_keys = OFF")
            for name in connection.introspection.table_names(cursor):
                cursor.execute(f"DROP TABLE IF EXISTS {quote(name)}")
            cursor.execute("PRAGMA foreign_keys = ON")
        else:
            tables = connection.introspection.table_names(cursor)
            if tables:
                cursor.execute(f"DROP TABLE IF EXISTS {', '.join(map(quote, tables))} CASCADE")


def restore_native(vendor, path, alias="default"):
    connection = connections[alias]
    if vendor == "sqlite":
        connection.close()
        source = f"{Path(path).as_uri()}?mode=ro"
        with closing(sqlite3.connect(source, uri=True)) as snapshot:
            with closing(sqlite3.connect(connection.settings_dict["NAME"])) as target:
                snapshot.backup(target)
    else:
        connection.close()
        run_postgresql_tool(
            "pg_restore",
            connection.settings_dict,
            "--no-owner",
            "--no-privileges",
            "--exit-on-error",
            "--single-transaction",
            str(path),
        )


def rebuild_prompt_index(alias="default"):
    """SQLite's full-text index of prompts (migration 0011) holds rowids: rebuild it from the
    restored rows rather than trust it."""
    connection = connections[alias]
    if connection.vendor != "sqlite" or PROMPT_INDEX not in connection.introspection.table_names():
        return
    with connection.cursor() as cursor:
        cursor.execute(f"INSERT INTO {PROMPT_INDEX}({PROMPT_INDEX}) VALUES ('rebuild')")


# --- PostgreSQL's tools ----------------------------------------------------------------------


def run_postgresql_tool(program, settings, *args):
    command = [program, f"--dbname={settings['NAME']}", *args]
    if settings.get("HOST"):
        command.append(f"--host={settings['HOST']}")
    if settings.get("PORT"):
        command.append(f"--port={settings['PORT']}")
    if settings.get("USER"):
        command.append(f"--username={settings['USER']}")
    env = dict(os.environ)
    if settings.get("PASSWORD"):
        env["PGPASSWORD"] = str(settings["PASSWORD"])
    if sslmode := settings.get("OPTIONS", {}).get("sslmode"):
        env["PGSSLMODE"] = sslmode
    try:
        result = subprocess.run(command, env=env, capture_output=True, text=True)
    except FileNotFoundError:
        raise BackupError(
            f"{program} is not installed: PostgreSQL's client tools are needed "
            "(Debian: apt-get install postgresql-client)."
        ) from None
    if result.returncode != 0:
        raise BackupError(f"{program} failed: {result.stderr.strip()}")
