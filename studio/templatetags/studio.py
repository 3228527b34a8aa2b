"""Template tags for pieces every page shows."""

from datetime import timedelta

from django import template
from django.utils import timezone
from django.utils.timesince import timesince

from generations import failures
from generations.models import FRAMES_PER_SECOND, Status

register = template.Library()

# A reason kept on these rows is history, not news: the video exists, or a person stopped it.
FAILURE_IS_HISTORY = (Status.SUCCEEDED, Status.CANCELED)


@register.inclusion_tag("studio/partials/main_nav.html", takes_context=True)
def main_nav(context):
    """The main navigation's links for the person viewing the page."""
    user = context["user"]
    return {
        "can_review": user.has_perm("generations.review_generation"),
        "can_manage": user.has_perm("generations.manage_studio"),
        "is_staff": user.is_staff,
        "username": user.get_username(),
        "csrf_token": context.get("csrf_token"),
    }


@register.filter
def failure(generation):
    """Why a generation failed or waits, as failures.explain() puts it; None when it did not.

    {% with failure=generation|failure %}{% if failure %}{{ failure.summary }}…{% endif %}
    """
    if not generation.failure_reason or generation.status in FAILURE_IS_HISTORY:
        return None
    return failures.explain(generation.failure_reason)


@register.filter
def aspect(generation):
    """The CSS class that gives a tile the video's own shape before anything has loaded."""
    width = generation.video_width or generation.width  # what was delivered, else asked
    height = generation.video_height or generation.height
    return "portrait" if height > width else "landscape"


@register.filter
def lora_name(path):
    """A LoRA chip's short name: the last part of "Owner/Name" or of a URL."""
    return path.rstrip("/").rsplit("/", 1)[-1][:24]


@register.inclusion_tag("studio/partials/progress.html")
def progress_bar(generation):
    """A running generation's progress: the API's last answer moved on by its eta, and the
    seconds the eta still gives, from which the page keeps moving the bar between polls."""
    shown = generation.estimated_progress or 0
    seconds_left = None
    if generation.eta_seconds and generation.progress_at and shown < 99:
        elapsed = (timezone.now() - generation.progress_at).total_seconds()
        seconds_left = max(1, round(generation.eta_seconds - elapsed))
    return {"generation": generation, "shown": shown, "seconds_left": seconds_left}


@register.filter
def frame_time(frame):
    """A note's frame as the time it starts: "2.50 s" (16 fps)."""
    return "" if frame is None else f"{frame / FRAMES_PER_SECOND:.2f} s"


@register.filter
def written_ago(moment):
    """ "just now", or "5 minutes ago": when a note was written."""
    if timezone.now() - moment < timedelta(minutes=1):
        return "just now"
    return f"{timesince(moment)} ago"


@register.filter
def note_time(note):
    """When a note is: "2.50 s", or a range's "1.00–1.50 s"."""
    if not note.is_range:
        return frame_time(note.frame)
    return f"{note.frame / FRAMES_PER_SECOND:.2f}–{frame_time(note.end_frame)}"


@register.filter
def timeline_percent(frame, frames):
    """Where frame sits on a timeline of `frames` frames, as an SVG/CSS length: "49.38%".
    Written with a dot whatever the locale, and kept within the bar."""
    if frame is None or not frames:
        return "0%"
    return f"{min(100.0, max(0.0, 100 * frame / frames)):.2f}%"


@register.filter
def timeline_span(note, frames):
    """How wide a range note's band is on the timeline, as a percentage of the bar."""
    if note.end_frame is None or not frames:
        return "0%"
    return f"{min(100.0, max(0.0, 100 * (note.end_frame - note.frame) / frames)):.2f}%"
