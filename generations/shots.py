"""Shots: a clip and the extensions that continue it (parent → child → …, branches allowed).

An extension starts from one frame of its parent, decoded at the video's full size and kept as
a source picture the way an upload is (re-encoded, the same pixels stored once). The new
generation is made by the one submit path, GenerationForm, with the parent's settings.

A clip's versions are the other takes of it: the clips of its shot and re-rolls of the same
picture and prompt (Reuse settings with another seed).
"""

import io
import math
from contextlib import contextmanager
from dataclasses import dataclass

import av
from django.conf import settings
from django.core.files.storage import default_storage
from django.db.models import Q
from django.utils.text import slugify
from PIL import Image

from . import media
from .forms import initial_from
from .models import Generation, SourceImage, Status

# A time names the frame shown at that moment; this absorbs float noise in "5.0625 s".
TIME_SLACK = 1e-6
# What an extension may change from its parent's settings; a batch is not an extension.
OVERRIDABLE = (
    "prompt",
    "negative_prompt",
    "seed",
    "random_seed",
    "steps",
    "guidance_scale",
    "flow_shift",
    "enable_safety_checker",
    "fast_mode",
    "loras",
    "clarity",
    "orientation",
)


class FrameError(ValueError):
    """A frame that cannot be taken from the clip; the message is for the person."""


@dataclass(frozen=True)
class PickedFrame:
    index: int
    time: float  # seconds from the clip's first frame
    image: Image.Image  # RGB, the video's full size


@contextmanager
def open_clip(generation):
    """The generation's stored video, open in PyAV (from a folder or a bucket alike)."""
    if generation.status != Status.SUCCEEDED or not generation.video:
        raise FrameError(f"Generation #{generation.pk} has no finished video to take a frame from.")
    with default_storage.open(generation.video.name, "rb") as handle:
        try:
            with av.open(handle) as container:
                yield container
        except av.error.FFmpegError as error:
            raise FrameError(f"The video of #{generation.pk} cannot be read ({error}).") from error


def decode_frame(container, *, index=None, seconds=None):
    """The frame at index, or shown at seconds, or the last one; only one frame is kept."""
    if index is not None and index < 0:
        raise FrameError("A frame number starts at 0.")
    if seconds is not None and (not math.isfinite(seconds) or seconds < 0):
        raise FrameError("Give the frame's time as seconds from the start, 0 or more.")
    stream = container.streams.video[0]
    stream.thread_type = "AUTO"
    chosen = chosen_index = chosen_time = start = None
    step, count = 0.0, 0
    for count, frame in enumerate(container.decode(stream), start=1):
        time = float(frame.time or 0.0)
        start = time if start is None else start
        if seconds is not None and time - start > seconds + TIME_SLACK:
            break
        if chosen is not None:
            step = time - start - chosen_time
        chosen, chosen_index, chosen_time = frame, count - 1, time - start
        if index is not None and count - 1 == index:
            break
    if chosen is None:
        raise FrameError("The video has no frames.")
    if index is not None and chosen_index != index:
        raise FrameError(f"The clip has {count} frames (0 to {count - 1}): no frame {index}.")
    end = chosen_time + (step or 1 / float(stream.average_rate or 16))
    if seconds is not None and seconds > end + TIME_SLACK:
        raise FrameError(f"The clip lasts {end:.3f} s; {seconds:g} s is past its end.")
    return PickedFrame(chosen_index, chosen_time, chosen.to_image())


def take_frame(generation, *, index=None, seconds=None):
    with open_clip(generation) as container:
        return decode_frame(container, index=index, seconds=seconds)


def store_frame(generation, picked, user):
    """Keep the frame as a source picture, as an upload is kept: re-encoded, deduplicated."""
    lossless = io.BytesIO()
    picked.image.save(lossless, format="PNG")
    lossless.name = "frame.png"
    try:
        picture = media.reencode_picture(lossless, max(settings.UPLOAD_MAX_BYTES, lossless.tell()))
    except media.PictureError as error:
        raise FrameError(str(error)) from error
    name = f"{slugify(generation.prompt)[:40] or 'clip'}-{generation.pk}-frame-{picked.index}.jpg"
    return SourceImage.objects.store(picture, name, user)


def parse_frame(raw):
    """The API's `frame`: "last" (the default) or seconds as a number. (index, seconds)."""
    if raw in (None, "", "last"):
        return None, None
    if isinstance(raw, bool):
        raise FrameError('Send "last" or the frame\'s time in seconds.')
    try:
        return None, float(raw)
    except (TypeError, ValueError):
        raise FrameError('Send "last" or the frame\'s time in seconds.') from None


# --- the form an extension submits ---------------------------------------------------------


def extension_fields(parent, picture, picked):
    """The form fields that make a generation continue parent from the picked frame."""
    return {
        "source_image": picture.pk,
        "parent": parent.pk,
        "parent_frame_index": picked.index,
        "parent_frame_time": round(picked.time, 6),
    }


def extension_data(parent, picture, picked, overrides):
    """GenerationForm data: the parent's settings, the frame's picture, then the overrides."""
    data = {key: value for key, value in initial_from(parent).items() if value is not None}
    data.update(extension_fields(parent, picture, picked))
    if overrides.get("loras") not in (None, ""):  # the LoRA rows would otherwise be added
        data = {key: value for key, value in data.items() if not key.startswith("lora_")}
    if "seed" in overrides and "random_seed" not in overrides:
        data["random_seed"] = False
    data.update({key: overrides[key] for key in OVERRIDABLE if key in overrides})
    return data


def extension_initial(parent, query):
    """The Studio form's prefill for `/?reuse=<parent>&source_image=…&parent_frame_index=…`:
    the frame picker sends people there once it has stored their frame."""
    picture, index = query.get("source_image", ""), query.get("parent_frame_index", "")
    if not (picture.isascii() and picture.isdigit() and index.isascii() and index.isdigit()):
        return {}
    try:
        time = float(query.get("parent_frame_time", ""))
    except ValueError:
        return {}
    fields = {"parent": parent.pk, "parent_frame_index": int(index), "parent_frame_time": time}
    return {"source_image": int(picture), **fields}


# --- the chain ---------------------------------------------------------------------------


def ancestors(generation, user):
    """From the shot's first clip down to generation's parent, as far as user may see."""
    visible = Generation.objects.visible_to(user)
    chain, seen, parent_id = [], {generation.pk}, generation.parent_id
    while parent_id is not None and parent_id not in seen:
        parent = visible.filter(pk=parent_id).first()
        if parent is None:
            break
        chain.append(parent)
        seen.add(parent_id)
        parent_id = parent.parent_id
    return chain[::-1]


def shot_of(generation, user):
    """Every clip of the shot generation belongs to, as (clip, depth) in tree order: each clip
    followed by its extensions, oldest first. One query per generation of the tree's depth."""
    root = (ancestors(generation, user) or [generation])[0]
    visible = Generation.objects.visible_to(user).order_by("created_at", "id")
    children, level, seen = {}, [root.pk], {root.pk}
    while level:
        rows = [row for row in visible.filter(parent_id__in=level) if row.pk not in seen]
        for row in rows:
            children.setdefault(row.parent_id, []).append(row)
            seen.add(row.pk)
        level = [row.pk for row in rows]
    ordered, stack = [], [(root, 0)]
    while stack:
        clip, depth = stack.pop()
        ordered.append((clip, depth))
        stack.extend((child, depth + 1) for child in reversed(children.get(clip.pk, [])))
    return ordered


def chain_through(generation, user):
    """The line to play as one shot: its ancestors, generation, then its first finished
    extension, that one's first, and so on."""
    chain = [*ancestors(generation, user), generation]
    visible = Generation.objects.visible_to(user).filter(status=Status.SUCCEEDED)
    seen = {clip.pk for clip in chain}
    while True:
        following = visible.filter(parent=chain[-1]).order_by("created_at", "id").first()
        if following is None or following.pk in seen:
            return chain
        chain.append(following)
        seen.add(following.pk)


# --- versions ------------------------------------------------------------------------------

VERSIONS_SHOWN = 12


def version_condition(generation, shot):
    """Other takes of what generation shows: the clips of its shot (as shot_of read it), re-rolls
    of the same picture and prompt, and other exports of the edit it is an export of."""
    same = Q(source_image_id=generation.source_image_id, prompt=generation.prompt)
    same |= Q(pk__in=[clip.pk for clip, _depth in shot])
    if generation.from_sequence_id is not None:
        same |= Q(from_sequence_id=generation.from_sequence_id)
    return same


def versions_of(generation, shot, user):
    """The versions user may see, generation among them, newest first: at most VERSIONS_SHOWN."""
    visible = Generation.objects.visible_to(user).filter(version_condition(generation, shot))
    return list(visible.select_related("owner").order_by("-created_at", "-id")[:VERSIONS_SHOWN])


def previous_version(generation, shot, user):
    """The newest finished version made before generation: what "compare with previous version"
    opens beside it."""
    earlier = Q(created_at__lt=generation.created_at) | Q(
        created_at=generation.created_at, pk__lt=generation.pk
    )
    visible = Generation.objects.visible_to(user).filter(version_condition(generation, shot))
    finished = visible.filter(earlier, status=Status.SUCCEEDED)
    return finished.order_by("-created_at", "-id").first()
