"""Review notes: comments pinned to a frame, or a range of frames, of a video or an exported
sequence (an export is a Generation too), with replies and "resolved".

Frames count at the studio's 16 fps (generations/notes.py converts seconds). A thread is a root
note with its frame; its replies carry no frame of their own and answer the whole thread.

Guests (share links) see only the threads the team chose to show them, replies included; what a
guest writes is shown to guests from the start.
"""

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils import timezone

from .generation import Generation

NOTE_MAX_CHARS = 2000
AUTHOR_NAME_MAX_CHARS = 150  # a username's length; a guest's typed name is held to it too
FRAMES_PER_SECOND = 16  # what the API makes: a note's frame N starts at N / 16 s


class ReviewNote(models.Model):
    # No index of its own: notes_on_the_timeline begins with the generation.
    generation = models.ForeignKey(
        Generation, on_delete=models.CASCADE, related_name="notes", db_index=False
    )
    # None for a guest writing through a share link, or once the account is deleted:
    # author_name is what the page shows either way.
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    author_name = models.CharField(max_length=AUTHOR_NAME_MAX_CHARS)
    frame = models.PositiveIntegerField(null=True, blank=True)  # None on a reply
    end_frame = models.PositiveIntegerField(null=True, blank=True)  # a range's last frame
    body = models.CharField(max_length=NOTE_MAX_CHARS)
    parent = models.ForeignKey(
        "self", on_delete=models.CASCADE, null=True, blank=True, related_name="replies"
    )
    # Only on a thread's root: the whole thread is resolved or open.
    resolved_at = models.DateTimeField(null=True, blank=True)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    # Read on a thread's root: the whole thread is shown through any link that shares the video.
    shown_to_guests = models.BooleanField(default=False)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["frame", "created_at", "id"]
        indexes = [models.Index(fields=["generation", "frame"], name="notes_on_the_timeline")]
        constraints = [
            models.CheckConstraint(
                condition=Q(parent__isnull=True, frame__isnull=False)
                | Q(
                    parent__isnull=False,
                    frame__isnull=True,
                    end_frame__isnull=True,
                    resolved_at__isnull=True,
                ),
                name="note_frame_on_the_thread_only",
            ),
            models.CheckConstraint(
                condition=Q(end_frame__isnull=True) | Q(end_frame__gte=F("frame")),
                name="note_range_ends_after_it_starts",
            ),
            models.CheckConstraint(condition=~Q(body=""), name="note_has_a_body"),
            models.CheckConstraint(condition=~Q(author_name=""), name="note_has_an_author"),
        ]

    def __str__(self):
        where = f"frame {self.frame}" if self.parent_id is None else f"reply to {self.parent_id}"
        return f"#{self.generation_id} {where} by {self.author_name}"

    def get_absolute_url(self):
        return f"{self.generation.get_absolute_url()}#note-{self.pk}"

    @property
    def is_resolved(self):
        return self.resolved_at is not None

    @property
    def by_guest(self):
        """Written through a share link: no account, and shown to guests from the start (a
        teammate whose account was deleted also has no author, but wrote for the team)."""
        return self.author_id is None and self.shown_to_guests

    @property
    def is_range(self):
        return self.end_frame is not None and self.end_frame != self.frame

    @property
    def seconds(self):
        """When the note's first frame starts, in seconds (None on a reply)."""
        return None if self.frame is None else self.frame / FRAMES_PER_SECOND

    @property
    def end_seconds(self):
        return None if self.end_frame is None else self.end_frame / FRAMES_PER_SECOND
