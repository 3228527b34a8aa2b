"""Share links: the guest's pages and files under /s/<token>/, and the team's side (make a
link, list mine with what guests did, revoke).

Guests have no account. Every guest view goes through `guest_link`: the token is checked, the
link's row says whether it still works (404 tampered, 410 expired or revoked), the link and
address are rate-limited, and a password, when set, is asked on its own page. Guest pages use
their own base template: no studio navigation, no login form, no link into the studio.
"""

from functools import wraps

from django.contrib import messages
from django.contrib.auth.decorators import login_not_required
from django.core.exceptions import PermissionDenied
from django.db.models import Prefetch
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from generations import notes, shares
from generations.models import (
    FRAMES_PER_SECOND,
    GuestDecision,
    Share,
    ShareEvent,
    ShareEventKind,
)
from lib.file_responses import stored_file_response
from studio.access import can_view

GUEST_NAME_KEY = "share-guest-name"
UNLOCKED_KEY = "share-unlocked"
OPENED_KEY = "share-opened"
EVENTS_PER_LINK = 50

# --- guests --------------------------------------------------------------------------------------


def guest_link(view):
    """A guest view: called with the live share of the token, or answered for it."""

    @login_not_required
    @wraps(view)
    def wrapper(request, token, *args, **kwargs):
        resolved = shares.resolve(token)
        if resolved.problem is shares.LinkProblem.TAMPERED:
            response = link_problem(request, 404, "This link does not work.")
        elif resolved.problem is not None:
            response = link_problem(request, 410, gone_message(resolved))
        elif wait := shares.over_limit("requests", resolved.share, request, shares.REQUEST_LIMIT):
            response = too_many(request, wait, "Too many requests through this link.")
        else:
            response = view(request, resolved.share, *args, **kwargs)
        # The token is in the URL: it goes to no other site, and no search engine keeps it.
        # (same-origin, not no-referrer: with that, browsers send "Origin: null" on the
        # guest's POSTs and the CSRF check refuses them.)
        response["Referrer-Policy"] = "same-origin"
        response["X-Robots-Tag"] = "noindex, nofollow"
        response.headers.setdefault("Cache-Control", "private, no-store")
        return response

    return wrapper


def gone_message(resolved):
    if resolved.problem is shares.LinkProblem.EXPIRED:
        return "This link has expired. Ask whoever sent it for a new one."
    return "This link was withdrawn. Ask whoever sent it for a new one."


def link_problem(request, status, message):
    return render(request, "studio/guest/problem.html", {"message": message}, status=status)


def too_many(request, wait, message):
    response = render(
        request,
        "studio/guest/problem.html",
        {"message": f"{message} Try again in {wait} seconds."},
        status=429,
    )
    response["Retry-After"] = str(wait)
    return response


def unlocked(request, share):
    return not share.has_password or share.pk in request.session.get(UNLOCKED_KEY, [])


@guest_link
@require_GET
def guest_page(request, share):
    if not unlocked(request, share):
        return redirect("studio:share-password", share.token)
    opened = request.session.get(OPENED_KEY, [])
    if share.pk not in opened:  # once per visitor's session, not per reload
        shares.record_event(share, request, ShareEventKind.OPENED)
        request.session[OPENED_KEY] = [*opened, share.pk]
    return shared_page(request, share)


def shared_page(request, share, refused=None, status=200):
    """The guest's page: each shared video with its notes shown to guests; refused, a comment
    form that did not pass, is shown again beside its video with its errors."""
    items = list(shares.shared_generations(share).prefetch_related("loras"))
    decisions = shares.decisions_by_generation(share, items)
    timelines = notes.guest_timelines(items)
    guest_name = request.session.get(GUEST_NAME_KEY, "")
    for item in items:
        item.guest_decisions = decisions.get(item.pk, [])
        item.timeline = timelines[item.pk]
        item.comment_form = shares.GuestNoteForm(
            generation=item, initial={"guest_name": guest_name}
        )
        if refused is not None and refused.generation.pk == item.pk:
            place_refused(item, refused)
    context = {
        "share": share,
        "items": items,
        "guest_name": guest_name,
        "name_max": shares.GUEST_NAME_MAX_CHARS,
        "note_max": shares.GUEST_NOTE_MAX_CHARS,
        "decisions": GuestDecision.choices,
        "fps": FRAMES_PER_SECOND,
    }
    return render(request, "studio/guest/share.html", context, status=status)


def place_refused(item, form):
    """A refused reply goes back under its thread; a comment (or a reply to no thread the guest
    can see) in the comment form."""
    answered = form.cleaned_data.get("thread")
    for thread in item.timeline.threads:
        if answered is not None and thread.pk == answered.pk:
            thread.refused_reply = form
            return
    item.comment_form = form


@guest_link
@require_http_methods(["GET", "POST"])
def guest_password(request, share):
    if not share.has_password or unlocked(request, share):
        return redirect("studio:share-guest", share.token)
    error = ""
    if request.method == "POST":
        if wait := shares.wrong_passwords_exhausted(share, request):
            return too_many(request, wait, "Too many wrong passwords.")
        if share.password_matches(request.POST.get("password", "")):
            request.session.cycle_key()
            request.session[UNLOCKED_KEY] = [*request.session.get(UNLOCKED_KEY, []), share.pk]
            return redirect("studio:share-guest", share.token)
        shares.count_wrong_password(share, request)
        error = "That is not the password of this link."
    return render(
        request, "studio/guest/password.html", {"error": error}, status=400 if error else 200
    )


@guest_link
@require_POST
def guest_decide(request, share, pk):
    """Approve or ask for changes under the name the guest typed."""
    if not unlocked(request, share):
        return link_problem(request, 403, "Enter the link's password first.")
    generation = shares.shared_generation(share, pk)
    if generation is None:
        return link_problem(request, 404, "There is no such video in this link.")
    name = request.POST.get("guest_name", "").strip()[: shares.GUEST_NAME_MAX_CHARS]
    decision = request.POST.get("decision", "")
    if not name or decision not in GuestDecision.values:
        messages.error(request, "Type your name, then choose Approve or Request changes.")
    else:
        request.session[GUEST_NAME_KEY] = name
        note = request.POST.get("note", "").strip()[: shares.GUEST_NOTE_MAX_CHARS]
        shares.record_decision(share, request, generation, name, decision, note)
        messages.success(request, f"Thank you, {name}: your decision is with the team.")
    return redirect(f"{reverse('studio:share-guest', args=[share.token])}#item-{generation.pk}")


@guest_link
@require_POST
def guest_note(request, share, pk):
    """A comment at a time of the video, or a reply to a thread shown to guests, under the name
    the guest typed; refused, the page again with the error beside its field (400)."""
    if not unlocked(request, share):
        return link_problem(request, 403, "Enter the link's password first.")
    generation = shares.shared_generation(share, pk)
    if generation is None:
        return link_problem(request, 404, "There is no such video in this link.")
    form = shares.GuestNoteForm(request.POST, generation=generation)
    if not form.is_valid():
        return shared_page(request, share, refused=form, status=400)
    note = shares.record_comment(share, request, form)
    request.session[GUEST_NAME_KEY] = note.author_name
    messages.success(request, f"Thank you, {note.author_name}: your comment is with the team.")
    page = reverse("studio:share-guest", args=[share.token])
    return redirect(f"{page}#note-{note.parent_id or note.pk}")


@guest_link
@require_GET
def guest_video(request, share, pk):
    return guest_file(request, share, pk, "video")


@guest_link
@require_GET
def guest_poster(request, share, pk):
    return guest_file(request, share, pk, "poster")


def guest_file(request, share, pk, field):
    """A shared item's video or poster, through the link; any other id is missing."""
    if not unlocked(request, share):
        return HttpResponse(
            "Enter the link's password first.", status=403, content_type="text/plain"
        )
    generation = shares.shared_generation(share, pk)
    stored = getattr(generation, field, None)
    if not stored:
        return HttpResponse("No such file.", status=404, content_type="text/plain")
    return stored_file_response(request, stored.name)


# --- the team ------------------------------------------------------------------------------------


@can_view
@require_GET
def share_list(request):
    activity = Prefetch(
        "events",
        queryset=ShareEvent.objects.select_related("generation").only(
            "share_id", "kind", "decision", "guest_name", "body", "at", "generation__id"
        )[:EVENTS_PER_LINK],
        to_attr="recent_events",
    )
    links = list(shares.links_of(request.user).prefetch_related(activity)[:200])
    for link in links:
        link.url = request.build_absolute_uri(link.get_absolute_url())
    return render(request, "studio/shares.html", {"links": links})


@can_view
@require_http_methods(["GET", "POST"])
def new_share(request):
    """GET (from a board or a video) or POST without options (the gallery's selection) shows
    the options; a POST with them makes the link."""
    data = request.POST.copy() if request.method == "POST" else request.GET.copy()
    if "ids" in data and "generations" not in data:
        data.setlist("generations", data.getlist("ids"))
    if request.method == "POST" and "expires_in_hours" in data:
        form = shares.ShareForm(data, user=request.user)
        if form.is_valid():
            made = form.save(request.user)
            messages.success(request, f"The link to the {made.subject} is ready: copy it below.")
            return redirect(f"{reverse('studio:shares')}#share-{made.pk}")
        status = 400
    else:
        form = shares.ShareForm(
            initial={**data.dict(), "generations": data.getlist("generations")},
            user=request.user,
        )
        status = 200
    return render(request, "studio/share_new.html", {"form": form}, status=status)


@can_view
@require_POST
def revoke_share(request, pk):
    share = get_object_or_404(Share, pk=pk)
    if not share.may_revoke(request.user):
        raise PermissionDenied
    if share.revoke(request.user):
        messages.success(request, f"The link to the {share.subject} is withdrawn.")
    return redirect("studio:shares")
