"""The minimal studio pages: login required, form errors beside their fields, live partials."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.utils import timezone

from generations.models import Generation, SourceImage, Status

from .conftest import picture_bytes


@pytest.fixture
def logged_in(client, user):
    client.force_login(user)
    return client


def test_pages_need_a_login(client, db):
    response = client.get("/")
    assert response.status_code == 302
    assert response["Location"].startswith("/login/")


def test_dashboard_shows_the_form(logged_in):
    response = logged_in.get("/")
    assert response.status_code == 200
    assert b'name="prompt"' in response.content


def test_submitting_the_form_queues_and_opens_the_detail(logged_in, media_root):
    picture = SimpleUploadedFile("p.jpg", picture_bytes(), content_type="image/jpeg")

    response = logged_in.post("/", {"prompt": "a boat", "image": picture, "clarity": "480p"})

    generation = Generation.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/generations/{generation.pk}/"
    assert generation.status == Status.QUEUED


def test_form_error_appears_next_to_its_field_and_keeps_the_picture(logged_in, media_root):
    picture = SimpleUploadedFile("p.jpg", picture_bytes(), content_type="image/jpeg")

    response = logged_in.post("/", {"prompt": "", "image": picture, "steps": "99"})

    assert response.status_code == 400
    html = response.content.decode()
    assert 'id="id_prompt-error"' in html
    assert 'id="id_steps-error"' in html
    kept = SourceImage.objects.get()
    assert f'<input type="hidden" name="source_image" value="{kept.pk}">' in html
    assert not Generation.objects.exists()


def test_detail_partial_stops_polling_once_terminal(logged_in, source_image, user):
    generation = Generation.objects.create_queued(owner=user, source_image=source_image, prompt="p")
    generation.mark_failed("nope")

    response = logged_in.get(f"/generations/{generation.pk}/", HTTP_HX_REQUEST="true")

    assert response.status_code == 286


def test_queue_keeps_polling_while_work_is_in_flight(logged_in, source_image, user):
    Generation.objects.create_queued(owner=user, source_image=source_image, prompt="p")

    response = logged_in.get("/generations/rows/", HTTP_HX_REQUEST="true")

    assert 'hx-trigger="every 2s, visibilitychange from:document"' in response.content.decode()


def test_queue_stops_asking_once_nothing_is_in_flight(logged_in, source_image, user):
    generation = Generation.objects.create_queued(owner=user, source_image=source_image, prompt="p")
    generation.cancel()

    response = logged_in.get("/generations/rows/", HTTP_HX_REQUEST="true")

    assert 'hx-trigger="visibilitychange from:document"' in response.content.decode()


def test_cancel_before_submit(logged_in, source_image, user):
    generation = Generation.objects.create_queued(owner=user, source_image=source_image, prompt="p")

    logged_in.post(f"/generations/{generation.pk}/cancel/")

    generation.refresh_from_db()
    assert generation.status == Status.CANCELED


def test_someone_else_cannot_cancel(client, other_user, source_image, user):
    generation = Generation.objects.create_queued(owner=user, source_image=source_image, prompt="p")
    client.force_login(other_user)

    response = client.post(f"/generations/{generation.pk}/cancel/")

    assert response.status_code == 403
    generation.refresh_from_db()
    assert generation.status == Status.QUEUED


def test_needs_attention_offers_submit_again_with_the_warning(logged_in, source_image, user):
    generation = Generation.objects.create_queued(owner=user, source_image=source_image, prompt="p")
    generation.claim_for_submit()
    generation.mark_needs_attention("unknown")

    response = logged_in.get(f"/generations/{generation.pk}/")

    assert b"Submit again (may be billed twice)" in response.content


def queue_html(browser):
    return browser.get("/generations/rows/", HTTP_HX_REQUEST="true").content.decode()


def test_queue_buttons_post_the_one_form_of_the_queue_to_their_own_address(
    logged_in, source_image, user
):
    queued = Generation.objects.create_queued(owner=user, source_image=source_image, prompt="p")
    failed = Generation.objects.create_queued(owner=user, source_image=source_image, prompt="q")
    failed.mark_failed("nope")

    html = queue_html(logged_in)

    assert html.count('name="csrfmiddlewaretoken"') == 1
    assert '<form id="queue-actions" method="post" hidden>' in html
    assert f'form="queue-actions" formaction="/generations/{queued.pk}/cancel/"' in html
    assert f'form="queue-actions" formaction="/generations/{failed.pk}/retry/"' in html
    response = logged_in.post(f"/generations/{queued.pk}/cancel/", {"from": "queue"})
    assert response["Location"] == "/"
    queued.refresh_from_db()
    assert queued.status == Status.CANCELED


def test_queue_rows_follow_progress_and_show_actions_only_to_who_may_act(
    logged_in, client, source_image, user, other_user, admin_user
):
    generation = Generation.objects.create_queued(owner=user, source_image=source_image, prompt="p")
    assert "Cancel</button>" in queue_html(logged_in)
    client.force_login(other_user)
    assert "Cancel</button>" not in queue_html(client)  # a teammate's row: no actions
    client.force_login(admin_user)
    assert "Cancel</button>" in queue_html(client)

    generation.claim_for_submit()
    generation.mark_submitted("task-1", first_poll_at=timezone.now())
    Generation.objects.filter(pk=generation.pk).update(progress_percent=40)
    assert 'value="40"' in queue_html(logged_in)
    Generation.objects.filter(pk=generation.pk).update(progress_percent=75)
    html = queue_html(logged_in)
    assert 'value="75"' in html and "Cancel</button>" not in html


def test_a_flag_hides_a_row_from_the_team_at_their_very_next_poll(
    logged_in, source_image, user, other_user, reviewer
):
    from generations.models import ReviewState

    mine = Generation.objects.create_queued(owner=user, source_image=source_image, prompt="p")
    Generation.objects.filter(pk=mine.pk).update(
        status=Status.SUCCEEDED, finished_at=timezone.now()
    )  # landed a moment ago: still in the queue
    mine.refresh_from_db()
    client = Client()
    client.force_login(other_user)
    assert f'data-id="{mine.pk}"' in queue_html(client)

    mine.review(reviewer, ReviewState.FLAGGED)

    assert f'data-id="{mine.pk}"' not in queue_html(client)  # the team no longer sees it
    assert f'data-id="{mine.pk}"' in queue_html(logged_in)  # its owner still does


def test_work_started_anywhere_shows_at_the_next_poll(logged_in, source_image, user, other_user):
    queued = Generation.objects.create_queued(owner=user, source_image=source_image, prompt="p")
    client = Client()
    client.force_login(other_user)
    assert f'data-id="{queued.pk}"' in queue_html(client)

    logged_in.post(f"/generations/{queued.pk}/cancel/", {"from": "queue"})

    assert "Cancel</button>" not in queue_html(logged_in)
    assert "Canceled" in queue_html(client)
