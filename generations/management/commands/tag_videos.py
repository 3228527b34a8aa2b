"""Tag the videos stored before every MP4 carried its parameters: run once after upgrading.

Each untagged video is copied with its parameters in its `comment` tag and stored under a new
name: a stored file never changes under its name (ETags and players in the middle of a video
rely on that). The row moves to the new file, its size and its sha256 in one compare-and-set
UPDATE; the old file is deleted once that has committed. Running it again finds nothing to do.
"""

import os
import tempfile
from collections import Counter

from django.core.files import File
from django.core.files.storage import default_storage
from django.core.management.base import BaseCommand
from django.db import transaction

from generations import media
from generations.models import Generation, Status, random_media_name

TAGGED = "tagged"
ALREADY_TAGGED = "already tagged"
MISSING = "stored video missing"
UNREADABLE = "not an MP4 that can be remuxed"
CHANGED = "changed meanwhile (left for the next run)"


class Command(BaseCommand):
    help = "Write each stored video's parameters into its MP4 (the ones stored before they were)."

    def handle(self, *args, **options):
        rows = (
            Generation.objects.filter(status=Status.SUCCEEDED, from_sequence__isnull=True)
            .exclude(video="")
            .prefetch_related("loras")
            .order_by("pk")
        )
        outcomes = Counter(tag_stored_video(row) for row in rows.iterator(chunk_size=200))
        summary = ", ".join(f"{count} {outcome}" for outcome, count in outcomes.items())
        self.stdout.write(summary or "No stored videos.")


def tag_stored_video(generation):
    """Tag one generation's stored video if it is not yet; returns what happened."""
    old_name = generation.video.name
    with tempfile.TemporaryDirectory() as folder:
        path = os.path.join(folder, "tagged.mp4")
        try:
            with default_storage.open(old_name, "rb") as stored:
                if media.read_parameters(stored) is not None:
                    return ALREADY_TAGGED
                media.write_tagged(stored, path, media.video_parameters(generation))
        except FileNotFoundError:
            return MISSING
        except media.VideoError:
            return UNREADABLE
        size, sha256 = os.path.getsize(path), media.file_sha256(path)
        with open(path, "rb") as tagged:
            new_name = default_storage.save(random_media_name("videos", "mp4"), File(tagged))
    with transaction.atomic():
        swapped = Generation.objects.filter(pk=generation.pk, video=old_name).update(
            video=new_name, video_bytes=size, video_sha256=sha256
        )
        if swapped:
            transaction.on_commit(lambda: default_storage.delete(old_name))
    if not swapped:  # deleted, or given another video, while this one was being tagged
        default_storage.delete(new_name)
        return CHANGED
    return TAGGED
