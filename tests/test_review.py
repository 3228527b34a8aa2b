"""Review workflow: decisions, re-review, the audit trail, and flagged outputs hidden."""

from generations.models import ReviewEvent, ReviewState, Status


def test_each_decision_is_recorded_in_the_audit_trail(reviewer_client, finished):
    reviewer_client.post(f"/review/{finished.pk}/decide/", {"state": "approved", "note": "lovely"})
    reviewer_client.post(
        f"/review/{finished.pk}/decide/", {"state": "flagged", "note": "on second look"}
    )

    trail = list(
        ReviewEvent.objects.filter(generation=finished).values_list(
            "actor__username", "from_state", "to_state", "note"
        )
    )
    assert trail == [
        ("rui", "pending", "approved", "lovely"),
        ("rui", "approved", "flagged", "on second look"),
    ]
    finished.refresh_from_db()
    assert (finished.review_state, finished.review_note) == ("flagged", "on second look")


def test_review_moves_on_to_the_next_pending(reviewer_client, finished, make_generation):
    second = make_generation(status=Status.SUCCEEDED, prompt="2")

    response = reviewer_client.post(f"/review/{finished.pk}/decide/", {"state": "rejected"})

    assert response["Location"] == f"/review/?after={finished.pk}"
    assert reviewer_client.get("/review/")["Location"] == f"/review/{second.pk}/"


def test_an_after_that_names_no_generation_starts_the_queue_from_the_beginning(
    reviewer_client, finished
):
    for after in ["abc", "1e309", "²", "9" * 30, ""]:
        response = reviewer_client.get("/review/", {"after": after})
        assert response["Location"] == f"/review/{finished.pk}/"


def test_queue_shows_progress_and_shortcuts(reviewer_client, finished):
    page = reviewer_client.get(f"/review/{finished.pk}/").content.decode()
    assert "1 of 1 pending" in page
    assert 'id="approve"' in page and "<kbd>A</kbd>" in page
    assert "js/review.js" in page


def test_a_reviewer_requests_changes_and_the_owner_sees_what_to_change(
    reviewer_client, member_client, finished
):
    page = reviewer_client.get(f"/review/{finished.pk}/").content.decode()
    assert 'id="request-changes"' in page and "<kbd>X</kbd>" in page

    reviewer_client.post(
        f"/review/{finished.pk}/decide/", {"state": "changes", "note": "slower pan, warmer light"}
    )

    finished.refresh_from_db()
    assert finished.review_state == ReviewState.CHANGES
    trail = ReviewEvent.objects.filter(generation=finished).values_list("from_state", "to_state")
    assert list(trail) == [("pending", "changes")]
    owner_page = member_client.get(f"/generations/{finished.pk}/").content.decode()
    assert "Changes requested" in owner_page and "slower pan, warmer light" in owner_page
    assert member_client.get("/gallery/", {"review": "changes"}).status_code == 200


def test_unfinished_generation_cannot_be_reviewed(reviewer_client, make_generation):
    generation = make_generation()
    reviewer_client.post(f"/review/{generation.pk}/decide/", {"state": "approved"})
    generation.refresh_from_db()
    assert generation.review_state == ReviewState.PENDING
    assert not ReviewEvent.objects.exists()


def test_owner_sees_the_outcome_and_note(member_client, finished, reviewer):
    finished.review(reviewer, ReviewState.REJECTED, "the horizon tilts")
    page = member_client.get(f"/generations/{finished.pk}/").content.decode()
    assert "Rejected" in page and "the horizon tilts" in page


def test_flagged_output_is_hidden_from_the_team(client_for, finished, reviewer, other_user):
    finished.review(reviewer, ReviewState.FLAGGED, "not for use")
    teammate = client_for(other_user)
    assert teammate.get(f"/generations/{finished.pk}/").status_code == 404
    assert teammate.get(f"/generations/{finished.pk}/video.mp4").status_code == 404
    assert f"/generations/{finished.pk}/" not in teammate.get("/").content.decode()


def test_flagged_output_stays_visible_to_owner_and_admins(
    member_client, admin_client, finished, reviewer
):
    finished.review(reviewer, ReviewState.FLAGGED, "not for use")
    assert member_client.get(f"/generations/{finished.pk}/").status_code == 200
    assert admin_client.get(f"/generations/{finished.pk}/").status_code == 200


def test_safety_refusal_shows_the_api_reason(member_client, make_generation):
    generation = make_generation()
    generation.mark_failed("The content was refused by the safety checker")
    page = member_client.get(f"/generations/{generation.pk}/").content.decode()
    assert "refused by the safety checker" in page


def test_admin_bulk_approve_records_audit_entries(admin_client, finished, admin_user):
    admin_client.post(
        "/admin/generations/generation/",
        {"action": "approve", "_selected_action": [finished.pk]},
    )
    finished.refresh_from_db()
    assert finished.review_state == ReviewState.APPROVED
    assert ReviewEvent.objects.get().actor == admin_user


def test_admin_change_page_shows_a_preview_and_the_trail(admin_client, finished, reviewer):
    finished.review(reviewer, ReviewState.APPROVED, "ok")
    page = admin_client.get(f"/admin/generations/generation/{finished.pk}/change/")
    html = page.content.decode()
    assert "<video" in html
    assert "Review audit trail" in html
