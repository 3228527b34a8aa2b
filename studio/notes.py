"""What a player's notes section shows, on a video's page and on the review page: the timeline
of threads, the comment box with the frame it starts at, and a reply form's errors."""

from generations import notes
from generations.models import FRAMES_PER_SECOND


def notes_context(user, generation, place, note_form=None, reply_form=None):
    """The context of partials/review_notes.html; place is "detail" or "review", the page it
    is on (its forms come back there)."""
    timeline = notes.timeline_of(generation, user)
    note_form = note_form or notes.NoteForm(generation=generation)
    return {
        "generation": generation,
        "timeline": timeline,
        "note_form": note_form,
        "composer_frame": composer_frame(note_form, timeline.frames),
        "reply_form": reply_form,
        "notes_place": place,
        "fps": FRAMES_PER_SECOND,
    }


def composer_frame(form, frames):
    """The frame the comment box starts at: what was typed, if it is one, else the first."""
    try:
        frame = max(0, int(form["frame"].value()))
    except (TypeError, ValueError):
        return 0
    return min(frame, frames - 1) if frames else min(frame, notes.MAX_FRAME)
