"""The minimal studio pages: login required, form errors beside their fields, live partials."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse, set_script_prefix
from django.utils import timezone

from generations.models import Generation, LoraPreset, PromptPreset, SourceImage, Status
from studio.views import studio

from .support.pictures import jpeg_upload
from .support.plans import sqlite_plan


def test_pages_need_a_login(client, db):
    response = client.get("/")
    assert response.status_code == 302
    assert response["Location"].startswith("/login/")


def test_dashboard_shows_the_form(member_client):
    response = member_client.get("/")
    assert response.status_code == 200
    assert b'name="prompt"' in response.content


def test_submitting_the_form_queues_and_opens_the_detail(member_client, media_root):
    picture = jpeg_upload("p.jpg")

    response = member_client.post("/", {"prompt": "a boat", "image": picture, "clarity": "480p"})

    generation = Generation.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/generations/{generation.pk}/"
    assert generation.status == Status.QUEUED


def test_form_error_appears_next_to_its_field_and_keeps_the_picture(member_client, media_root):
    picture = jpeg_upload("p.jpg")

    response = member_client.post("/", {"prompt": "", "image": picture, "steps": "99"})

    assert response.status_code == 400
    html = response.content.decode()
    assert 'id="id_prompt-error"' in html
    assert 'id="id_steps-error"' in html
    kept = SourceImage.objects.get()
    assert f'<input type="hidden" name="source_image" value="{kept.pk}">' in html
    assert not Generation.objects.exists()


def test_detail_partial_stops_polling_once_terminal(member_client, make_generation):
    generation = make_generation()
    generation.mark_failed("nope")

    response = member_client.get(f"/generations/{generation.pk}/", HTTP_HX_REQUEST="true")

    assert response.status_code == 286


def test_queue_is_read_again_whenever_the_pulse_says_work_moved(member_client, make_generation):
    generation = make_generation()
    generation.cancel()  # nothing in flight: the panel still listens, for work started elsewhere

    response = member_client.get("/generations/rows/", HTTP_HX_REQUEST="true")

    assert 'hx-trigger="pulse from:body' in response.content.decode()


def test_cancel_before_submit(member_client, make_generation):
    generation = make_generation()

    member_client.post(f"/generations/{generation.pk}/cancel/")

    generation.refresh_from_db()
    assert generation.status == Status.CANCELED


def test_someone_else_cannot_cancel(client_for, make_generation, other_user):
    generation = make_generation()

    response = client_for(other_user).post(f"/generations/{generation.pk}/cancel/")

    assert response.status_code == 403
    generation.refresh_from_db()
    assert generation.status == Status.QUEUED


def test_needs_attention_offers_submit_again_with_the_warning(member_client, make_generation):
    generation = make_generation()
    generation.claim_for_submit()
    generation.mark_needs_attention("unknown")

    response = member_client.get(f"/generations/{generation.pk}/")

    assert b"Submit again (may be billed twice)" in response.content


def queue_html(browser):
    return browser.get("/generations/rows/?scope=team", HTTP_HX_REQUEST="true").content.decode()


def test_queue_buttons_post_the_one_form_of_the_queue_to_their_own_address(
    member_client, make_generation
):
    queued = make_generation()
    failed = make_generation(prompt="q")
    failed.mark_failed("nope")

    html = queue_html(member_client)

    assert html.count('name="csrfmiddlewaretoken"') == 1
    assert '<form id="queue-actions" method="post" hidden>' in html
    assert f'form="queue-actions" formaction="/generations/{queued.pk}/cancel/"' in html
    assert f'form="queue-actions" formaction="/generations/{failed.pk}/retry/"' in html
    response = member_client.post(f"/generations/{queued.pk}/cancel/", {"from": "queue"})
    assert response["Location"] == "/"
    queued.refresh_from_db()
    assert queued.status == Status.CANCELED


def test_queue_rows_follow_progress_and_show_actions_only_to_who_may_act(
    member_client, client_for, admin_client, make_generation, other_user
):
    generation = make_generation()
    assert "Cancel</button>" in queue_html(member_client)
    assert "Cancel</button>" not in queue_html(client_for(other_user))  # a teammate's row
    assert "Cancel</button>" in queue_html(admin_client)

    generation.claim_for_submit()
    generation.mark_submitted("task-1", first_poll_at=timezone.now())
    Generation.objects.filter(pk=generation.pk).update(progress_percent=40)
    for browser in (member_client, admin_client):
        assert 'value="40"' in queue_html(browser)
    Generation.objects.filter(pk=generation.pk).update(progress_percent=75)
    for browser in (member_client, admin_client):
        html = queue_html(browser)
        assert 'value="75"' in html and "Cancel</button>" not in html


def test_a_flag_hides_a_row_from_the_team_at_their_very_next_poll(
    member_client, client_for, make_generation, other_user, reviewer
):
    from generations.models import ReviewState

    # landed a moment ago: still in the queue
    mine = make_generation(status=Status.SUCCEEDED, finished_at=timezone.now())
    teammate = client_for(other_user)
    assert f'data-id="{mine.pk}"' in queue_html(teammate)

    mine.review(reviewer, ReviewState.FLAGGED)

    assert f'data-id="{mine.pk}"' not in queue_html(teammate)  # the team no longer sees it
    assert f'data-id="{mine.pk}"' in queue_html(member_client)  # its owner still does


def test_work_started_anywhere_shows_at_the_next_poll(
    member_client, client_for, make_generation, other_user
):
    queued = make_generation()
    teammate = client_for(other_user)
    assert f'data-id="{queued.pk}"' in queue_html(teammate)

    member_client.post(f"/generations/{queued.pk}/cancel/", {"from": "queue"})

    assert "Cancel</button>" not in queue_html(member_client)
    assert "Canceled" in queue_html(teammate)


# --- the same few queries for any number of rows -------------------------------------------


@pytest.fixture
def fill_the_studio(make_generation, user, other_user):
    """fill_the_studio(count): count rows of each kind the dashboard lists: queue rows in each
    state a person sees there (theirs and a teammate's), pictures, prompt presets and LoRA
    presets."""

    def fill(count):
        start = Generation.objects.count()
        for index in range(start, start + count):
            row = make_generation(user if index % 2 else other_user)
            if index % 3 == 1:
                row.mark_failed("HTTP 500 from the API")
            elif index % 3 == 2:
                row.claim_for_submit()
                row.mark_needs_attention("unknown")
            SourceImage.objects.create(
                image=f"sources/{index}.jpg", sha256=f"{index:064x}", width=832, height=480
            )
            PromptPreset.objects.create(name=f"preset {index}", prompt="waves", created_by=user)
            LoraPreset.objects.create(name=f"lora {index}", path=f"studio/lora-{index}")

    return fill


# The studio page's queue shows the person's own work; the panel's "Team" shows everyone's.
@pytest.mark.parametrize("path, rows", [("/", 25), ("/generations/rows/?scope=team", 50)])
def test_the_dashboard_and_its_queue_read_as_many_queries_for_fifty_rows_as_for_one(
    member_client, fill_the_studio, django_assert_num_queries, path, rows
):
    fill_the_studio(1)
    with CaptureQueriesContext(connection) as one_row:
        member_client.get(path)

    fill_the_studio(49)
    with django_assert_num_queries(len(one_row)):
        response = member_client.get(path)
    assert response.content.decode().count('class="row"') == rows


@pytest.mark.skipif(connection.vendor != "sqlite", reason="SQLite's query plan")
def test_your_recent_takes_are_read_from_your_own_index_not_by_sorting_your_history(user):
    """Without (owner, created_at, id) the strip sorted all of a person's work and looked up
    the take before each one of them: 49 ms for a person with 3,000 takes."""
    plan = sqlite_plan(studio.takes_of(user)[: studio.RECENT_TAKES])
    assert "takes_by_owner" in plan and "TEMP B-TREE" not in plan


def test_the_live_queue_holds_what_is_in_flight_or_waiting_and_what_landed_lately(
    member_client, make_generation
):
    waiting = make_generation(status=Status.NEEDS_ATTENTION).pk
    running = make_generation(status=Status.PROCESSING).pk
    landed = make_generation(status=Status.SUCCEEDED, finished_at=timezone.now()).pk
    an_hour_ago = timezone.now() - timedelta(hours=1)
    make_generation(status=Status.SUCCEEDED, finished_at=an_hour_ago)
    make_generation(status=Status.FAILED, finished_at=an_hour_ago)

    html = queue_html(member_client)

    shown = {
        pk for pk in Generation.objects.values_list("pk", flat=True) if f'data-id="{pk}"' in html
    }
    assert shown == {waiting, running, landed}


def test_links_written_out_by_a_generation_match_the_studio_routes(make_generation):
    generation = make_generation()

    assert generation.get_absolute_url() == reverse("studio:detail", args=[generation.pk])
    assert generation.get_video_url() == reverse("studio:video", args=[generation.pk])


def test_links_written_out_by_a_generation_keep_the_script_prefix(make_generation):
    generation = make_generation()
    set_script_prefix("/studio/")
    try:
        assert generation.get_absolute_url() == reverse("studio:detail", args=[generation.pk])
        assert generation.get_video_url() == reverse("studio:video", args=[generation.pk])
    finally:
        set_script_prefix("/")
