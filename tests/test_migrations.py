"""A studio made by an older release migrates forward with nothing lost: rows, files' names,
and what the API billed (the ledger is written from the accepted tasks)."""

from decimal import Decimal

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

BEFORE_THE_LEDGER = [("generations", "0007_prompt_search")]

# Migrating back and forth empties the tables: serialized_rollback puts the roles back.
pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


def migrate(targets):
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)
    return executor.loader.project_state(targets).apps


def latest():
    executor = MigrationExecutor(connection)
    return executor.loader.graph.leaf_nodes()


def fill(apps):
    """What a team had made with the release before the ledger."""
    User = apps.get_model("auth", "User")
    SourceImage = apps.get_model("generations", "SourceImage")
    Generation = apps.get_model("generations", "Generation")
    Favourite = apps.get_model("generations", "Favourite")
    Budget = apps.get_model("generations", "Budget")
    maya = User.objects.create(username="maya")
    picture = SourceImage.objects.create(
        image="sources/a.jpg", sha256="a" * 64, width=832, height=480, uploaded_by=maya
    )
    common = dict(owner=maya, source_image=picture, prompt="harbour at dusk")
    done = Generation.objects.create(
        **common, status="succeeded", api_task_id="task-1", estimated_cost=Decimal("0.20"),
        video="videos/v.mp4", poster="posters/p.jpg",
    )  # fmt: skip
    Generation.objects.create(
        **common, status="processing", api_task_id="task-2", estimated_cost=Decimal("0.40"),
        width=1280, height=720,
    )  # fmt: skip
    Generation.objects.create(**common, status="queued", estimated_cost=Decimal("0.20"))
    Generation.objects.create(**common, status="failed", estimated_cost=Decimal("0.20"))
    Favourite.objects.create(user=maya, generation=done)
    Budget.objects.create(user=maya, monthly_limit=Decimal("5.00"))


def test_a_studio_from_before_the_ledger_keeps_every_row_and_charges_what_was_accepted():
    fill(migrate(BEFORE_THE_LEDGER))

    apps = migrate(latest())

    Generation = apps.get_model("generations", "Generation")
    LedgerEntry = apps.get_model("generations", "LedgerEntry")
    assert Generation.objects.count() == 4
    assert sorted(Generation.objects.values_list("status", flat=True)) == [
        "failed", "processing", "queued", "succeeded",
    ]  # fmt: skip
    done = Generation.objects.get(status="succeeded")
    assert (done.video.name, done.poster.name) == ("videos/v.mp4", "posters/p.jpg")
    assert apps.get_model("generations", "Favourite").objects.get().generation_id == done.pk
    assert apps.get_model("generations", "Budget").objects.get().monthly_limit == Decimal("5")
    charges = {(e.api_task_id, e.amount, e.clarity) for e in LedgerEntry.objects.all()}
    assert charges == {("task-1", Decimal("0.20"), "480p"), ("task-2", Decimal("0.40"), "720p")}


def test_reviewers_may_see_flagged_work_after_the_migration():
    before = migrate(BEFORE_THE_LEDGER)
    before.get_model("auth", "Group").objects.get_or_create(name="reviewer")
    apps = migrate(latest())
    reviewer = apps.get_model("auth", "Group").objects.get(name="reviewer")
    assert reviewer.permissions.filter(codename="view_flagged_generation").exists()
