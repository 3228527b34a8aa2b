"""Sequences: the form that checks an edit, the plan of its frames, and the export.

The export streams: each clip is decoded one frame at a time, fitted to the sequence's frame and
encoded at once, so memory stays flat however many clips there are (a crossfade keeps two clips
open at once, never a list of frames). It is local work with PyAV and costs no API money.
"""

import logging
import tempfile
from dataclasses import dataclass
from fractions import Fraction
from itertools import islice
from pathlib import Path

import av
import av.filter
from django import forms
from django.core.files import File
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import transaction
from PIL import Image

from . import media
from .jobs import enqueue_export
from .models import (
    Ending,
    Fit,
    Generation,
    Sequence,
    Status,
    Transition,
    random_media_name,
)
from .shots import FrameError, open_clip

log = logging.getLogger(__name__)

MAX_CLIPS = 50
MAX_CROSSFADE_SECONDS = 2.0
DEFAULT_CROSSFADE_SECONDS = 0.5
FPS = 16  # what the API makes; clips are joined frame by frame at this rate
X264_OPTIONS = {"preset": "veryfast", "crf": "20"}
# A boomerang's way back is decoded from a near-lossless copy, a key frame every STORE_GROUP
# frames and no B-frames, so reading it backwards holds one group at a time.
STORE_GROUP = 16
STORE_OPTIONS = {"preset": "ultrafast", "crf": "8", "g": str(STORE_GROUP), "bf": "0"}
# Motion-compensated interpolation when the ffmpeg inside PyAV has it, else frame blending.
INTERPOLATION = "minterpolate"
INTERPOLATION_OPTIONS = "fps=32:mi_mode=mci"
# A clip's end may sit up to half a frame past the duration the container reports.
END_SLACK = 1 / (2 * FPS)


class ExportError(ValueError):
    """An edit that cannot be rendered; the message is for the person."""


# --- the edit ------------------------------------------------------------------------------


class SequenceForm(forms.Form):
    """One validation for the editor page and `POST /api/sequences/`."""

    title = forms.CharField(max_length=200, required=False)
    clips = forms.JSONField(
        error_messages={"required": "A sequence needs at least one clip."},
        help_text='A list of {"generation": id, "in": seconds, "out": seconds}.',
    )
    transition = forms.ChoiceField(choices=Transition.choices, required=False)
    crossfade_seconds = forms.FloatField(
        required=False, min_value=0.0, max_value=MAX_CROSSFADE_SECONDS
    )
    clarity = forms.ChoiceField(choices=[("480p", "480p"), ("720p", "720p")], required=False)
    orientation = forms.ChoiceField(
        choices=[("landscape", "Landscape"), ("portrait", "Portrait")], required=False
    )
    fit = forms.ChoiceField(choices=Fit.choices, required=False)
    double_frame_rate = forms.BooleanField(required=False)
    ending = forms.ChoiceField(choices=Ending.choices, required=False)

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user

    def clean_clips(self):
        items = self.cleaned_data["clips"]
        if not isinstance(items, list):
            raise forms.ValidationError('Send the clips as a list of {"generation": id, …}.')
        if not items:
            raise forms.ValidationError("A sequence needs at least one clip.")
        if len(items) > MAX_CLIPS:
            raise forms.ValidationError(f"A sequence holds at most {MAX_CLIPS} clips.")
        if not all(isinstance(item, dict) for item in items):
            raise forms.ValidationError('Each clip is an object: {"generation": id, …}.')
        ids = [whole_number(item.get("generation")) for item in items]
        found = Generation.objects.visible_to(self.user).in_bulk([pk for pk in ids if pk])
        return [
            self.clean_clip(number, item, found.get(pk))
            for number, (item, pk) in enumerate(zip(items, ids, strict=True), start=1)
        ]

    def clean_clip(self, number, item, generation):
        name = f"Clip {number}"
        if generation is None:
            raise forms.ValidationError(
                f"{name}: there is no generation #{item.get('generation')} you may see."
            )
        if generation.status != Status.SUCCEEDED or not generation.video:
            raise forms.ValidationError(
                f"{name}: generation #{generation.pk} has no finished video "
                f"({generation.get_status_display().lower()}); only finished clips can be cut."
            )
        duration = generation.video_duration or 0.0
        in_point = seconds_value(item.get("in"), f"{name}: the in point", 0.0)
        out_point = seconds_value(item.get("out"), f"{name}: the out point", None)
        end = duration if out_point is None else out_point
        if out_point is not None and duration and out_point > duration + END_SLACK:
            raise forms.ValidationError(
                f"{name}: the out point ({out_point:g} s) is past the clip's end ({duration:g} s)."
            )
        if in_point >= end:
            raise forms.ValidationError(
                f"{name}: the in point ({in_point:g} s) must be before the out point ({end:g} s)."
            )
        transition = item.get("transition") or None
        if transition not in (None, *Transition.values):
            raise forms.ValidationError(f'{name}: the transition is "cut" or "crossfade".')
        fade = item.get("crossfade_seconds")
        if fade is not None:
            fade = seconds_value(fade, f"{name}: the crossfade", 0.0)
            if fade > MAX_CROSSFADE_SECONDS:
                raise forms.ValidationError(
                    f"{name}: a crossfade lasts at most {MAX_CROSSFADE_SECONDS:g} s."
                )
        return {
            "generation": generation,
            "in_point": in_point,
            "out_point": out_point,
            "transition": transition,
            "crossfade_seconds": fade,
            "length": end - in_point,
        }

    def clean(self):
        data = super().clean()
        clips = data.get("clips")
        if clips and "clips" not in self.errors:
            self.resolve_transitions(clips, data)
        return data

    def resolve_transitions(self, clips, data):
        """Each clip's transition to the next: its own, else cut after a clip that the next
        one extends (a seamless join), else the sequence's. The last clip has none."""
        default = data.get("transition") or Transition.CUT
        default_fade = data.get("crossfade_seconds")
        if default_fade is None:
            default_fade = DEFAULT_CROSSFADE_SECONDS
        for clip, following in zip(clips, [*clips[1:], None], strict=True):
            chosen = clip["transition"]
            if following is None:
                chosen = Transition.CUT
            elif chosen is None:
                continues = following["generation"].parent_id == clip["generation"].pk
                chosen = Transition.CUT if continues else default
            fade = clip["crossfade_seconds"]
            clip["transition"] = chosen
            clip["crossfade_seconds"] = (
                (default_fade if fade is None else fade) if chosen == Transition.CROSSFADE else 0.0
            )
        fades_in = 0.0
        for number, clip in enumerate(clips, start=1):
            fades = fades_in + clip["crossfade_seconds"]
            if fades > clip["length"] + END_SLACK:
                self.add_error(
                    "crossfade_seconds",
                    f"Clip {number} lasts {clip['length']:.2f} s once trimmed; its crossfades "
                    f"take {fades:.2f} s. Shorten them or trim less.",
                )
                return
            fades_in = clip["crossfade_seconds"]

    def save(self, owner, sequence=None):
        """Create the sequence (or replace an existing one's edit). Settings the request left
        out keep their value; a new sequence follows its first clip's orientation."""
        data = self.cleaned_data
        clips = data["clips"]
        if sequence is None:
            first = clips[0]["generation"]
            sequence = Sequence(
                owner=owner, orientation="portrait" if first.height > first.width else "landscape"
            )
        for field in ("title", "clarity", "orientation", "fit", "ending"):
            if data.get(field):
                setattr(sequence, field, data[field])
        if "double_frame_rate" in self.data:
            sequence.double_frame_rate = data["double_frame_rate"]
        with transaction.atomic():
            sequence.save()
            sequence.replace_clips({key: clip[key] for key in CLIP_FIELDS} for clip in clips)
        return sequence


CLIP_FIELDS = ("generation", "in_point", "out_point", "transition", "crossfade_seconds")


# The largest id a row can have: a signed 64-bit integer.
MAX_ROW_ID = 2**63 - 1


def whole_number(raw):
    if isinstance(raw, bool):
        return None
    if isinstance(raw, int) or (isinstance(raw, str) and raw.isascii() and raw.isdigit()):
        number = int(raw)
        return number if 0 < number <= MAX_ROW_ID else None  # SQLite cannot look up more
    return None


def seconds_value(raw, what, default):
    if raw in (None, ""):
        return default
    try:
        value = float(raw)
    except (TypeError, ValueError):
        raise forms.ValidationError(f"{what} is not a number of seconds.") from None
    if isinstance(raw, bool) or not 0 <= value < float("inf"):
        raise forms.ValidationError(f"{what} must be 0 seconds or more.")
    return value


def start_export(sequence):
    """Queue the export job unless one waits or runs already; False if it cannot start."""
    if not sequence.clips.exists():
        raise ExportError("The sequence has no clips left to export.")
    if not sequence.request_export():
        return False
    enqueue_export(sequence.pk)
    return True


# --- the plan: which frames of which clip ----------------------------------------------------


@dataclass
class ClipPlan:
    generation: Generation
    first: int  # the first frame used
    end: int  # one past the last frame used
    fade_in: int = 0  # frames blended with the previous clip's last ones
    fade_out: int = 0

    @property
    def count(self):
        return self.end - self.first


def plan_of(sequence):
    """Each clip's frames, from the stored files (frame counts and rates), with the repeated
    frame of a seamless extension dropped and each crossfade's frames counted."""
    plans = []
    clips = list(sequence.clips.select_related("generation"))
    if not clips:
        raise ExportError("The sequence has no clips.")
    previous = previous_clip = None
    for clip in clips:
        frames, fps = clip_frame_count(clip.generation)
        first = min(frames, max(0, round(clip.in_point * fps)))
        end = frames if clip.out_point is None else min(frames, round(clip.out_point * fps))
        plan = ClipPlan(clip.generation, first, end)
        if previous is not None:
            joined(previous, plan, previous_clip)
        if plan.count <= 0:
            raise ExportError(f"Clip #{clip.generation_id} has no frames between its in and out.")
        plans.append(plan)
        previous, previous_clip = plan, clip
    return plans


def joined(previous, plan, previous_clip):
    """Set up the join of two clips: drop a repeated frame, or share the crossfade's frames."""
    child = plan.generation
    repeats = (
        child.parent_id == previous.generation.pk
        and child.parent_frame_index == previous.end - 1
        and plan.first == 0
    )
    if previous_clip.transition == Transition.CUT:
        if repeats:  # the child's first frame is the parent's last one
            plan.first = 1
        return
    wanted = round(previous_clip.crossfade_seconds * FPS)
    shared = max(0, min(wanted, previous.count - previous.fade_in, plan.count))
    previous.fade_out = plan.fade_in = shared


def clip_frame_count(generation):
    """(frames, fps) of a stored clip, from its header (counted by packets if it has none)."""
    with open_clip(generation) as container:
        stream = container.streams.video[0]
        fps = float(stream.average_rate or FPS)
        frames = stream.frames or sum(1 for packet in container.demux(stream) if packet.size)
    return frames, fps


def frame_count(plans, double_frame_rate=False):
    single = sum(plan.count - plan.fade_in for plan in plans)
    return single * 2 if double_frame_rate else single


# --- rendering ------------------------------------------------------------------------------


def fit_frame(frame, size, fit):
    """The decoded frame scaled into size: whole with black bars, or filling it and cropped."""
    width, height = size
    scale = (min if fit == Fit.LETTERBOX else max)(width / frame.width, height / frame.height)
    scaled = (max(2, round(frame.width * scale)), max(2, round(frame.height * scale)))
    picture = frame.reformat(width=scaled[0], height=scaled[1], format="rgb24").to_image()
    if scaled == size:
        return picture
    if fit == Fit.LETTERBOX:
        canvas = Image.new("RGB", size)
        canvas.paste(picture, ((width - scaled[0]) // 2, (height - scaled[1]) // 2))
        return canvas
    left, top = (scaled[0] - width) // 2, (scaled[1] - height) // 2
    return picture.crop((left, top, left + width, top + height))


def clip_frames(plan, size, fit):
    """The clip's frames [first, end), fitted, decoded one at a time."""
    with open_clip(plan.generation) as container:
        stream = container.streams.video[0]
        stream.thread_type = "AUTO"
        for index, frame in enumerate(container.decode(stream)):
            if index >= plan.end:
                return
            if index >= plan.first:
                yield fit_frame(frame, size, fit)


def timeline(plans, size, fit):
    """Every frame of the edit in order. At a crossfade the previous clip's decoder is still
    open on its last frames, which are blended with the new clip's first ones."""
    tail = None
    for plan in plans:
        frames = clip_frames(plan, size, fit)
        for step in range(1, plan.fade_in + 1):
            yield Image.blend(next(tail), next(frames), step / (plan.fade_in + 1))
        if tail is not None:
            tail.close()
        yield from islice(frames, plan.count - plan.fade_in - plan.fade_out)
        tail = frames
    if tail is not None:
        tail.close()


def doubled(frames, size, total):
    """Twice the frames at twice the rate: interpolated by minterpolate if the ffmpeg inside
    PyAV has it, else blended; always exactly 2 × total, the last frame held to fill."""
    made = 0
    last = None
    source = interpolated(frames, size) if INTERPOLATION in av.filter.filters_available else None
    for frame in source or blended(frames):
        if made == 2 * total:
            break
        made += 1
        last = frame
        yield frame
    while last is not None and made < 2 * total:
        made += 1
        yield last


def blended(frames):
    previous = None
    for frame in frames:
        if previous is not None:
            yield previous
            yield Image.blend(previous, frame, 0.5)
        previous = frame
    if previous is not None:
        yield previous
        yield previous


def interpolated(frames, size):
    graph = av.filter.Graph()
    source = graph.add_buffer(
        width=size[0], height=size[1], format="rgb24", time_base=Fraction(1, FPS)
    )
    interpolate = graph.add(INTERPOLATION, INTERPOLATION_OPTIONS)
    sink = graph.add("buffersink")
    source.link_to(interpolate)
    interpolate.link_to(sink)
    graph.configure()
    for index, picture in enumerate(frames):
        frame = av.VideoFrame.from_image(picture)
        frame.pts, frame.time_base = index, Fraction(1, FPS)
        graph.vpush(frame)
        yield from pulled(graph)
    graph.vpush(None)
    yield from pulled(graph)


def pulled(graph):
    while True:
        try:
            yield graph.vpull().to_image()
        except (av.error.BlockingIOError, av.error.EOFError):
            return


class Mp4Writer:
    """An H.264 MP4 (yuv420p, +faststart: browsers start playing at once) written one picture
    at a time."""

    def __init__(self, path, size, fps, options=X264_OPTIONS):
        self.container = av.open(str(path), "w", format="mp4", options={"movflags": "+faststart"})
        self.stream = self.container.add_stream("libx264", rate=fps, options=options)
        self.stream.width, self.stream.height = size
        self.stream.pix_fmt = "yuv420p"
        self.written = 0

    def write(self, picture):
        frame = av.VideoFrame.from_image(picture)
        frame.pts = self.written
        self.container.mux(self.stream.encode(frame))
        self.written += 1

    def __enter__(self):
        return self

    def __exit__(self, kind, error, trace):
        try:
            if kind is None:
                self.container.mux(self.stream.encode(None))
        finally:
            self.container.close()


def render(sequence, path, on_progress=lambda percent: None):
    """Write the sequence's MP4 to path; returns its frame count."""
    plans = plan_of(sequence)
    total = frame_count(plans)
    frames = timeline(plans, sequence.size, sequence.fit)
    fps = FPS
    if sequence.double_frame_rate:
        frames, total, fps = doubled(frames, sequence.size, total), total * 2, FPS * 2
    if sequence.ending == Ending.BOOMERANG and total > 2:
        store = Path(path).with_name("forward.mp4")
        frames, total = boomerang(frames, sequence.size, fps, store), total * 2 - 2
    reported = -1
    with Mp4Writer(path, sequence.size, fps) as output:
        for picture in frames:
            output.write(picture)
            percent = min(99, output.written * 100 // max(total, 1))
            if percent != reported:
                on_progress(percent)
                reported = percent
    return output.written


def boomerang(frames, size, fps, store_path):
    """The frames forward, then backward without repeating either end, so it loops. The way
    back is read from a copy written on the way out, one group of pictures at a time, so
    memory stays flat however long the edit is."""
    with Mp4Writer(store_path, size, fps, options=STORE_OPTIONS) as store:
        for picture in frames:
            store.write(picture)
            yield picture
    backwards = reversed_frames(store_path, store.written, fps)
    next(backwards, None)  # the last frame, just shown
    yield from islice(backwards, store.written - 2)  # down to the second: the first starts the loop


def reversed_frames(path, count, fps):
    """The file's pictures last to first: seek to each group's key frame, decode the group,
    hand it out reversed."""
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        start_pts = stream.start_time or 0
        for first in range((count - 1) // STORE_GROUP * STORE_GROUP, -1, -STORE_GROUP):
            target = start_pts + int(first / fps / stream.time_base)
            container.seek(target, stream=stream, backward=True)
            group = []
            for frame in container.decode(stream):
                index = round(float((frame.pts - start_pts) * stream.time_base) * fps)
                if index >= first + STORE_GROUP:
                    break
                if index >= first:
                    group.append(frame.to_image())
            yield from reversed(group)


def export(sequence_id):
    """The export job: render, store with sha256 and poster, then `succeeded` (or `failed`)."""
    sequence = Sequence.objects.filter(pk=sequence_id).first()
    if sequence is None or not sequence.claim_for_render():
        return
    try:
        with tempfile.TemporaryDirectory(prefix="sequence-") as folder:
            path = Path(folder) / "sequence.mp4"
            frames = render(sequence, path, sequence.record_progress)
            store_export(sequence, path, frames)
    except (ExportError, FrameError, media.VideoError) as error:
        sequence.mark_failed(str(error))
    except Exception as error:  # a job that raises is retried; this export would fail again
        log.exception("Export of sequence %s failed", sequence_id)
        sequence.mark_failed(f"The export stopped: {error}")


def store_export(sequence, path, frames):
    info = media.probe_video(path)
    poster = media.poster_jpeg(path)
    # The editor's files are replaced by the next export; the gallery item keeps its own copy.
    files = {}
    for key, folder in (("video", "sequences"), ("item_video", "videos")):
        with open(path, "rb") as video_file:
            files[key] = default_storage.save(random_media_name(folder, "mp4"), File(video_file))
    for key in ("poster", "item_poster"):
        files[key] = default_storage.save(random_media_name("posters", "jpg"), ContentFile(poster))
    stored = sequence.mark_exported(
        files=files,
        duration=info.duration,
        frames=frames,
        size=path.stat().st_size,
        sha256=media.file_sha256(path),
    )
    if not stored:  # deleted or re-queued meanwhile: keep nothing of this run
        for name in files.values():
            default_storage.delete(name)
