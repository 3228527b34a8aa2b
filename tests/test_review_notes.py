"""Review notes on the timeline: a note at a frame or a range, replies, resolved; the markers
on the player's bar; the review's audit trail with the notes beside it; versions of a take;
the JSON API. Notes are as hidden as their video."""

import re

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import connection
from django.test.utils import CaptureQueriesContext

from generations import notes
from generations.models import Generation, ReviewNote, ReviewState, Status, WebhookDelivery

from .support import stored

# Wan's clips: 81 frames at 16 fps, 0 to 80.
CLIP_SECONDS = 5.0625


@pytest.fixture
def make_clip(make_generation, media_root):
    """make_clip(owner=maya, **fields): a finished 5.0625 s video with its files stored."""

    def make(owner=None, **fields):
        video = default_storage.save("videos/clip.mp4", ContentFile(stored.VIDEO))
        poster = default_storage.save("posters/clip.jpg", ContentFile(stored.POSTER))
        return make_generation(
            owner,
            status=Status.SUCCEEDED,
            video=video,
            poster=poster,
            video_duration=CLIP_SECONDS,
            **fields,
        )

    return make


@pytest.fixture
def clip(make_clip):
    return make_clip()


HTMX = {"HTTP_HX_REQUEST": "true"}


def post_note(browser, clip, headers=None, **fields):
    data = {"body": "tilted horizon", **fields}
    return browser.post(f"/generations/{clip.pk}/notes/", data, **(headers or {}))


def note_on(clip, user, frame=40, end_frame=None, body="tilted horizon"):
    return notes.add_note(clip, user, body, frame, end_frame)


def error_of(html, field_id):
    """The error shown beside a field, by the id its aria-describedby names."""
    found = re.search(rf'id="{field_id}-error">([^<]*)<', html)
    return found[1] if found else None


# --- writing a note -------------------------------------------------------------------------


def test_frames_are_counted_at_sixteen_a_second(clip):
    assert notes.frame_count(clip) == 81
    assert notes.frame_at(2.5) == 40
    assert notes.frame_at(2.5 - 1e-9) == 40  # float noise names the same frame


def test_a_note_at_two_and_a_half_seconds_lands_at_frame_forty(clip, user):
    form = notes.NoteForm({"seconds": "2.5", "body": "the boat jumps"}, generation=clip)

    assert form.is_valid(), form.errors
    note = form.save(user)

    assert (note.frame, note.end_frame, note.seconds) == (40, None, 2.5)
    assert (note.author, note.author_name) == (user, "maya")


def test_the_page_posts_a_note_and_goes_back_to_it(member_client, clip):
    response = post_note(member_client, clip, frame="40")

    note = ReviewNote.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/generations/{clip.pk}/#note-{note.pk}"
    assert (note.generation, note.frame, note.body) == (clip, 40, "tilted horizon")


def test_a_note_on_a_range(member_client, clip):
    post_note(member_client, clip, frame="40", end_frame="56")

    note = ReviewNote.objects.get()
    assert (note.frame, note.end_frame, note.end_seconds) == (40, 56, 3.5)
    assert note.is_range


def test_a_range_that_ends_before_it_starts_is_refused_beside_its_field(member_client, clip):
    response = post_note(member_client, clip, frame="40", end_frame="20")

    assert response.status_code == 400
    error = error_of(response.content.decode(), "note-end")
    assert error == "The range must end at or after its start (2.50 s)."
    assert not ReviewNote.objects.exists()


def test_a_frame_past_the_end_is_refused_beside_its_field(member_client, clip):
    response = post_note(member_client, clip, frame="81")

    html = response.content.decode()
    assert response.status_code == 400
    assert error_of(html, "note-frame") == "The video has 81 frames (0 to 80, 5.06 s): no frame 81."
    assert 'aria-describedby="note-frame-error"' in html
    assert "tilted horizon</textarea>" in html  # what was typed stays
    assert not ReviewNote.objects.exists()


def test_an_empty_note_is_refused_beside_its_field(member_client, clip):
    response = post_note(member_client, clip, frame="3", body="   ")

    assert response.status_code == 400
    assert error_of(response.content.decode(), "note-body") == "Write the note."
    assert not ReviewNote.objects.exists()


def test_with_htmx_only_the_notes_come_back(member_client, clip):
    made = post_note(member_client, clip, HTMX, frame="40")
    refused = post_note(member_client, clip, HTMX, frame="999")

    html = made.content.decode()
    assert made.status_code == 200
    assert 'id="review-notes"' in html and "<html" not in html
    assert f'data-highlighted="{ReviewNote.objects.get().pk}"' in html
    assert refused.status_code == 400
    assert error_of(refused.content.decode(), "note-frame").startswith("The video has 81 frames")


@pytest.mark.parametrize(
    "fields",
    [
        {"frame": "abc"},
        {"frame": "-1"},
        {"frame": "9" * 30},
        {"frame": "1e309"},
        {"frame": "40", "end_frame": "²"},
        {"frame": ""},
        {"frame": "4", "parent": "x"},
    ],
)
def test_hostile_frames_are_refused_not_a_server_error(member_client, clip, fields):
    assert post_note(member_client, clip, **fields).status_code == 400
    assert not ReviewNote.objects.exists()


def test_notes_go_on_a_finished_video_only(member_client, make_generation):
    queued = make_generation()

    response = post_note(member_client, queued, frame="0")

    assert response.status_code == 400
    assert "Notes go on a finished video." in response.content.decode()


# --- replies and resolved -------------------------------------------------------------------


def test_reply_then_resolve_then_reopen(client_for, clip, user, other_user):
    thread = note_on(clip, user)
    teammate = client_for(other_user)

    replied = teammate.post(f"/notes/{thread.pk}/reply/", {"body": "fixed in the next take"})
    resolved = teammate.post(f"/notes/{thread.pk}/resolve/", {"action": "resolve"})

    answer = thread.replies.get()
    assert replied["Location"] == f"/generations/{clip.pk}/#note-{thread.pk}"
    assert (answer.frame, answer.author_name) == (None, "noor")
    assert answer.body == "fixed in the next take"
    thread.refresh_from_db()
    assert thread.is_resolved and thread.resolved_by == other_user
    assert resolved.status_code == 302

    teammate.post(f"/notes/{thread.pk}/resolve/", {"action": "reopen"})
    thread.refresh_from_db()
    assert not thread.is_resolved and thread.resolved_by is None


def test_an_empty_reply_is_refused_beside_its_own_form(member_client, clip, user):
    thread = note_on(clip, user)

    response = member_client.post(f"/notes/{thread.pk}/reply/", {"body": ""})

    assert response.status_code == 400
    assert error_of(response.content.decode(), f"reply-{thread.pk}") == "Write the note."
    assert not thread.replies.exists()


def test_resolved_threads_are_folded_below_the_open_ones(member_client, clip, user):
    open_one = note_on(clip, user, frame=10, body="still open")
    done = note_on(clip, user, frame=20, body="all done")
    notes.resolve(done, user)

    html = member_client.get(f"/generations/{clip.pk}/").content.decode()

    folded = html[html.index('class="resolved-threads"') :]
    assert f'id="note-{done.pk}"' in folded and f'id="note-{open_one.pk}"' not in folded
    assert "1 open · 1 resolved" in html


def test_a_viewers_threads_are_read_in_two_queries(clip, user, other_user):
    for frame in (5, 10, 15):
        notes.reply(note_on(clip, user, frame=frame), other_user, "ok")
    user.has_perm("generations.view_flagged_generation")  # read once per request, as pages do

    with CaptureQueriesContext(connection) as queries:
        threads = notes.threads_for(clip, user)
        replies = [len(thread.reply_list) for thread in threads]

    assert [thread.frame for thread in threads] == [5, 10, 15] and replies == [1, 1, 1]
    assert len(queries) == 2


# --- who may see them ----------------------------------------------------------------------


def test_notes_of_a_flagged_video_of_someone_else_are_hidden_from_a_member(
    client_for, api_client_for, make_clip, user, other_user, reviewer
):
    theirs = make_clip(owner=other_user)
    thread = note_on(theirs, other_user)
    theirs.review(reviewer, ReviewState.FLAGGED, "not for use")
    member = client_for(user)

    assert post_note(member, theirs, frame="1").status_code == 404
    assert member.post(f"/notes/{thread.pk}/reply/", {"body": "x"}).status_code == 404
    assert member.post(f"/notes/{thread.pk}/resolve/").status_code == 404
    assert api_client_for(user).get(f"/api/generations/{theirs.pk}/notes/").status_code == 404
    assert notes.threads_for(theirs, user) == []
    assert ReviewNote.objects.count() == 1


def test_the_owner_and_reviewers_still_see_notes_of_a_flagged_video(
    client_for, make_clip, other_user, reviewer
):
    theirs = make_clip(owner=other_user)
    note_on(theirs, other_user, body="keep the lighthouse")
    theirs.review(reviewer, ReviewState.FLAGGED, "not for use")

    for person in (other_user, reviewer):
        page = client_for(person).get(f"/generations/{theirs.pk}/").content.decode()
        assert "keep the lighthouse" in page


# --- the player's bar ----------------------------------------------------------------------


def test_the_detail_page_places_each_marker_at_its_frame(member_client, clip, user):
    point = note_on(clip, user, frame=40)
    band = note_on(clip, user, frame=20, end_frame=60)
    first = note_on(clip, user, frame=0)

    html = member_client.get(f"/generations/{clip.pk}/").content.decode()

    def pin_x(note):
        mark = re.search(rf'data-note="{note.pk}".*?class="note-pin" x="([^"]+)"', html, re.S)
        return mark[1]

    assert pin_x(point) == "49.38%"  # 40 / 81
    assert pin_x(first) == "0.00%"
    assert pin_x(band) == "24.69%"  # 20 / 81
    assert re.search(r'class="note-band" x="24.69%" y="\d+" width="49.38%"', html)  # 40 frames
    assert 'data-fps="16" data-frames="81"' in html
    assert " style=" not in html  # the content security policy allows no inline style


def test_the_comment_box_says_where_it_is_pinned(member_client, clip):
    html = member_client.get(f"/generations/{clip.pk}/").content.decode()

    assert "Comment at 0.00 s (frame 0)" in html
    assert 'name="frame"' in html and 'max="80"' in html
    assert "js/notes.js" in html


def test_the_review_page_has_the_notes_and_counts_the_open_ones(reviewer_client, clip, user):
    note_on(clip, user, frame=40)
    note_on(clip, user, frame=50)

    html = reviewer_client.get(f"/review/{clip.pk}/").content.decode()

    assert 'id="note-bar"' in html and 'name="place" value="review"' in html
    assert "2 open notes</a> on the timeline" in html


def test_a_note_posted_from_the_review_page_goes_back_there(reviewer_client, clip):
    response = post_note(reviewer_client, clip, frame="8", place="review")

    note = ReviewNote.objects.get()
    assert response["Location"] == f"/review/{clip.pk}/#note-{note.pk}"


def test_a_refused_note_from_the_review_page_shows_the_review_page_again(reviewer_client, clip):
    response = post_note(reviewer_client, clip, frame="8", body="", place="review")

    assert response.status_code == 400
    html = response.content.decode()
    assert 'id="review-form"' in html and error_of(html, "note-body") == "Write the note."


# --- the review's audit trail --------------------------------------------------------------


def test_the_audit_trail_shows_decisions_and_notes_in_time_order(
    member_client, clip, user, reviewer
):
    clip.review(reviewer, ReviewState.REJECTED, "the horizon tilts")
    thread = note_on(clip, reviewer, frame=40, body="level it here")
    notes.reply(thread, user, "re-rolled")
    notes.resolve(thread, user)
    clip.review(reviewer, ReviewState.APPROVED, "better")

    trail = [entry.kind for entry in notes.review_trail(clip, notes.threads_for(clip, user))]
    html = member_client.get(f"/generations/{clip.pk}/").content.decode()

    assert trail == ["decision", "note", "reply", "resolved", "decision"]
    shown = html[html.index("Audit trail (5)") :]
    lines = ("Rejected", "level it here", "re-rolled", "resolved the note", "Approved")
    order = [shown.index(text) for text in lines]
    assert order == sorted(order)


# --- versions ---------------------------------------------------------------------------------


def test_versions_list_the_takes_and_compare_with_the_previous_one(
    member_client, make_clip, make_generation, source_image
):
    first = make_clip(prompt="waves", seed=1)
    second = make_clip(prompt="waves", seed=2)
    failed = make_generation(prompt="waves", status=Status.FAILED)
    other_prompt = make_clip(prompt="boats")
    extension = make_clip(prompt="further", parent=second)
    latest = make_clip(prompt="waves", seed=3)

    html = member_client.get(f"/generations/{latest.pk}/").content.decode()

    versions = html[html.index('<h2 id="versions-heading">') :]
    listed = re.findall(r'<a href="/generations/(\d+)/"', versions[: versions.index("</ol>")])
    assert listed == [str(row.pk) for row in (latest, failed, second, first)]  # newest first
    assert str(other_prompt.pk) not in listed and str(extension.pk) not in listed
    assert f'href="/compare/?ids={second.pk},{latest.pk}"' in html


def test_a_shot_counts_its_extensions_as_versions(member_client, make_clip):
    root = make_clip(prompt="waves")
    extension = make_clip(prompt="further", parent=root)

    html = member_client.get(f"/generations/{extension.pk}/").content.decode()

    assert "Versions" in html
    assert f'href="/compare/?ids={root.pk},{extension.pk}"' in html


def test_a_lone_take_has_no_versions(member_client, clip):
    assert "Versions" not in member_client.get(f"/generations/{clip.pk}/").content.decode()


def test_versions_leave_out_what_the_viewer_may_not_see(
    client_for, make_clip, user, other_user, reviewer
):
    mine = make_clip(prompt="waves")
    hidden = make_clip(owner=other_user, prompt="waves")
    hidden.review(reviewer, ReviewState.FLAGGED, "no")

    html = client_for(user).get(f"/generations/{mine.pk}/").content.decode()

    assert f"/generations/{hidden.pk}/" not in html and "Compare with previous" not in html


# --- the JSON API --------------------------------------------------------------------------


def test_the_api_round_trip(api_client, clip, other_user):
    made = api_client.post(
        f"/api/generations/{clip.pk}/notes/",
        {"seconds": 2.5, "end_seconds": 3.5, "body": "keep the horizon level"},
        content_type="application/json",
    )
    thread = made.json()
    replied = api_client.post(
        f"/api/generations/{clip.pk}/notes/",
        {"parent": thread["id"], "body": "done"},
        content_type="application/json",
    )
    listed = api_client.get(f"/api/generations/{clip.pk}/notes/")

    assert made.status_code == 201
    assert (thread["frame"], thread["end_frame"], thread["seconds"]) == (40, 56, 2.5)
    assert replied.status_code == 201 and replied.json()["parent"] == thread["id"]
    body = listed.json()
    assert body["frames"] == 81
    assert [t["id"] for t in body["results"]] == [thread["id"]]
    assert [r["body"] for r in body["results"][0]["replies"]] == ["done"]
    assert body["results"][0]["author"] == "maya"


@pytest.mark.parametrize(
    "sent, field",
    [
        ({"seconds": 6, "body": "late"}, "seconds"),
        ({"frame": 81, "body": "late"}, "frame"),
        ({"frame": 4, "body": ""}, "body"),
        ({"body": "where?"}, "frame"),
        ({"frame": 4, "seconds": 1, "body": "both"}, "seconds"),
        ({"frame": "four", "body": "x"}, "frame"),
        ({"frame": 40, "end_frame": 10, "body": "x"}, "end_frame"),
        ({"parent": 999999, "body": "x"}, "parent"),
    ],
)
def test_the_api_names_the_field_to_fix(api_client, clip, sent, field):
    response = api_client.post(
        f"/api/generations/{clip.pk}/notes/", sent, content_type="application/json"
    )

    assert response.status_code == 400
    assert list(response.json()["errors"]) == [field]
    assert not ReviewNote.objects.exists()


def test_the_api_refuses_a_body_that_is_no_object(api_client, clip):
    response = api_client.post(
        f"/api/generations/{clip.pk}/notes/", "[1, 2]", content_type="application/json"
    )

    assert response.status_code == 400 and "__all__" in response.json()["errors"]


def test_the_api_answers_404_for_a_video_that_does_not_exist(api_client, db):
    assert api_client.get("/api/generations/999999/notes/").status_code == 404


def test_deleting_a_video_deletes_its_notes(clip, user):
    notes.reply(note_on(clip, user), user, "ok")

    Generation.objects.filter(pk=clip.pk).delete()

    assert not ReviewNote.objects.exists()


# --- the owner hears of comments --------------------------------------------------------------


def test_a_teammates_note_tells_the_owner(client_for, clip, user, other_user, mail_after):
    user.email = "maya@example.com"
    user.save()

    (message,) = mail_after(lambda: post_note(client_for(other_user), clip, seconds="2.5"))

    thread = clip.notes.get()
    assert message.to == ["maya@example.com"]
    assert message.subject == f"WanStudio: #{clip.pk}: noor commented at 2.50 s"
    assert (
        "noor commented at 2.50 s (frame 40)" in message.body and "tilted horizon" in message.body
    )
    assert f"/generations/{clip.pk}/#note-{thread.pk}" in message.body


def test_a_teammates_reply_tells_the_owner(client_for, clip, user, other_user, mail_after):
    user.email = "maya@example.com"
    user.save()
    thread = note_on(clip, user)

    (message,) = mail_after(
        lambda: client_for(other_user).post(f"/notes/{thread.pk}/reply/", {"body": "on it"})
    )

    assert "noor replied to the note at 2.50 s" in message.body and "on it" in message.body


def test_the_owners_own_note_tells_nobody(member_client, clip, user, mail_after):
    user.email = "maya@example.com"
    user.save()

    outbox = mail_after(lambda: post_note(member_client, clip, seconds="2.5"))

    assert clip.notes.exists() and outbox == []
    assert not WebhookDelivery.objects.exists()
