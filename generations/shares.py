"""Share links at work: making one (the one form for the page and the JSON API), turning a
token into its share or the reason it no longer works, what a guest may see through it, and
what a guest did (the audit trail: openings, decisions, timeline comments), with the per-link
limits that keep a link from being hammered or its password guessed.

What a guest sees is read on every request: finished videos of the share that are not flagged,
nor exports of an edit with a flagged clip. Deleting, flagging or revoking takes effect on the
guest's next request.
"""

import enum
import time
from dataclasses import dataclass
from datetime import timedelta

from django import forms
from django.contrib.auth.hashers import make_password
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Count, Max, Q
from django.utils import timezone
from django.utils.crypto import salted_hmac

from . import notes, notify
from .models import (
    Board,
    EventKind,
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

DEFAULT_HOURS = 24 * 7
MAX_HOURS = 24 * 90
MAX_ITEMS = 500
PASSWORD_MAX_CHARS = 128
GUEST_NAME_MAX_CHARS = 80
GUEST_NOTE_MAX_CHARS = 2000

# Per link and per address, in fixed windows: (requests, seconds).
REQUEST_LIMIT = (120, 60)
PASSWORD_LIMIT = (10, 15 * 60)


# --- making a share ------------------------------------------------------------------------------


class IdListField(forms.Field):
    """A list of generation ids: repeated form fields or a JSON list."""

    widget = forms.MultipleHiddenInput

    def to_python(self, value):
        if value in (None, "", []):
            return []
        if not isinstance(value, (list, tuple)):
            value = [value]
        ids = []
        for item in value:
            text = str(item)
            if isinstance(item, bool) or not (text.isascii() and text.isdigit() and len(text) < 19):
                raise ValidationError("Send generation ids, as a list of whole numbers.")
            ids.append(int(text))
        if len(ids) > MAX_ITEMS:
            raise ValidationError(f"Share at most {MAX_ITEMS} videos in one link.")
        return sorted(set(ids))


def as_id(value):
    """value as a row id, or 0 (which no row has) when it is not one."""
    text = str(value).strip()
    return int(text) if text.isascii() and text.isdigit() and len(text) < 19 else 0


class ShareForm(forms.Form):
    """What to share (exactly one of generations, board, sequence) and how."""

    generations = IdListField(required=False)
    board = forms.IntegerField(required=False, min_value=1, widget=forms.HiddenInput)
    sequence = forms.IntegerField(required=False, min_value=1, widget=forms.HiddenInput)
    expires_in_hours = forms.IntegerField(
        required=False,
        min_value=1,
        max_value=MAX_HOURS,
        initial=DEFAULT_HOURS,
        label="Expires in (hours)",
        help_text=f"From 1 hour to {MAX_HOURS // 24} days; a week unless you say.",
    )
    password = forms.CharField(
        required=False,
        max_length=PASSWORD_MAX_CHARS,
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        help_text="Optional: guests type it before they see anything.",
    )
    show_parameters = forms.BooleanField(
        required=False,
        label="Show prompts and settings",
        help_text="Off: guests see the videos and their titles only.",
    )

    def __init__(self, data=None, *, user, **kwargs):
        super().__init__(data, **kwargs)
        self.user = user

    def clean_generations(self):
        ids = self.cleaned_data["generations"]
        if not ids:
            return []
        found = shareable(Generation.objects.visible_to(self.user)).filter(pk__in=ids)
        found_ids = set(found.values_list("pk", flat=True))
        missing = [pk for pk in ids if pk not in found_ids]
        if missing:
            listed = ", ".join(f"#{pk}" for pk in missing[:10])
            raise ValidationError(
                f"{listed}: no finished video you may see and share (flagged work stays in)."
            )
        return ids

    def clean_board(self):
        pk = self.cleaned_data["board"]
        if pk is None:
            return None
        board = Board.objects.filter(pk=pk).first()
        if board is None:
            raise ValidationError(f"There is no board #{pk}.")
        return board

    def clean_sequence(self):
        pk = self.cleaned_data["sequence"]
        if pk is None:
            return None
        sequence = Sequence.objects.visible_to(self.user).filter(pk=pk).first()
        if sequence is None:
            raise ValidationError(f"There is no sequence #{pk} that you may see.")
        if not shareable(sequence.exports.visible_to(self.user)).exists():
            raise ValidationError("Export the sequence first: a link shares its newest export.")
        return sequence

    def clean_expires_in_hours(self):
        hours = self.cleaned_data["expires_in_hours"]
        return DEFAULT_HOURS if hours is None else hours

    def clean(self):
        data = super().clean()
        chosen = [
            field
            for field in ("generations", "board", "sequence")
            if data.get(field) or field in self.errors
        ]
        if len(chosen) != 1:
            raise ValidationError(
                "Share one thing: a list of generations, a board or a sequence.",
                code="one_kind",
            )
        return data

    def subject(self):
        """What the form shares, in words, from what it was given."""
        raw = self.data if self.is_bound else self.initial
        if raw.get("board"):
            board = Board.objects.filter(pk=as_id(raw["board"])).first()
            return f"the board “{board}”" if board else "a board"
        if raw.get("sequence"):
            visible = Sequence.objects.visible_to(self.user)
            sequence = visible.filter(pk=as_id(raw["sequence"])).first()
            return f"the sequence “{sequence}”" if sequence else "a sequence"
        ids = raw.getlist("generations") if hasattr(raw, "getlist") else raw.get("generations")
        count = len(ids or [])
        return f"{count} video{'s' if count != 1 else ''}" if count else "nothing yet"

    def save(self, creator):
        data = self.cleaned_data
        kind = (
            ShareKind.BOARD
            if data["board"]
            else ShareKind.SEQUENCE
            if data["sequence"]
            else ShareKind.GENERATIONS
        )
        with transaction.atomic():
            share = Share.objects.create(
                kind=kind,
                board=data["board"],
                sequence=data["sequence"],
                created_by=creator,
                expires_at=timezone.now() + timedelta(hours=data["expires_in_hours"]),
                password_hash=make_password(data["password"]) if data["password"] else "",
                show_parameters=data["show_parameters"],
            )
            ShareItem.objects.bulk_create(
                [ShareItem(share=share, generation_id=pk) for pk in data["generations"]]
            )
        return share


def links_of(person):
    """The links person made (every link for who manages the studio), newest first, with how
    often they were opened and when a guest last did anything."""
    rows = Share.objects.all()
    if not person.has_perm("generations.manage_studio"):
        rows = rows.filter(created_by=person)
    return rows.select_related("board", "sequence", "created_by").annotate(
        opened_count=Count("events", filter=Q(events__kind=ShareEventKind.OPENED), distinct=True),
        last_activity=Max("events__at"),
        item_count=Count("items", distinct=True),
    )


# --- a token and its share -----------------------------------------------------------------------


class LinkProblem(enum.Enum):
    TAMPERED = "tampered"  # not signed here, or no such share: 404
    EXPIRED = "expired"  # 410
    REVOKED = "revoked"  # 410 (also when its maker's account is deactivated)


@dataclass
class Resolved:
    share: Share | None
    problem: LinkProblem | None = None


def resolve(token):
    """The share a token names and whether it still works. The signature is checked before
    any query, so a guessed or altered token costs nothing."""
    pk = Share.id_from_token(token)
    share = None if pk is None else Share.objects.select_related("created_by").filter(pk=pk).first()
    if share is None:
        return Resolved(None, LinkProblem.TAMPERED)
    if share.is_revoked or not share.created_by.is_active:
        return Resolved(share, LinkProblem.REVOKED)
    if share.is_expired:
        return Resolved(share, LinkProblem.EXPIRED)
    return Resolved(share)


# --- what a guest sees ---------------------------------------------------------------------------


def shareable(generations):
    """Finished videos that may leave the team: never flagged, nor an export of an edit that
    holds a flagged clip."""
    flagged = Generation.objects.filter(review_state=ReviewState.FLAGGED).values("pk")
    return (
        generations.filter(status=Status.SUCCEEDED)
        .exclude(video="")
        .exclude(review_state=ReviewState.FLAGGED)
        .exclude(from_sequence__clips__generation__in=flagged)
    )


def shared_generations(share):
    """What a guest sees through share now, newest first."""
    rows = Generation.objects.all()
    if share.kind == ShareKind.BOARD:
        rows = rows.filter(board_items__board_id=share.board_id)
    elif share.kind == ShareKind.SEQUENCE:
        newest = shareable(rows.filter(from_sequence_id=share.sequence_id)).values("pk")[:1]
        rows = rows.filter(pk__in=newest)
    else:
        rows = rows.filter(pk__in=ShareItem.objects.filter(share=share).values("generation_id"))
    return shareable(rows).order_by("-created_at", "-id")


def shared_generation(share, pk):
    """One generation of share, or None for any id the guest may not see."""
    return shared_generations(share).filter(pk=pk).first()


# --- guests: their audit trail and their limits ----------------------------------------------


def address_hash(request):
    """A keyed hash of the guest's address, for the audit trail and the per-address limits."""
    address = request.META.get("REMOTE_ADDR", "")
    return salted_hmac("generations.share.address", address).hexdigest()[:32]


def record_event(share, request, kind, *, generation=None, decision="", body="", guest_name=""):
    return ShareEvent.objects.create(
        share=share,
        generation=generation,
        kind=kind,
        decision=decision,
        body=body,
        guest_name=guest_name[:GUEST_NAME_MAX_CHARS],
        ip_hash=address_hash(request),
    )


def decisions_on(generation):
    """What guests decided about generation, through any link, newest first."""
    return ShareEvent.objects.filter(
        generation=generation, kind=ShareEventKind.DECISION
    ).select_related("share")


def over_limit(scope, share, request, limit):
    """Count one more in this link's and address's fixed window; the seconds to wait when that
    passes the limit, else 0. A cache is enough: it serves no data, only counts."""
    allowed, seconds = limit
    key, wait = limit_window(scope, share, request, seconds)
    cache.add(key, 0, timeout=seconds + 5)
    try:
        count = cache.incr(key)
    except ValueError:  # evicted between add and incr
        cache.set(key, 1, timeout=seconds + 5)
        count = 1
    return 0 if count <= allowed else wait


def wrong_passwords_exhausted(share, request):
    """Seconds to wait when this address has used up its wrong guesses at share's password."""
    allowed, seconds = PASSWORD_LIMIT
    key, wait = limit_window("password", share, request, seconds)
    return 0 if cache.get(key, 0) < allowed else wait


def limit_window(scope, share, request, seconds):
    """The counter's key for this link, address and fixed window of `seconds`, and how long
    until that window ends."""
    window = int(time.time() // seconds)
    key = f"share-limit:{scope}:{share.pk}:{address_hash(request)}:{window}"
    return key, max(1, int((window + 1) * seconds - time.time()) + 1)


def count_wrong_password(share, request):
    over_limit("password", share, request, PASSWORD_LIMIT)


def record_decision(share, request, generation, guest_name, decision, note):
    """A guest's approve or request-changes: kept in the link's audit trail and shown to the
    team beside the review. It never moves the review state: a person without an account
    does not overrule the team's reviewers (and "request changes" is no review state)."""
    with transaction.atomic():  # the owner hears of it only if it is recorded
        event = record_event(
            share,
            request,
            ShareEventKind.DECISION,
            generation=generation,
            decision=decision,
            body=note,
            guest_name=guest_name,
        )
        notify.announce(
            EventKind.GUEST_DECISION, generation, guest=guest_name, decision=decision, note=note
        )
    return event


def decisions_by_generation(share, generations):
    """{generation id: [decision events through share, newest first]} for these generations."""
    events = share.events.filter(
        kind=ShareEventKind.DECISION, generation__in=[row.pk for row in generations]
    )
    found = {}
    for event in events:
        found.setdefault(event.generation_id, []).append(event)
    return found


# --- a guest's comments on the timeline ----------------------------------------------------------


class GuestNoteForm(notes.NoteForm):
    """A guest's comment at a time of a shared video (`seconds`, which the page's script fills
    from the player), or a reply to a thread shown to guests (`parent`), under a typed name."""

    guest_name = forms.CharField(
        label="Your name",
        max_length=GUEST_NAME_MAX_CHARS,
        error_messages={
            "required": "Type your name: the team sees it beside your comment.",
            "max_length": f"Keep your name to {GUEST_NAME_MAX_CHARS} characters.",
        },
    )

    def clean(self):
        starts_a_thread = self.data.get("parent") in (None, "")
        if starts_a_thread and self.cleaned_data.get("seconds") is None:
            if not self.has_error("seconds"):
                self.add_error(
                    "seconds", "Pause the video where the comment goes, or type the time."
                )
        return super().clean()

    def thread_named(self, pk):
        """Only a thread the guest can see: any other id is as missing as a wrong one."""
        if pk is None:
            return None
        thread = ReviewNote.objects.filter(
            generation=self.generation, pk=pk, parent__isnull=True, shown_to_guests=True
        ).first()
        if thread is None:
            self.add_error("parent", "That thread is not on this video.")
        return thread


def record_comment(share, request, form):
    """A guest's comment or reply (checked by GuestNoteForm): shown to guests, kept in the link's
    audit trail, and the owner told (notes.tell_the_owner), all or nothing."""
    name = form.cleaned_data["guest_name"]
    with transaction.atomic():
        note = form.save(None, author_name=name, shown_to_guests=True)
        record_event(
            share,
            request,
            ShareEventKind.COMMENT,
            generation=form.generation,
            body=note.body,
            guest_name=name,
        )
    return note
