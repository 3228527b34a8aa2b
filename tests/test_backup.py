"""`manage.py backup` and `manage.py restore`: a studio with finished, failed, flagged and
in-flight work, a budget and a ledger, backed up here and restored into a fresh var/ by a
second process (or into PostgreSQL)."""

import hashlib
import io
import json
import os
import sqlite3
import subprocess
import sys
import uuid
from decimal import Decimal
from pathlib import Path

import psycopg
import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.management import call_command
from django.core.management.base import CommandError

from generations.models import Budget, LedgerEntry, ReviewState, Status
from lib.launcher import ROOT, Launcher, wait_until

from .support.simulator import body, submit

# Restoring drops and refills the tables: serialized_rollback puts the roles back.
pytestmark = [
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
    # The instances these tests back up and restore run on their own SQLite files (and one
    # PostgreSQL database of their own), whatever DATABASE_URL says: the PostgreSQL pass of
    # make test would only repeat them.
    pytest.mark.skipif(
        bool(os.environ.get("DATABASE_URL")), reason="runs once, in the SQLite pass of make test"
    ),
]

POSTGRES_SERVER = "postgresql://postgres@127.0.0.1:5432/postgres"
RESTORED_TABLES = ["generations", "auth.user"]


@pytest.fixture
def studio(make_generation, finished, user, media_root, sim, picture_host):
    """maya's studio: finished, flagged, failed and in-flight (a task the simulator holds)
    generations, her budget and what the API billed."""
    Budget.objects.create(user=user, monthly_limit=Decimal("25.00"))
    flagged_video = default_storage.save("videos/flagged.mp4", ContentFile(b"flagged video"))
    make_generation(status=Status.SUCCEEDED, video=flagged_video, review_state=ReviewState.FLAGGED)
    make_generation(status=Status.FAILED, accepted=True, failure_reason="The API said no")
    task_id = submit(sim, body(picture_host)).json()["task_id"]  # the one POST there will be
    in_flight = make_generation(accepted=True, api_task_id=task_id, prompt="harbour at dusk")
    assert in_flight.status == Status.SUBMITTED
    return in_flight


def back_up(folder):
    out = io.StringIO()
    call_command("backup", str(folder), stdout=out)
    return out.getvalue()


def manifest_of(folder):
    return json.loads((folder / "manifest.json").read_text())


def stored_files(root):
    """{name: sha256} of every file under a media folder."""
    return {
        str(path.relative_to(root)): hashlib.sha256(path.read_bytes()).hexdigest()
        for path in Path(root).rglob("*")
        if path.is_file()
    }


def dump_rows(**options):
    out = io.StringIO()
    call_command("dumpdata", *RESTORED_TABLES, stdout=out, **options)
    return json.loads(out.getvalue())


# --- another instance, in its own processes --------------------------------------------------


def instance_env(var_dir, **extra):
    env = {key: value for key, value in os.environ.items() if not key.startswith("S3_")}
    for name in ("DATABASE_URL", "REDIS_URL", "MEDIA_ROOT", "WAN_API_KEY"):
        env.pop(name, None)
    env.update(
        DJANGO_SETTINGS_MODULE="wanstudio.settings",
        WANSTUDIO_VAR_DIR=str(var_dir),
        PYTHONUNBUFFERED="1",
        **extra,
    )
    return env


def manage(env, *args, check=True):
    result = subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    if check:
        assert result.returncode == 0, result.stdout + result.stderr
    return result


def rows_in(env):
    return json.loads(manage(env, "dumpdata", *RESTORED_TABLES).stdout)


@pytest.fixture
def postgres_database():
    """A PostgreSQL database of its own on 127.0.0.1:5432, dropped afterwards."""
    name = f"wanstudio_restore_{uuid.uuid4().hex[:12]}"
    try:
        admin = psycopg.connect(POSTGRES_SERVER, autocommit=True, connect_timeout=3)
    except psycopg.OperationalError:
        pytest.skip("PostgreSQL does not answer at 127.0.0.1:5432")
    with admin:
        admin.execute(f'CREATE DATABASE "{name}"')
        yield f"postgresql://postgres@127.0.0.1:5432/{name}"
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


# --- backing up ------------------------------------------------------------------------------


def test_manifest_counts_rows_and_hashes_every_stored_file(studio, media_root, tmp_path):
    back_up(tmp_path / "backup")

    manifest = manifest_of(tmp_path / "backup")
    assert manifest["counts"]["generations.generation"] == 4
    assert manifest["counts"]["generations.ledgerentry"] == 2
    assert manifest["counts"]["generations.budget"] == 1
    assert {name: entry["sha256"] for name, entry in manifest["files"].items()} == stored_files(
        media_root
    )
    assert ["generations", "0011_prompt_full_text"] in manifest["migrations"]
    assert manifest["database"]["vendor"] == "sqlite"
    assert manifest["studio_version"]


def test_a_second_backup_copies_only_the_new_file(studio, make_generation, tmp_path):
    folder = tmp_path / "backup"
    back_up(folder)
    objects_before = set((folder / "objects").rglob("*"))
    make_generation(
        status=Status.SUCCEEDED, video=default_storage.save("videos/new.mp4", ContentFile(b"new"))
    )

    summary = back_up(folder)

    assert "1 new" in summary
    new_objects = {p for p in set((folder / "objects").rglob("*")) - objects_before if p.is_file()}
    new_blobs = {p.name for p in new_objects}
    assert hashlib.sha256(b"new").hexdigest() in new_blobs
    # Besides the file: only the database's two copies of the new moment.
    assert len(new_blobs) == 3


def test_a_backup_that_cannot_be_written_fails_with_a_message(studio, tmp_path):
    not_a_folder = tmp_path / "backup"
    not_a_folder.write_text("a file")

    with pytest.raises(CommandError, match="Backup failed"):
        back_up(not_a_folder)


WRITER = """
import itertools, pathlib
from django.contrib.auth import get_user_model
from django.utils import timezone
from generations.models import Generation, SourceImage
person = get_user_model().objects.create_user("batch")
picture = SourceImage.objects.create(image="sources/b.jpg", sha256="0" * 64, width=8, height=8)
for number in itertools.count():
    generation = Generation.objects.create_queued(owner=person, source_image=picture, prompt="b")
    generation.claim_for_submit()
    generation.mark_submitted(f"task-{number}", timezone.now())  # and its ledger entry
    if number == 20:
        pathlib.Path("{started}").touch()
"""


@pytest.mark.live
def test_a_backup_taken_while_a_batch_is_written_is_of_one_moment(tmp_path):
    source = instance_env(tmp_path / "var")
    (tmp_path / "var").mkdir()
    manage(source, "migrate", "-v", "0")
    launcher = Launcher()
    started = tmp_path / "started"
    writer = WRITER.replace("{started}", str(started))
    launcher.spawn("writer", [sys.executable, "manage.py", "shell", "-c", writer], env=source)
    try:
        wait_until(started.exists, 30, "the batch to be written")
        manage(source, "backup", str(tmp_path / "backup"))
    finally:
        launcher.stop(grace=1)

    manifest = manifest_of(tmp_path / "backup")
    snapshot = manifest["database"]["native"]["sha256"]
    path = tmp_path / "backup" / "objects" / snapshot[:2] / snapshot
    with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as database:
        assert database.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        charged = database.execute(
            "SELECT COUNT(*) FROM generations_generation g JOIN generations_ledgerentry l "
            "ON l.generation_id = g.id AND l.api_task_id = g.api_task_id"
        ).fetchone()[0]
        with_task = database.execute(
            "SELECT COUNT(*) FROM generations_generation WHERE api_task_id IS NOT NULL"
        ).fetchone()[0]
    assert charged == with_task == manifest["counts"]["generations.ledgerentry"] > 20


# --- refusing to restore ---------------------------------------------------------------------


def test_a_damaged_file_fails_the_restore_naming_it(studio, finished, tmp_path):
    folder = tmp_path / "backup"
    back_up(folder)
    entry = manifest_of(folder)["files"][finished.video.name]
    blob = folder / "objects" / entry["sha256"][:2] / entry["sha256"]
    blob.write_bytes(b"bit rot")

    with pytest.raises(CommandError, match=f"{finished.video.name} is damaged"):
        call_command("restore", str(folder), "--replace", stdout=io.StringIO())
    assert LedgerEntry.objects.count() == 2  # nothing was touched


def test_restore_refuses_an_instance_that_is_not_empty(studio, tmp_path):
    back_up(tmp_path / "backup")

    with pytest.raises(CommandError, match="not empty .*--replace"):
        call_command("restore", str(tmp_path / "backup"), stdout=io.StringIO())


# --- restoring into another instance --------------------------------------------------------


@pytest.mark.live
def test_a_fresh_instance_gets_every_row_and_file_with_the_same_sha256(
    studio, media_root, tmp_path
):
    back_up(tmp_path / "backup")
    restored = instance_env(tmp_path / "var")

    manage(restored, "restore", str(tmp_path / "backup"))

    assert rows_in(restored) == dump_rows()
    assert stored_files(tmp_path / "var" / "media") == stored_files(media_root)
    search = "from generations.search import prompts_holding; print(prompts_holding('harbour', 5))"
    assert manage(restored, "shell", "-c", search).stdout.splitlines()[-1] == f"[{studio.pk}]"


@pytest.mark.live
def test_the_in_flight_generation_finishes_after_restore_without_a_second_post(
    studio, sim, tmp_path
):
    back_up(tmp_path / "backup")
    restored = instance_env(
        tmp_path / "var",
        WAN_API_BASE_URL=sim.base_url,
        WAN_API_RATE_PER_MINUTE="1200",
        WAN_POLL_MIN_SECONDS="0.5",
        WAN_POLL_MAX_SECONDS="1",
        Q_WORKERS="2",
    )
    manage(restored, "restore", str(tmp_path / "backup"))
    launcher = Launcher()
    launcher.spawn(
        "cluster", [sys.executable, "manage.py", "qcluster"], env=restored, log=tmp_path / "q.log"
    )
    try:
        wait_until(lambda: status_in(tmp_path / "var", studio.pk) == "succeeded", 60, "the task")
    finally:
        launcher.stop(grace=5)

    assert len(sim.stats()["submits"]) == 1


def status_in(var_dir, generation_id):
    with sqlite3.connect(f"file:{var_dir / 'wanstudio.sqlite3'}?mode=ro", uri=True) as database:
        row = database.execute(
            "SELECT status FROM generations_generation WHERE id = ?", [generation_id]
        ).fetchone()
    return row[0] if row else None


@pytest.mark.live
def test_a_sqlite_backup_restores_into_postgresql(studio, postgres_database, tmp_path):
    back_up(tmp_path / "backup")
    restored = instance_env(tmp_path / "var", DATABASE_URL=postgres_database)

    manage(restored, "restore", str(tmp_path / "backup"))

    assert rows_in(restored) == dump_rows()
    with psycopg.connect(postgres_database) as database:
        (next_id,) = database.execute(
            "SELECT nextval(pg_get_serial_sequence('generations_generation', 'id'))"
        ).fetchone()
    assert next_id > studio.pk  # the sequence continues after the restored rows
