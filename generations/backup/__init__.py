"""Backup and restore: one folder holds the database, every stored file and a manifest.

A backup folder:

    manifest.json      what the backup holds: counts per model, each file's sha256 and size,
                       the migration state, the studio's version, when, from which database
    objects/ab/ab12…   every file once, named by the sha256 of its content: pictures, videos,
                       posters, and the database's native snapshot and portable dump

The database is read first, at one moment (see `database.py`); then the files its rows name
are copied, from local media or the bucket. A file deleted after that moment (a generation
deleted meanwhile) is listed as missing, not a failure. Backing up into the same folder again
copies only what the store does not hold yet, and removes what no row names any more.

A restore checks every sha256 in the manifest before it touches the instance, puts the
database back (natively when it is the same kind, else from the portable dump), copies the
files to storage and migrates forward. In-flight generations come back as they were; the
cluster's reconcile and dispatcher pick them up, so a paid task is polled, never submitted
again.
"""

import json
import os
import tempfile
import time
import tomllib
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

from django.conf import settings
from django.core.files import File
from django.core.files.storage import default_storage
from django.core.management import call_command
from django.db import connection
from django.utils import timezone

from . import database, portable
from .errors import BackupError
from .progress import Progress, megabytes
from .store import ObjectStore, stream_sha256

__all__ = ["BackupError", "back_up", "restore"]

MANIFEST = "manifest.json"
FORMAT = 1


@dataclass
class Manifest:
    data: dict

    @property
    def files(self):
        return self.data["files"]

    @property
    def migrations(self):
        return [tuple(node) for node in self.data["migrations"]]

    def blobs(self):
        """(what, sha256) for everything the store must hold."""
        db = self.data["database"]
        yield "the database snapshot", db["native"]["sha256"]
        yield "the portable database dump", db["portable"]["sha256"]
        for name, entry in self.files.items():
            yield name, entry["sha256"]


# --- backup ----------------------------------------------------------------------------------


def back_up(folder, out):
    """Write a consistent backup of this studio into folder; returns a one-line summary."""
    started = time.monotonic()
    progress = Progress(out)
    folder = Path(folder)
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise BackupError(f"Cannot write a backup to {folder}: {error}") from error
    previous = read_manifest(folder) if (folder / MANIFEST).exists() else None
    store = ObjectStore(folder)
    with tempfile.TemporaryDirectory(dir=folder, prefix=".snapshot-") as workdir:
        snapshot = database.take_snapshot(Path(workdir))
        progress.say(f"database: {sum(snapshot.counts.values())} rows ({snapshot.vendor})")
        files, missing, copied = copy_files(snapshot.file_names, previous, store, progress)
        native = stored_entry(store.put_file(snapshot.native), format=snapshot.native_format)
        dump = stored_entry(store.put_file(snapshot.portable), format="jsonl.gz")
    manifest = {
        "format": FORMAT,
        "studio_version": studio_version(),
        "created_at": timezone.now().isoformat(),
        "database": {"vendor": snapshot.vendor, "native": native, "portable": dump},
        "migrations": [list(node) for node in snapshot.migrations],
        "counts": snapshot.counts,
        "files": files,
        "missing_files": sorted(missing),
    }
    write_manifest(folder, manifest)
    store.prune(keep={sha for _, sha in Manifest(manifest).blobs()})
    for name in sorted(missing)[:10]:
        out.write(f"warning: {name} is named by the database but no longer stored")
    total = sum(entry["size"] for entry in files.values())
    return (
        f"Backed up {len(files)} files ({megabytes(total)}; {copied} new) and "
        f"{sum(snapshot.counts.values())} rows to {folder} in {time.monotonic() - started:.1f} s."
    )


def copy_files(names, previous, store, progress):
    """Copy each stored file into the store unless it is there already; (entries, missing,
    copied)."""
    known = previous.files if previous else {}
    files, missing, copied = {}, [], 0
    step = progress.step("files", len(names))
    for name in sorted(names):
        try:
            if not default_storage.exists(name):
                missing.append(name)
                step.advance()
                continue
            size = default_storage.size(name)
            earlier = known.get(name)
            if earlier and earlier["size"] == size and store.has(earlier["sha256"]):
                files[name] = earlier  # names are never reused for other content
            else:
                with default_storage.open(name, "rb") as stored:
                    sha256, size, is_new = store.put(stored)
                files[name] = {"sha256": sha256, "size": size}
                copied += is_new
        except OSError as error:
            raise BackupError(f"Could not copy {name}: {error}") from error
        except Exception as error:  # the bucket's client raises its own errors
            if type(error).__module__.startswith(("botocore", "boto3")):
                raise BackupError(f"Could not copy {name}: {error}") from error
            raise
        step.advance(size)
    step.finish(f"{copied} copied")
    return files, missing, copied


def stored_entry(put_result, **extra):
    sha256, size, _ = put_result
    return {"sha256": sha256, "size": size, **extra}


def studio_version():
    pyproject = Path(settings.BASE_DIR) / "pyproject.toml"
    if pyproject.is_file():
        return tomllib.loads(pyproject.read_text())["project"]["version"]
    return metadata.version("wanstudio")


def write_manifest(folder, manifest):
    """Written last and atomically: a backup killed halfway leaves the previous one whole."""
    partial = folder / f".{MANIFEST}.partial"
    partial.write_text(json.dumps(manifest, indent=1, sort_keys=True))
    os.replace(partial, folder / MANIFEST)


def read_manifest(folder):
    path = Path(folder) / MANIFEST
    try:
        data = json.loads(path.read_text())
    except FileNotFoundError:
        raise BackupError(f"{folder} holds no backup ({MANIFEST} is missing).") from None
    except ValueError as error:
        raise BackupError(f"{path} is damaged: {error}") from None
    if data.get("format") != FORMAT:
        raise BackupError(f"{path} has a format this studio does not know ({data.get('format')}).")
    return Manifest(data)


# --- restore ---------------------------------------------------------------------------------


def restore(folder, out, replace=False):
    """Put the backup in folder into this instance; returns a one-line summary."""
    started = time.monotonic()
    progress = Progress(out)
    manifest = read_manifest(folder)
    store = ObjectStore(folder)
    apps = database.state_apps(manifest.migrations)
    verify(manifest, store, progress)

    database.prepare()
    found = database.contents()
    if found and not replace:
        held = ", ".join(f"{rows} {what}" for what, rows in found.items())
        raise BackupError(
            f"This instance's database is not empty ({held}). Restore into an empty one, "
            "or pass --replace to overwrite it."
        )
    database.drop_every_table()  # empty of rows, but it may have tables of another schema

    backup_db = manifest.data["database"]
    if backup_db["vendor"] == connection.vendor:
        database.restore_native(connection.vendor, store.path(backup_db["native"]["sha256"]))
        how = "native snapshot"
    else:
        database.migrate_to(manifest.migrations)
        portable.load("default", apps, store.path(backup_db["portable"]["sha256"]))
        how = f"portable dump ({backup_db['vendor']} to {connection.vendor})"
    check_counts(manifest, apps)
    progress.say(f"database: {sum(manifest.data['counts'].values())} rows from the {how}")

    restore_files(manifest, store, progress)
    before = len(database.applied_migrations())
    call_command("migrate", interactive=False, verbosity=0)
    database.rebuild_prompt_index()
    migrated = len(database.applied_migrations()) - before
    for name in manifest.data.get("missing_files", [])[:10]:
        out.write(f"warning: {name} was already missing when the backup was made")
    return (
        f"Restored {len(manifest.files)} files and {sum(manifest.data['counts'].values())} rows "
        f"from {folder} (studio {manifest.data['studio_version']}"
        + (f", migrated forward by {migrated} migrations" if migrated else "")
        + f") in {time.monotonic() - started:.1f} s; every sha256 matched."
    )


def verify(manifest, store, progress):
    """Every file of the backup against its sha256, before the instance is touched."""
    blobs = list(manifest.blobs())
    step = progress.step("verify", len(blobs))
    damaged = []
    for what, sha256 in blobs:
        if problem := store.check(sha256):
            damaged.append(f"{what} is {problem}")
        step.advance(store.path(sha256).stat().st_size if not problem else 0)
    step.finish()
    if damaged:
        listed = "; ".join(damaged[:10])
        more = f" (and {len(damaged) - 10} more)" if len(damaged) > 10 else ""
        raise BackupError(f"The backup is damaged, nothing was restored: {listed}{more}.")


def check_counts(manifest, apps):
    """The restored rows, counted at the backup's schema, against the manifest's counts."""
    found = portable.count("default", apps)
    expected = manifest.data["counts"]
    wrong = [f"{label}: {found.get(label)} of {rows}" for label, rows in expected.items()
             if found.get(label) != rows]  # fmt: skip
    if wrong:
        raise BackupError(
            f"The restored database does not hold what the backup did ({', '.join(wrong)})."
        )


def restore_files(manifest, store, progress):
    step = progress.step("files", len(manifest.files))
    for name, entry in sorted(manifest.files.items()):
        if default_storage.exists(name):
            with default_storage.open(name, "rb") as present:
                if stream_sha256(present) == entry["sha256"]:
                    step.advance(entry["size"])
                    continue
            default_storage.delete(name)  # a stale file under a name the backup's rows use
        with open(store.path(entry["sha256"]), "rb") as source:
            saved = default_storage.save(name, File(source, name=name))
        if saved != name:
            raise BackupError(f"Storage saved {name} as {saved}; nothing else may write there.")
        step.advance(entry["size"])
    step.finish()
