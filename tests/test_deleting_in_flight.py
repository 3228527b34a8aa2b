"""Nothing paid is deleted in flight: a generation whose task the API holds stays, whatever
path asks to delete it (the studio page, the admin, its bulk action, its owner's account)."""

import pytest
from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import ProtectedError
from django.test import Client

from generations.models import Generation, LedgerEntry, Status

IN_FLIGHT = [Status.SUBMITTING, Status.SUBMITTED, Status.PROCESSING, Status.DOWNLOADING]


@pytest.fixture
def admin_browser(admin_user):
    browser = Client()
    browser.force_login(admin_user)
    return browser


def generation_in(status, owner, source_image):
    generation = Generation.objects.create_queued(
        owner=owner, source_image=source_image, prompt="a paid task", estimated_cost="0.20"
    )
    Generation.objects.filter(pk=generation.pk).update(
        status=status, api_task_id=f"task-{generation.pk}"
    )
    generation.refresh_from_db()
    return generation


@pytest.mark.parametrize("status", IN_FLIGHT)
def test_the_admin_delete_page_refuses_and_says_why(admin_browser, user, source_image, status):
    generation = generation_in(status, user, source_image)
    url = f"/admin/generations/generation/{generation.pk}/delete/"

    page = admin_browser.get(url).content.decode()
    admin_browser.post(url, {"post": "yes"})

    assert "cannot be deleted now" in page
    assert Generation.objects.filter(pk=generation.pk).exists()


def test_the_admin_bulk_delete_refuses_while_one_is_in_flight(
    admin_browser, user, source_image, finished
):
    in_flight = generation_in(Status.SUBMITTED, user, source_image)
    selection = {"action": "delete_selected", "_selected_action": [in_flight.pk, finished.pk]}

    page = admin_browser.post("/admin/generations/generation/", selection).content.decode()
    admin_browser.post("/admin/generations/generation/", {**selection, "post": "yes"})

    assert "cannot be deleted now" in page
    assert Generation.objects.count() == 2


def test_the_admin_deletes_finished_work_and_keeps_its_charge(
    admin_browser, user, source_image, monkeypatch
):
    generation = generation_in(Status.SUBMITTING, user, source_image)
    Generation.objects.filter(pk=generation.pk).update(api_task_id=None)
    generation.refresh_from_db()
    generation.mark_submitted("task-paid", generation.due_at)
    Generation.objects.filter(pk=generation.pk).update(status=Status.SUCCEEDED)

    admin_browser.post(
        "/admin/generations/generation/",
        {"action": "delete_selected", "_selected_action": [generation.pk], "post": "yes"},
    )

    assert not Generation.objects.exists()
    assert LedgerEntry.objects.get().generation_id == generation.pk


@pytest.mark.parametrize("status", IN_FLIGHT)
def test_no_code_path_deletes_a_row_in_flight(user, source_image, status):
    generation = generation_in(status, user, source_image)

    with pytest.raises(ProtectedError), transaction.atomic():
        generation.delete()
    with pytest.raises(ProtectedError), transaction.atomic():
        Generation.objects.filter(pk=generation.pk).delete()
    assert Generation.objects.filter(pk=generation.pk).exists()


def test_an_account_with_work_in_flight_cannot_be_deleted(admin_browser, user, source_image):
    generation_in(Status.PROCESSING, user, source_image)

    page = admin_browser.get(f"/admin/auth/user/{user.pk}/delete/").content.decode()
    with pytest.raises(ProtectedError), transaction.atomic():
        user.delete()

    assert "Cannot delete user" in page and "a paid task" in page
    assert get_user_model().objects.filter(pk=user.pk).exists()


def test_queued_and_finished_work_can_still_be_deleted(user, source_image, finished):
    queued = Generation.objects.create_queued(owner=user, source_image=source_image, prompt="q")
    queued.delete_with_files()
    finished.delete_with_files()
    assert not Generation.objects.exists()
