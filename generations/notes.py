"""Review notes at work: the one form that checks a note for the page and the JSON API alike,
replies, resolving and reopening a thread, showing it to guests, a video's threads as a viewer
(or a guest) may read them, and the review's audit trail with the notes beside its decisions.
A note or reply by anyone but the video's owner tells the owner (EventKind.COMMENT).

Frames count at 16 fps: a video of 5.0625 s has round(5.0625 × 16) = 81 frames, 0 to 80, and
frame N starts at N / 16 s. A time names the frame shown at that moment, so 2.5 s is frame 40.
"""

import math
from dataclasses import dataclass
from datetime import datetime

from django import forms
from django.db import transaction
from django.db.models import Prefetch
from django.utils import timezone

from . import notify
from .models import (
    FRAMES_PER_SECOND,
    NOTE_MAX_CHARS,
    EventKind,
    Generation,
    ReviewNote,
    Status,
)

# A time names the frame shown at that moment; this absorbs float noise in "2.4999999 s".
TIME_SLACK = 1e-6
# No stored video comes near a day; a bound keeps a typed 10^30 out of the database.
MAX_FRAME = FRAMES_PER_SECOND * 60 * 60 * 24


def frame_count(generation):
    """How many frames the finished video has, from its stored duration; None when unknown."""
    if generation.status != Status.SUCCEEDED or not generation.video_duration:
        return None
    return max(1, round(generation.video_duration * FRAMES_PER_SECOND))


def frame_at(seconds):
    """The frame shown at `seconds` from the start."""
    return math.floor(seconds * FRAMES_PER_SECOND + TIME_SLACK)


def seconds_text(frame):
    return f"{frame / FRAMES_PER_SECOND:.2f} s"


# --- the form -------------------------------------------------------------------------------


def whole_frame(label):
    return forms.IntegerField(
        required=False,
        min_value=0,
        max_value=MAX_FRAME,
        label=label,
        error_messages={
            "invalid": "Give a frame number: 0, 1, 2…",
            "min_value": "Frames count from 0.",
            "max_value": "No video here is that long.",
        },
    )


def seconds_field(label):
    return forms.FloatField(
        required=False,
        min_value=0,
        label=label,
        error_messages={
            "invalid": "Give the time in seconds from the start, like 2.5.",
            "min_value": "Give the time in seconds from the start, 0 or more.",
        },
    )


class NoteForm(forms.Form):
    """A note at a frame or a range (`frame` or `seconds`, optionally `end_frame` or
    `end_seconds`), or a reply to a thread (`parent`, or the thread the page posts to)."""

    frame = whole_frame("Frame")
    seconds = seconds_field("Seconds")
    end_frame = whole_frame("To frame")
    end_seconds = seconds_field("To seconds")
    body = forms.CharField(
        label="Note",
        max_length=NOTE_MAX_CHARS,
        widget=forms.Textarea(attrs={"rows": 2}),
        error_messages={
            "required": "Write the note.",
            "max_length": f"Keep the note to {NOTE_MAX_CHARS} characters.",
        },
    )
    parent = forms.IntegerField(
        required=False, min_value=1, error_messages={"invalid": "Give the id of a thread."}
    )

    def __init__(self, data=None, *, generation, thread=None, **kwargs):
        super().__init__(data, **kwargs)
        self.generation = generation
        self.thread = thread  # a reply posted to its thread's own address
        self.frames = frame_count(generation)

    def clean(self):
        data = super().clean()
        if self.generation.status != Status.SUCCEEDED or not self.generation.video:
            raise forms.ValidationError("Notes go on a finished video.")
        parent = self.thread or self.thread_named(data.get("parent"))
        if parent is not None:
            data["thread"] = parent
            for name in ("frame", "seconds", "end_frame", "end_seconds"):
                if self.data.get(name) not in (None, ""):
                    self.add_error(name, "A reply is about its thread's frame: leave this out.")
            return data
        if "parent" in self.errors:
            return data
        start = self.frame_from(data, "frame", "seconds")
        if start is None:
            if not self.has_error("frame") and not self.has_error("seconds"):
                self.add_error("frame", "Pick the frame the note is about.")
            return data
        end = self.frame_from(data, "end_frame", "end_seconds")
        if end is not None and end < start:
            which = "end_frame" if data.get("end_frame") is not None else "end_seconds"
            self.add_error(
                which, f"The range must end at or after its start ({seconds_text(start)})."
            )
        data["start"], data["end"] = start, (None if end == start else end)
        return data

    def thread_named(self, pk):
        if pk is None:
            return None
        thread = ReviewNote.objects.filter(
            generation=self.generation, pk=pk, parent__isnull=True
        ).first()
        if thread is None:
            self.add_error("parent", f"There is no thread #{pk} on this video.")
        return thread

    def frame_from(self, data, frame_name, seconds_name):
        """The frame that data names by number or by time, checked against the video's end."""
        frame, seconds = data.get(frame_name), data.get(seconds_name)
        if frame is not None and seconds is not None:
            self.add_error(seconds_name, f"Give the {frame_name} or the seconds, not both.")
            return None
        if seconds is not None:
            frame, name = frame_at(seconds), seconds_name
        elif frame is not None:
            name = frame_name
        else:
            return None
        if frame > MAX_FRAME or (self.frames is not None and frame >= self.frames):
            self.add_error(name, self.past_the_end(frame, seconds))
            return None
        return frame

    def past_the_end(self, frame, seconds):
        last = (self.frames or 1) - 1
        length = f"{self.generation.video_duration or 0:.2f} s"
        if seconds is not None:
            return f"The video lasts {length}: {seconds:g} s is past its end."
        return f"The video has {last + 1} frames (0 to {last}, {length}): no frame {frame}."

    def save(self, author, author_name=None, shown_to_guests=False):
        """The note or reply, written by author (a person), or by author_name alone (a guest)."""
        data = self.cleaned_data
        body, shown = data["body"], shown_to_guests
        if "thread" in data:
            return reply(data["thread"], author, body, author_name, shown)
        start, end = data["start"], data["end"]
        return add_note(self.generation, author, body, start, end, author_name, shown)


# --- writing --------------------------------------------------------------------------------


def name_of(author, author_name):
    return author_name or author.get_username()


def add_note(
    generation, author, body, frame, end_frame=None, author_name=None, shown_to_guests=False
):
    """A new thread at frame (to end_frame, for a range): checked by NoteForm first."""
    with transaction.atomic():  # the owner hears of it only if it is kept
        note = ReviewNote.objects.create(
            generation=generation,
            author=author,
            author_name=name_of(author, author_name),
            frame=frame,
            end_frame=end_frame,
            body=body,
            shown_to_guests=shown_to_guests,
        )
        tell_the_owner(note, generation)
    return note


def reply(thread, author, body, author_name=None, shown_to_guests=False):
    with transaction.atomic():
        note = ReviewNote.objects.create(
            generation_id=thread.generation_id,
            parent=thread,
            author=author,
            author_name=name_of(author, author_name),
            body=body,
            shown_to_guests=shown_to_guests,
        )
        tell_the_owner(note, thread.generation)
    return note


def tell_the_owner(note, generation):
    """A comment by a teammate or a guest reaches the video's owner; their own does not."""
    if note.author_id is None or note.author_id != generation.owner_id:
        notify.announce(EventKind.COMMENT, generation, note=note)


def resolve(thread, person):
    """Mark the thread resolved (once: a second click keeps the first who resolved it)."""
    ReviewNote.objects.filter(pk=thread.pk, parent__isnull=True, resolved_at__isnull=True).update(
        resolved_at=timezone.now(), resolved_by=person
    )
    thread.refresh_from_db(fields=["resolved_at", "resolved_by"])


def reopen(thread):
    ReviewNote.objects.filter(pk=thread.pk).update(resolved_at=None, resolved_by=None)
    thread.refresh_from_db(fields=["resolved_at", "resolved_by"])


def show_to_guests(thread, shown):
    """Show the thread, replies included, through every link that shares its video, or hide it."""
    ReviewNote.objects.filter(pk=thread.pk, parent__isnull=True).update(shown_to_guests=shown)
    thread.refresh_from_db(fields=["shown_to_guests"])


# --- reading --------------------------------------------------------------------------------


def visible_notes(viewer):
    """Every note on a video the viewer may see: what a note's own address may open."""
    return ReviewNote.objects.filter(generation__in=Generation.objects.visible_to(viewer))


REPLIES = Prefetch(
    "replies", queryset=ReviewNote.objects.order_by("created_at", "id"), to_attr="reply_list"
)


def threads_for(generation, viewer):
    """The video's threads in timeline order, each with its reply_list: two queries. None when
    the viewer may not see the video (its notes are as hidden as it is)."""
    roots = visible_notes(viewer).filter(generation=generation, parent__isnull=True)
    return list(roots.select_related("resolved_by").prefetch_related(REPLIES))


@dataclass(frozen=True)
class Timeline:
    """What a player's note bar and thread list show."""

    frames: int | None
    threads: list

    @property
    def open_threads(self):
        return [thread for thread in self.threads if not thread.is_resolved]

    @property
    def resolved_threads(self):
        return [thread for thread in self.threads if thread.is_resolved]


def timeline_of(generation, viewer):
    return Timeline(frame_count(generation), threads_for(generation, viewer))


def guest_timelines(generations):
    """{generation id: Timeline of the threads shown to guests} for these shared generations, in
    two queries whatever their number. Resolving is the team's business: a guest sees no state."""
    roots = ReviewNote.objects.filter(
        generation__in=[row.pk for row in generations], parent__isnull=True, shown_to_guests=True
    ).prefetch_related(REPLIES)
    threads = {}
    for thread in roots:
        threads.setdefault(thread.generation_id, []).append(thread)
    return {row.pk: Timeline(frame_count(row), threads.get(row.pk, [])) for row in generations}


@dataclass(frozen=True)
class TrailEntry:
    at: datetime
    kind: str  # "decision", "note", "reply" or "resolved"
    item: object  # a ReviewEvent, or the ReviewNote


def review_trail(generation, threads):
    """The review's decisions and the notes written around them, in time order: one query for
    the decisions, the notes from threads (as threads_for read them)."""
    entries = [
        TrailEntry(event.at, "decision", event)
        for event in generation.review_events.select_related("actor")
    ]
    for thread in threads:
        entries.append(TrailEntry(thread.created_at, "note", thread))
        entries += [TrailEntry(answer.created_at, "reply", answer) for answer in thread.reply_list]
        if thread.resolved_at:
            entries.append(TrailEntry(thread.resolved_at, "resolved", thread))
    return sorted(entries, key=lambda entry: entry.at)
