"""Share links: what a guest without an account reaches through one (the permission matrix over
every URL of the project), what the team does with them, and the JSON API."""

import re
from datetime import timedelta
from pathlib import Path

import pytest
from django.contrib.auth.hashers import make_password
from django.contrib.contenttypes.models import ContentType
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import URLResolver, get_resolver, reverse
from django.utils import timezone

from generations import notes, shares
from generations.models import (
    Board,
    BoardItem,
    Generation,
    ReviewNote,
    ReviewState,
    Sequence,
    Share,
    ShareEvent,
    ShareEventKind,
    ShareItem,
    ShareKind,
    Status,
)

from .support import stored

MATRIX_FILE = Path(__file__).resolve().parent.parent / "test-output" / "share-matrix.md"
GUEST_NAMES = ("studio:share-guest", "studio:share-password", "studio:share-video")
GUEST_NAMES += ("studio:share-poster", "studio:share-decide", "studio:share-note")
# Pages that answer anyone by design, guest or not: none shows studio data.
PUBLIC_BY_DESIGN = {
    "login": "the login page itself",
    "admin:login": "the admin's login page",
    "api:schema": "the API's description",
    "api:docs": "the API's description, for people",
    "api:healthz": "ok / not ok",
}


@pytest.fixture
def stored_pair(media_root):
    """Two stored videos with posters: (video, poster) names."""

    def store(label):
        video = default_storage.save(f"videos/{label}.mp4", ContentFile(stored.VIDEO))
        poster = default_storage.save(f"posters/{label}.jpg", ContentFile(stored.POSTER))
        return video, poster

    return store


@pytest.fixture
def done(make_generation, stored_pair):
    """done(label, **fields): a finished generation of maya's with its own files."""

    def make(label, **fields):
        video, poster = stored_pair(label)
        return make_generation(status=Status.SUCCEEDED, video=video, poster=poster, **fields)

    return make


@pytest.fixture
def shared(done):
    return done("shared", prompt="a lighthouse at dusk, secret prompt")


@pytest.fixture
def unshared(done):
    return done("unshared")


def make_share(creator, generations=(), **fields):
    fields = {"kind": ShareKind.GENERATIONS, **fields}
    fields.setdefault("expires_at", timezone.now() + timedelta(days=7))
    share = Share.objects.create(created_by=creator, **fields)
    ShareItem.objects.bulk_create([ShareItem(share=share, generation=row) for row in generations])
    return share


def url_of(share, name="studio:share-guest", pk=None):
    args = [share.token] if pk is None else [share.token, pk]
    return reverse(name, args=args)


def tampered(token):
    return token[:-1] + ("A" if token[-1] != "A" else "B")


# --- the permission matrix ---------------------------------------------------------------------


def named_patterns(resolver=None, namespace=""):
    patterns = {}
    for pattern in (resolver or get_resolver()).url_patterns:
        if isinstance(pattern, URLResolver):
            inner = f"{namespace}{pattern.namespace}:" if pattern.namespace else namespace
            patterns |= named_patterns(pattern, inner)
        elif pattern.name:
            patterns[f"{namespace}{pattern.name}"] = pattern
    return patterns


def matrix_urls(shared, unshared, token):
    """(row label, name, which item, url) for every named URL: each id-taking one with the
    shared item's id and another's, each file one with a shared and an unshared stored name."""
    content_type = ContentType.objects.get_for_model(Generation).pk
    for name, pattern in sorted(named_patterns().items()):
        groups = set(pattern.pattern.regex.groupindex)
        variants = (
            [("shared", shared), ("other", unshared)]
            if groups & {"pk", "name"}
            else [("-", shared)]
        )
        for which, item in variants:
            values = {
                "pk": item.pk,
                "name": item.video.name,
                "token": token,
                "app_label": "generations",
                "id": item.owner_id,
                "content_type_id": content_type,
                "object_id": item.pk,
            }
            url = reverse(name, kwargs={key: values[key] for key in groups})
            yield name, which, url


def cell(response, token):
    code = response.status_code
    if code in (301, 302):
        where = response["Location"].split("?")[0]
        return "302 login" if "login/" in where else f"302 {where.replace(token, '<t>')}"
    return str(code)


def guest_client(share, state):
    """A fresh browser without an account that has opened the link as a guest would."""
    browser = Client(raise_request_exception=False)
    browser.get(url_of(share))
    if state == "password: after":
        browser.post(url_of(share, "studio:share-password"), {"password": "open sesame"})
    return browser


def expected_guest_answer(state, name, which):
    """The answers a guest URL may give in a state of its link."""
    if state == "tampered":
        return {"404"}
    if state in ("expired", "revoked"):
        return {"410"}
    if state == "password: before":
        return {
            "studio:share-guest": {"302 /s/<t>/password/"},
            "studio:share-password": {"200"},
            "studio:share-decide": {"405"},
            "studio:share-note": {"405"},
        }.get(name, {"403"})
    shared_item = which == "shared"
    return {
        "studio:share-guest": {"200"},
        "studio:share-password": {"302 /s/<t>/"},  # no password, or entered: to the page
        "studio:share-decide": {"405"},  # POST only
        "studio:share-note": {"405"},  # POST only
        "studio:share-video": {"200"} if shared_item else {"404"},
        "studio:share-poster": {"200"} if shared_item else {"404"},
    }[name]


STATES = ("valid", "expired", "revoked", "tampered", "password: before", "password: after")


@pytest.fixture
def links(user, shared):
    soon = timezone.now() + timedelta(days=7)
    return {
        "valid": make_share(user, [shared]),
        "expired": make_share(user, [shared], expires_at=timezone.now() - timedelta(minutes=1)),
        "revoked": make_share(user, [shared], revoked_at=timezone.now()),
        "tampered": make_share(user, [shared]),
        "password: before": make_share(
            user, [shared], expires_at=soon, password_hash=make_password("open sesame")
        ),
        "password: after": make_share(
            user, [shared], expires_at=soon, password_hash=make_password("open sesame")
        ),
    }


def test_the_guest_permission_matrix(links, shared, unshared, capsys):
    """Every URL of the studio, the API, the admin and /media/, asked by a guest holding a link
    in each state: only the shared item's guest pages and files answer, and nothing else ever
    answers 200 (but the public pages) or a server error."""
    rows, problems = {}, []
    for state in STATES:
        share = links[state]
        token = tampered(share.token) if state == "tampered" else share.token
        browser = guest_client(share, state)
        for name, which, url in matrix_urls(shared, unshared, token):
            got = cell(browser.get(url), token)
            rows.setdefault((name, which), {})[state] = got
            if name in GUEST_NAMES:
                allowed = expected_guest_answer(state, name, which)
                if got not in allowed:
                    problems.append(f"{state}: {url} answered {got}, expected {allowed}")
            elif name in PUBLIC_BY_DESIGN:
                if got.startswith("5") and name != "api:healthz":  # 503: no cluster here
                    problems.append(f"{state}: {url} answered {got}")
            elif (
                got == "200"
                or got.startswith("5")
                or not (got == "302 login" or got in ("401", "403", "404", "405"))
            ):
                problems.append(f"{state}: {url} (not a guest URL) answered {got}")
    write_matrix(rows)
    with capsys.disabled():
        print("\n" + MATRIX_FILE.read_text())
    assert problems == [], "\n".join(problems)


def test_shared_media_seeks_through_the_link(links, shared):
    browser = guest_client(links["valid"], "valid")

    response = browser.get(
        url_of(links["valid"], "studio:share-video", shared.pk), HTTP_RANGE="bytes=0-9"
    )

    assert response.status_code == 206
    assert response["Content-Range"].startswith("bytes 0-9/")


def test_the_media_url_of_a_shared_file_stays_closed_to_guests(links, shared):
    browser = guest_client(links["valid"], "valid")

    response = browser.get(f"/media/{shared.video.name}")

    assert response.status_code == 302 and "/login/" in response["Location"]


def write_matrix(rows):
    header = "| URL pattern | item | " + " | ".join(STATES) + " |"
    lines = [header, "|" + " --- |" * (len(STATES) + 2)]
    for (name, which), answers in rows.items():
        note = " (public by design)" if name in PUBLIC_BY_DESIGN else ""
        cells = " | ".join(answers.get(state, "") for state in STATES)
        lines.append(f"| `{name}`{note} | {which} | {cells} |")
    MATRIX_FILE.parent.mkdir(exist_ok=True)
    MATRIX_FILE.write_text(
        "Guest permission matrix: a fresh client without an account that opened a link in each "
        "state asks every named URL (GET).\n\n" + "\n".join(lines) + "\n"
    )


# --- what a guest sees -----------------------------------------------------------------------


def test_a_flagged_item_on_a_shared_board_is_not_shown(user, done):
    board = Board.objects.create(name="Client A", created_by=user)
    kept, flagged = done("kept"), done("flagged", review_state=ReviewState.FLAGGED)
    for row in (kept, flagged):
        BoardItem.objects.create(board=board, generation=row, generation_created_at=row.created_at)
    share = make_share(user, kind=ShareKind.BOARD, board=board)
    browser = Client()

    page = browser.get(url_of(share)).content.decode()

    assert url_of(share, "studio:share-video", kept.pk) in page
    assert url_of(share, "studio:share-video", flagged.pk) not in page
    assert browser.get(url_of(share, "studio:share-video", flagged.pk)).status_code == 404


def test_flagging_after_sharing_hides_it_at_the_next_request(user, shared):
    share = make_share(user, [shared])
    browser = Client()
    assert browser.get(url_of(share, "studio:share-video", shared.pk)).status_code == 200

    Generation.objects.filter(pk=shared.pk).update(review_state=ReviewState.FLAGGED)

    assert browser.get(url_of(share, "studio:share-video", shared.pk)).status_code == 404


def test_a_deleted_item_is_gone_from_the_link(user, shared, unshared):
    share = make_share(user, [shared, unshared])
    shared.delete()

    page = Client().get(url_of(share)).content.decode()

    assert "1 video." in page


def test_a_sequence_link_shows_its_newest_export(user, done):
    cut = Sequence.objects.create(owner=user, title="The harbour cut")
    done("old-export", from_sequence=cut, prompt="The harbour cut")
    newest = done("new-export", from_sequence=cut, prompt="The harbour cut")
    share = make_share(user, kind=ShareKind.SEQUENCE, sequence=cut)

    page = Client().get(url_of(share)).content.decode()

    assert page.count("<video") == 1
    assert url_of(share, "studio:share-video", newest.pk) in page


def test_prompts_are_hidden_unless_the_link_shows_them(user, shared):
    hidden = make_share(user, [shared])
    shown = make_share(user, [shared], show_parameters=True)

    assert "secret prompt" not in Client().get(url_of(hidden)).content.decode()
    assert "secret prompt" in Client().get(url_of(shown)).content.decode()


def test_the_guest_page_has_no_login_form_and_no_studio_navigation(user, shared):
    page = Client().get(url_of(make_share(user, [shared]))).content.decode()

    assert "/login/" not in page
    assert 'aria-label="Main"' not in page
    assert reverse("studio:gallery") not in page
    scripts = re.findall(r"<script[^>]*>", page)
    assert scripts == ['<script src="/static/js/guest.js" defer>']  # its own, no inline one


def test_opening_is_recorded_once_per_visitor(user, shared):
    share = make_share(user, [shared])
    browser = Client()

    browser.get(url_of(share))
    browser.get(url_of(share))
    Client().get(url_of(share))

    assert share.events.filter(kind=ShareEventKind.OPENED).count() == 2


# --- what a guest does ---------------------------------------------------------------------------


def test_a_guest_decision_is_recorded_with_the_link_and_the_name(user, shared):
    share = make_share(user, [shared])
    browser = Client()
    decide = url_of(share, "studio:share-decide", shared.pk)

    response = browser.post(
        decide, {"guest_name": "Ana (client)", "decision": "request_changes", "note": "warmer"}
    )

    assert response.status_code == 302
    event = ShareEvent.objects.get(kind=ShareEventKind.DECISION)
    assert (event.share, event.generation, event.guest_name) == (share, shared, "Ana (client)")
    assert (event.decision, event.body) == ("request_changes", "warmer")
    assert event.ip_hash and "127.0.0.1" not in event.ip_hash
    shared.refresh_from_db()
    assert shared.review_state == ReviewState.PENDING  # a guest never overrules the reviewers


def test_a_guest_decision_is_e_mailed_to_the_owner(
    user, shared, monkeypatch, django_capture_on_commit_callbacks
):
    from django.core import mail

    from generations import jobs, tasks

    user.email = "maya@example.com"
    user.save()
    queued = []
    monkeypatch.setattr(jobs, "async_task", lambda func, *args, **kw: queued.append((func, args)))
    share = make_share(user, [shared])

    with django_capture_on_commit_callbacks(execute=True):
        Client().post(
            url_of(share, "studio:share-decide", shared.pk),
            {"guest_name": "Ana (client)", "decision": "request_changes", "note": "warmer"},
        )
    for func, args in queued:
        getattr(tasks, func.rsplit(".", 1)[1])(*args)

    (message,) = mail.outbox
    assert message.to == ["maya@example.com"]
    assert f"Ana (client) (a guest) asked for changes to your generation #{shared.pk}" in (
        message.body
    )
    assert "warmer" in message.body


def test_the_team_sees_a_guest_decision_on_the_video_page(member_client, user, shared):
    share = make_share(user, [shared])
    Client().post(
        url_of(share, "studio:share-decide", shared.pk),
        {"guest_name": "Ana", "decision": "approve"},
    )

    page = member_client.get(shared.get_absolute_url()).content.decode()

    assert "Ana" in page and "Approved" in page


def test_a_decision_needs_a_name(user, shared):
    share = make_share(user, [shared])

    Client().post(url_of(share, "studio:share-decide", shared.pk), {"decision": "approve"})

    assert not ShareEvent.objects.filter(kind=ShareEventKind.DECISION).exists()


def test_a_decision_on_an_item_outside_the_link_is_refused(user, shared, unshared):
    share = make_share(user, [shared])

    response = Client().post(
        url_of(share, "studio:share-decide", unshared.pk),
        {"guest_name": "A", "decision": "approve"},
    )

    assert response.status_code == 404
    assert not ShareEvent.objects.filter(kind=ShareEventKind.DECISION).exists()


def test_too_many_requests_through_a_link_answer_429(user, shared, monkeypatch):
    monkeypatch.setattr(shares, "REQUEST_LIMIT", (3, 60))
    share = make_share(user, [shared])
    browser = Client()

    answers = [browser.get(url_of(share)).status_code for _ in range(4)]

    assert answers == [200, 200, 200, 429]
    assert int(browser.get(url_of(share))["Retry-After"]) > 0


def test_wrong_passwords_are_limited(user, shared):
    share = make_share(user, [shared], password_hash=make_password("right"))
    browser = Client()
    password_url = url_of(share, "studio:share-password")

    wrong = [browser.post(password_url, {"password": "nope"}).status_code for _ in range(10)]
    locked = browser.post(password_url, {"password": "right"})

    assert wrong == [400] * 10
    assert locked.status_code == 429 and locked["Retry-After"]


# --- the team's side ---------------------------------------------------------------------------


def test_making_a_link_from_the_page(member_client, shared):
    response = member_client.post(
        reverse("studio:share-new"),
        {"generations": [shared.pk], "expires_in_hours": "24", "password": ""},
    )

    share = Share.objects.get()
    assert response.status_code == 302
    assert share.kind == ShareKind.GENERATIONS and list(share.generations.all()) == [shared]
    assert timedelta(hours=23) < share.expires_at - timezone.now() <= timedelta(hours=24)


def test_the_gallery_selection_opens_the_options_first(member_client, shared):
    response = member_client.post(reverse("studio:share-new"), {"ids": [shared.pk]})

    assert response.status_code == 200 and not Share.objects.exists()
    assert f'value="{shared.pk}"' in response.content.decode()


def test_the_links_page_lists_mine_with_their_activity(member_client, user, shared):
    share = make_share(user, [shared])
    Client().get(url_of(share))

    page = member_client.get(reverse("studio:shares")).content.decode()

    assert share.token in page and "opened 1 time" in page


def test_only_its_maker_or_an_admin_revokes_a_link(
    client_for, other_user, admin_client, user, shared
):
    share = make_share(user, [shared])

    refused = client_for(other_user).post(reverse("studio:share-revoke", args=[share.pk]))
    allowed = admin_client.post(reverse("studio:share-revoke", args=[share.pk]))

    assert refused.status_code == 403
    assert allowed.status_code == 302
    assert Client().get(url_of(share)).status_code == 410


def test_a_deactivated_makers_links_stop_working(user, shared):
    share = make_share(user, [shared])
    user.is_active = False
    user.save()

    assert Client().get(url_of(share)).status_code == 410


# --- the JSON API --------------------------------------------------------------------------------


def test_api_create_then_revoke(api_client, shared):
    made = api_client.post(
        "/api/shares/",
        {"generations": [shared.pk], "expires_in_hours": 48, "show_parameters": True},
        content_type="application/json",
    )

    assert made.status_code == 201
    body = made.json()
    assert body["url"].startswith("http://testserver/s/") and body["show_parameters"] is True
    guest = Client()
    assert guest.get(body["url"]).status_code == 200
    assert api_client.delete(f"/api/shares/{body['id']}/").status_code == 204
    assert guest.get(body["url"]).status_code == 410
    assert api_client.get("/api/shares/").json()["results"][0]["revoked_at"] is not None


def test_api_refusal_names_the_field(api_client, shared):
    response = api_client.post(
        "/api/shares/",
        {"generations": [shared.pk], "expires_in_hours": 24 * 91},
        content_type="application/json",
    )

    assert response.status_code == 400
    assert list(response.json()["errors"]) == ["expires_in_hours"]


def test_api_refuses_flagged_or_unseen_generations(api_client, shared, make_user, done):
    hidden = done("hidden", owner=make_user("zoe"), review_state=ReviewState.FLAGGED)

    response = api_client.post(
        "/api/shares/", {"generations": [shared.pk, hidden.pk]}, content_type="application/json"
    )

    assert response.status_code == 400 and "generations" in response.json()["errors"]


def test_api_wants_exactly_one_kind(api_client, shared, user):
    board = Board.objects.create(name="B", created_by=user)

    response = api_client.post(
        "/api/shares/",
        {"generations": [shared.pk], "board": board.pk},
        content_type="application/json",
    )

    assert response.status_code == 400 and "__all__" in response.json()["errors"]


def test_api_a_sequence_needs_an_export(api_client, user):
    cut = Sequence.objects.create(owner=user, title="Not yet")

    response = api_client.post(
        "/api/shares/", {"sequence": cut.pk}, content_type="application/json"
    )

    assert response.status_code == 400 and "sequence" in response.json()["errors"]


def test_api_someone_elses_link_is_missing(api_client_for, other_user, user, shared):
    share = make_share(user, [shared])

    response = api_client_for(other_user).delete(f"/api/shares/{share.pk}/")

    assert response.status_code == 404
    share.refresh_from_db()
    assert share.revoked_at is None


def test_the_links_page_counts_openings_once_each(member_client, user, shared, unshared):
    share = make_share(user, [shared, unshared])
    Client().get(url_of(share))

    page = member_client.get(reverse("studio:shares")).content.decode()

    assert "opened 1 time " in page


def test_a_guest_decision_passes_the_csrf_check(user, shared):
    share = make_share(user, [shared])
    browser = Client(enforce_csrf_checks=True)
    page = browser.get(url_of(share))

    response = browser.post(
        url_of(share, "studio:share-decide", shared.pk),
        {
            "guest_name": "Ana",
            "decision": "approve",
            "csrfmiddlewaretoken": page.context["csrf_token"],
        },
    )

    assert response.status_code == 302
    assert page["Referrer-Policy"] == "same-origin"  # no-referrer makes browsers send Origin: null


# --- a guest's comments on the timeline ---------------------------------------------------------

# Wan's clips: 81 frames at 16 fps, 0 to 80.
CLIP_SECONDS = 5.0625


@pytest.fixture
def clip(done):
    """A shared-to-be finished video of maya's that knows its length (81 frames)."""
    return done("clip", video_duration=CLIP_SECONDS)


@pytest.fixture
def clip_link(user, clip):
    return make_share(user, [clip])


def comment(share, clip, browser=None, **fields):
    data = {"guest_name": "Ana (client)", "seconds": "2.5", "body": "warmer here", **fields}
    return (browser or Client()).post(url_of(share, "studio:share-note", clip.pk), data)


def test_a_guest_comment_at_two_and_a_half_seconds_lands_at_frame_forty(clip_link, clip):
    response = comment(clip_link, clip)

    note = ReviewNote.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"{url_of(clip_link)}#note-{note.pk}"
    assert (note.generation, note.frame, note.parent) == (clip, 40, None)
    assert (note.author, note.author_name, note.body) == (None, "Ana (client)", "warmer here")
    assert note.shown_to_guests and note.by_guest


def test_a_guest_comment_is_in_the_audit_trail_with_its_link(clip_link, clip):
    comment(clip_link, clip)

    event = ShareEvent.objects.get(kind=ShareEventKind.COMMENT)
    assert (event.share, event.generation, event.guest_name) == (clip_link, clip, "Ana (client)")
    assert event.body == "warmer here" and event.ip_hash


def test_a_guest_comment_is_e_mailed_to_the_owner(user, clip_link, clip, mail_after):
    user.email = "maya@example.com"
    user.save()

    (message,) = mail_after(lambda: comment(clip_link, clip))

    note = ReviewNote.objects.get()
    assert message.to == ["maya@example.com"]
    assert (
        f"Ana (client) (a guest) commented at 2.50 s (frame 40) on your generation #{clip.pk}: "
        "warmer here"
    ) in message.body
    assert f"/generations/{clip.pk}/#note-{note.pk}" in message.body


def test_the_guests_name_is_remembered_for_the_next_comment(clip_link, clip):
    browser = Client()
    comment(clip_link, clip, browser)

    page = browser.get(url_of(clip_link)).content.decode()

    assert 'name="guest_name" value="Ana (client)"' in page
    assert "Thank you, Ana (client): your comment is with the team." in page


def test_a_guest_sees_only_the_notes_shown_to_guests(clip_link, clip, user):
    notes.add_note(clip, user, "internal: the client will hate the sky", 10)
    notes.add_note(clip, user, "we warmed the light here", 20, shown_to_guests=True)

    page = Client().get(url_of(clip_link)).content.decode()

    assert "internal: the client will hate the sky" not in page
    assert "we warmed the light here" in page
    assert page.count('class="note-mark"') == 1
    assert "Resolve" not in page and "Reopen" not in page and "guests" not in page.lower()


def test_the_team_shows_a_thread_to_guests_then_hides_it(member_client, clip_link, clip, user):
    thread = notes.add_note(clip, user, "we warmed the light here", 20)
    notes.reply(thread, user, "and the shadows")
    toggle = reverse("studio:note-guests", args=[thread.pk])

    shown = member_client.post(toggle, {"action": "show"})
    seen = Client().get(url_of(clip_link)).content.decode()
    member_client.post(toggle, {"action": "hide"})
    hidden = Client().get(url_of(clip_link)).content.decode()

    assert shown["Location"] == f"/generations/{clip.pk}/#note-{thread.pk}"
    assert "we warmed the light here" in seen and "and the shadows" in seen
    assert "we warmed the light here" not in hidden


def test_the_toggle_with_htmx_answers_the_notes_section(member_client, clip, user):
    thread = notes.add_note(clip, user, "we warmed the light here", 20)

    response = member_client.post(
        reverse("studio:note-guests", args=[thread.pk]),
        {"action": "show"},
        HTTP_HX_REQUEST="true",
    )

    page = response.content.decode()
    assert 'id="review-notes"' in page and "Hide from guests" in page
    assert "Shown to guests" in page


def test_the_owner_sees_a_guest_comment_as_a_marker_at_frame_forty(member_client, clip_link, clip):
    comment(clip_link, clip)

    page = member_client.get(clip.get_absolute_url()).content.decode()

    # 40 of 81 frames along the bar
    assert re.search(r'class="note-pin" x="49\.38%"', page)
    assert 'Ana (client)</strong> <span class="muted small">(guest)</span>' in page
    assert "frame 40" in page


def test_a_guest_replies_to_a_thread_shown_to_guests(clip_link, clip, user):
    thread = notes.add_note(clip, user, "we warmed the light here", 20, shown_to_guests=True)

    response = comment(clip_link, clip, parent=thread.pk, seconds="", body="better, thanks")

    answer = thread.replies.get()
    assert response["Location"].endswith(f"#note-{thread.pk}")
    assert (answer.author_name, answer.body, answer.shown_to_guests) == (
        "Ana (client)",
        "better, thanks",
        True,
    )


def test_a_guest_cannot_reply_to_a_thread_hidden_from_guests(clip_link, clip, user):
    thread = notes.add_note(clip, user, "internal", 20)

    response = comment(clip_link, clip, parent=thread.pk, seconds="", body="sneaky")

    assert response.status_code == 400
    assert not thread.replies.exists()
    assert "internal" not in response.content.decode()


@pytest.mark.parametrize(
    "fields, field, message",
    [
        ({"guest_name": "  "}, "name", "Type your name: the team sees it beside your comment."),
        ({"body": ""}, "body", "Write the note."),
        ({"seconds": "6"}, "seconds", "The video lasts 5.06 s: 6 s is past its end."),
        ({"seconds": ""}, "seconds", "Pause the video where the comment goes, or type the time."),
        ({"seconds": "soon"}, "seconds", "Give the time in seconds from the start, like 2.5."),
    ],
)
def test_a_refused_comment_shows_the_error_beside_its_field(
    clip_link, clip, fields, field, message
):
    response = comment(clip_link, clip, **fields)

    page = response.content.decode()
    assert response.status_code == 400
    assert re.search(rf'id="guest-{field}-{clip.pk}-error">{re.escape(message)}<', page)
    assert not ReviewNote.objects.exists()
    assert not ShareEvent.objects.filter(kind=ShareEventKind.COMMENT).exists()


def test_a_refused_reply_comes_back_under_its_thread(clip_link, clip, user):
    thread = notes.add_note(clip, user, "we warmed the light here", 20, shown_to_guests=True)

    response = comment(clip_link, clip, parent=thread.pk, seconds="", body="")

    page = response.content.decode()
    assert response.status_code == 400
    assert re.search(r'<details class="note-reply" open>', page)
    assert "Write the note." in page


def test_a_comment_on_an_item_outside_the_link_is_refused(clip_link, unshared):
    response = comment(clip_link, unshared)

    assert response.status_code == 404
    assert not ReviewNote.objects.exists() and not ShareEvent.objects.exists()


def test_a_comment_needs_the_password_of_a_link_that_has_one(user, clip):
    locked = make_share(user, [clip], password_hash=make_password("open sesame"))

    response = comment(locked, clip)

    assert response.status_code == 403
    assert not ReviewNote.objects.exists()


def test_a_guest_comment_passes_the_csrf_check(clip_link, clip):
    browser = Client(enforce_csrf_checks=True)
    page = browser.get(url_of(clip_link))

    response = comment(clip_link, clip, browser, csrfmiddlewaretoken=page.context["csrf_token"])

    assert response.status_code == 302
    assert ReviewNote.objects.filter(shown_to_guests=True).exists()


def test_the_guest_page_reads_its_notes_in_a_fixed_number_of_queries(user, done):
    def queries_of_a_link_to(count):
        videos = [done(f"take{count}-{n}", video_duration=CLIP_SECONDS) for n in range(count)]
        for video in videos:
            notes.add_note(video, user, "shown", 8, shown_to_guests=True)
        link, browser = make_share(user, videos), Client()
        browser.get(url_of(link))  # the first visit records its opening
        with CaptureQueriesContext(connection) as queries:
            page = browser.get(url_of(link)).content.decode()
        assert page.count('class="note-mark"') == count
        return len(queries)

    assert queries_of_a_link_to(1) == queries_of_a_link_to(4)
