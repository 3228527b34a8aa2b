"""Nothing paid is deleted in flight: a generation whose task the API holds stays, whatever
path asks to delete it (the studio page, the admin, its bulk action, its owner's account)."""

from functools import partial

import pytest
from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import ProtectedError

from generations.models import Generation, LedgerEntry, Status

IN_FLIGHT = [Status.SUBMITTING, Status.SUBMITTED, Status.PROCESSING, Status.DOWNLOADING]


@pytest.fixture
def paid_task(make_generation):
    """paid_task(status=...): maya's generation of a paid task (0.20), in that state."""
    return partial(make_generation, prompt="a paid task", estimated_cost="0.20")


@pytest.mark.parametrize("status", IN_FLIGHT)
def test_the_admin_delete_page_refuses_and_says_why(admin_client, paid_task, status):
    generation = paid_task(status=status)
    url = f"/admin/generations/generation/{generation.pk}/delete/"

    page = admin_client.get(url).content.decode()
    admin_client.post(url, {"post": "yes"})

    assert "cannot be deleted now" in page
    assert Generation.objects.filter(pk=generation.pk).exists()


def test_the_admin_bulk_delete_refuses_while_one_is_in_flight(admin_client, paid_task, finished):
    in_flight = paid_task(status=Status.SUBMITTED)
    selection = {"action": "delete_selected", "_selected_action": [in_flight.pk, finished.pk]}

    page = admin_client.post("/admin/generations/generation/", selection).content.decode()
    admin_client.post("/admin/generations/generation/", {**selection, "post": "yes"})

    assert "cannot be deleted now" in page
    assert Generation.objects.count() == 2


def test_the_admin_deletes_finished_work_and_keeps_its_charge(admin_client, paid_task):
    generation = paid_task(status=Status.SUCCEEDED, accepted=True, api_task_id="task-paid")

    admin_client.post(
        "/admin/generations/generation/",
        {"action": "delete_selected", "_selected_action": [generation.pk], "post": "yes"},
    )

    assert not Generation.objects.exists()
    assert LedgerEntry.objects.get().generation_id == generation.pk


@pytest.mark.parametrize("status", IN_FLIGHT)
def test_no_code_path_deletes_a_row_in_flight(paid_task, status):
    generation = paid_task(status=status)

    with pytest.raises(ProtectedError), transaction.atomic():
        generation.delete()
    with pytest.raises(ProtectedError), transaction.atomic():
        Generation.objects.filter(pk=generation.pk).delete()
    assert Generation.objects.filter(pk=generation.pk).exists()


def test_an_account_with_work_in_flight_cannot_be_deleted(admin_client, paid_task, user):
    paid_task(status=Status.PROCESSING)

    page = admin_client.get(f"/admin/auth/user/{user.pk}/delete/").content.decode()
    with pytest.raises(ProtectedError), transaction.atomic():
        user.delete()

    assert "Cannot delete user" in page and "a paid task" in page
    assert get_user_model().objects.filter(pk=user.pk).exists()


def test_queued_and_finished_work_can_still_be_deleted(make_generation, finished):
    queued = make_generation()
    queued.delete_with_files()
    finished.delete_with_files()
    assert not Generation.objects.exists()
