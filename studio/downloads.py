"""Bulk download: the chosen videos and a manifest.json of how each was made, in one ZIP that
is written while it is sent, so a web worker's memory stays flat however many videos it holds.

zipfile writes to a stream it cannot seek by putting each member's sizes and CRC after its
bytes (a data descriptor); each chunk it writes is handed to the response at once. Videos go
in stored, not deflated: an MP4 is compressed already.
"""

import hashlib
import io
import json
import os
import tempfile
import zipfile
from contextlib import contextmanager
from dataclasses import dataclass, field

from django.core.files.storage import default_storage
from django.utils import timezone
from django.utils.text import slugify

from generations import media
from generations.models import Generation, Status

MAX_VIDEOS = 500
READ_CHUNK = 256 * 1024
MANIFEST_NAME = "manifest.json"
NOT_VISIBLE = "no such generation, or not one you may see"


class SelectionError(ValueError):
    """A selection that cannot make a ZIP; the message is for the person."""


def selected_ids(values):
    """The generation ids asked for, in order, each once: `ids=1&ids=2` or `ids=1,2`."""
    parts = [part.strip() for value in values for part in value.split(",") if part.strip()]
    for part in parts:
        if not (part.isascii() and part.isdigit()) or len(part) > 18:  # "²" is a digit too
            raise SelectionError(f"“{part[:40]}” is not a generation id: send whole numbers.")
    ids = list(dict.fromkeys(int(part) for part in parts))
    if not ids:
        raise SelectionError("Choose at least one video to download.")
    if len(ids) > MAX_VIDEOS:
        raise SelectionError(
            f"One ZIP holds at most {MAX_VIDEOS} videos; {len(ids)} were chosen. "
            "Download them in several parts."
        )
    return ids


@dataclass
class Selection:
    videos: list = field(default_factory=list)  # finished generations, in the order asked
    skipped: list = field(default_factory=list)  # {"id": ..., "why": ...}


def select_videos(user, ids):
    """What of ids goes in the ZIP, read through the one visibility rule; the rest and why."""
    rows = (
        Generation.objects.visible_to(user)
        .filter(pk__in=ids)
        .select_related("owner")
        .prefetch_related("loras")
    )
    by_id = {row.pk: row for row in rows}
    selection = Selection()
    for pk in ids:
        row = by_id.get(pk)
        if row is None:
            selection.skipped.append({"id": pk, "why": NOT_VISIBLE})
        elif row.status != Status.SUCCEEDED:
            why = f"not finished: {Status(row.status).label.lower()}"
            selection.skipped.append({"id": pk, "why": why})
        elif not row.video:
            selection.skipped.append({"id": pk, "why": "finished without a stored video"})
        else:
            selection.videos.append(row)
    return selection


def archive_name(selection):
    count = len(selection.videos)
    return f"wanstudio-{timezone.localdate():%Y-%m-%d}-{count}-video{'s' * (count != 1)}.zip"


def member_name(generation):
    """<id>-<slug of the prompt>.mp4, unique because the id is."""
    slug = slugify(generation.prompt)[:60].strip("-")
    return f"{generation.pk}-{slug}.mp4" if slug else f"{generation.pk}.mp4"


class ChunkSink(io.RawIOBase):
    """A write-only stream that cannot seek: what zipfile writes is collected until drained."""

    def __init__(self):
        super().__init__()
        self.chunks = []

    def writable(self):
        return True

    def write(self, data):
        self.chunks.append(bytes(data))
        return len(data)

    def drain(self):
        data = b"".join(self.chunks)
        self.chunks.clear()
        return data


def zip_chunks(selection, person):
    """The ZIP's bytes, a chunk at a time: each video, then the manifest (last, so it can say
    what each member's bytes hash to and which stored files were missing)."""
    sink = ChunkSink()
    entries = []
    skipped = list(selection.skipped)
    with zipfile.ZipFile(sink, "w") as archive:
        for generation in selection.videos:
            try:
                with video_to_send(generation) as (video, size, tagged):
                    info = member_info(member_name(generation), zip_time(generation))
                    info.file_size = size  # lets zipfile choose ZIP64 for a huge member
                    digest = hashlib.sha256()
                    with archive.open(info, "w") as member:
                        for chunk in iter(lambda: video.read(READ_CHUNK), b""):
                            member.write(chunk)
                            digest.update(chunk)
                            yield sink.drain()
            except FileNotFoundError:
                skipped.append({"id": generation.pk, "why": "its stored video is missing"})
                continue
            yield sink.drain()
            entries.append(manifest_entry(generation, info, digest.hexdigest(), tagged))
        manifest = {
            "made_by": "WanStudio",
            "made_at": timezone.now().isoformat(),
            "for": person.get_username(),
            "videos": entries,
            "skipped": skipped,
        }
        info = member_info(MANIFEST_NAME, timezone.localtime().timetuple()[:6])
        info.compress_type = zipfile.ZIP_DEFLATED
        archive.writestr(info, json.dumps(manifest, ensure_ascii=False, indent=2))
    yield sink.drain()


@contextmanager
def video_to_send(generation):
    """(file, size, carries its parameters) of the video to put in the ZIP: the stored file,
    or a tagged copy on disk if it was stored before videos carried their parameters."""
    with default_storage.open(generation.video.name, "rb") as stored:
        try:
            carries = media.read_parameters(stored) is not None
        except media.VideoError:
            carries = None  # not an MP4 PyAV reads: sent as it is stored
        if carries is False:
            with tempfile.NamedTemporaryFile(suffix=".mp4") as copy:
                if tagged_copy(stored, copy.name, generation):
                    with open(copy.name, "rb") as video:
                        yield video, os.path.getsize(copy.name), True
                    return
        stored.seek(0)
        yield stored, stored.size, bool(carries)


def tagged_copy(stored, path, generation):
    try:
        media.write_tagged(stored, path, media.video_parameters(generation))
    except media.VideoError:
        return False
    return True


def member_info(name, date_time):
    info = zipfile.ZipInfo(name, date_time)
    info.compress_type = zipfile.ZIP_STORED
    info.external_attr = 0o100644 << 16  # a plain file anyone may read once unpacked
    return info


def zip_time(generation):
    """The member's date in the ZIP: when the video was made (ZIP dates start in 1980)."""
    moment = timezone.localtime(generation.finished_at or generation.created_at)
    return max(moment.timetuple()[:6], (1980, 1, 1, 0, 0, 0))


def manifest_entry(generation, info, sha256, tagged):
    parameters = media.video_parameters(generation)
    del parameters[media.PARAMETERS_MARK]
    return {
        "id": parameters.pop("generation"),
        "file": info.filename,
        "bytes": info.file_size,
        "sha256": sha256,
        "carries_parameters": tagged,
        **parameters,
        "duration_seconds": generation.video_duration,
        "review_state": generation.review_state,
        "owner": generation.owner.get_username(),
        "created_at": generation.created_at.isoformat(),
        "finished_at": generation.finished_at.isoformat() if generation.finished_at else None,
    }
