"""Sequences: an edit of finished clips, each trimmed, joined by cuts or crossfades, and its export.

The export is local work (PyAV on a worker), never an API task: it costs nothing. The Sequence
row is its job record, as a Generation row is for a paid task; moves between export states are
compare-and-set UPDATEs, so a redelivered job never renders twice at once.
"""

from django.conf import settings
from django.db import models, transaction
from django.db.models import Q
from django.urls import get_script_prefix
from django.utils import timezone

from .generation import Generation, GenerationEvent, Status


class Transition(models.TextChoices):
    CUT = "cut", "Cut"
    CROSSFADE = "crossfade", "Crossfade"


class Fit(models.TextChoices):
    LETTERBOX = "letterbox", "Letterbox (keep the whole picture)"
    CROP = "crop", "Crop (fill the frame)"


class Ending(models.TextChoices):
    ONCE = "once", "Play once"
    BOOMERANG = "boomerang", "Boomerang (forward, then backward)"


class ExportStatus(models.TextChoices):
    DRAFT = "draft", "Not exported"
    QUEUED = "queued", "Waiting for a worker"
    RENDERING = "rendering", "Rendering"
    SUCCEEDED = "succeeded", "Exported"
    FAILED = "failed", "Export failed"


EXPORTING_STATUSES = (ExportStatus.QUEUED, ExportStatus.RENDERING)
# The sequence's frame for each clarity and orientation, the API's own sizes.
SEQUENCE_SIZES = {
    ("480p", "landscape"): (832, 480),
    ("480p", "portrait"): (480, 832),
    ("720p", "landscape"): (1280, 720),
    ("720p", "portrait"): (720, 1280),
}


class SequenceQuerySet(models.QuerySet):
    def visible_to(self, user):
        """A sequence shows its clips: whoever may not see one of them may not see it."""
        return self.exclude(clips__generation__in=Generation.objects.hidden_from(user))


class Sequence(models.Model):
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="sequences"
    )
    title = models.CharField(max_length=200, blank=True)
    clarity = models.CharField(
        max_length=5, choices=[("480p", "480p"), ("720p", "720p")], default="480p"
    )
    orientation = models.CharField(
        max_length=10,
        choices=[("landscape", "Landscape"), ("portrait", "Portrait")],
        default="landscape",
    )
    fit = models.CharField(max_length=10, choices=Fit.choices, default=Fit.LETTERBOX)
    # 16 → 32 fps by motion interpolation (or frame blending when ffmpeg lacks minterpolate).
    double_frame_rate = models.BooleanField(default=False)
    ending = models.CharField(max_length=10, choices=Ending.choices, default=Ending.ONCE)

    status = models.CharField(
        max_length=10, choices=ExportStatus.choices, default=ExportStatus.DRAFT, db_index=True
    )
    progress_percent = models.PositiveSmallIntegerField(null=True, blank=True)
    failure_reason = models.TextField(blank=True)

    video = models.FileField(blank=True, db_index=True)
    poster = models.FileField(blank=True, db_index=True)
    video_duration = models.FloatField(null=True, blank=True)
    video_frames = models.PositiveIntegerField(null=True, blank=True)
    video_bytes = models.BigIntegerField(null=True, blank=True)
    video_sha256 = models.CharField(max_length=64, blank=True)

    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    updated_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)

    objects = SequenceQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self):
        return self.title or f"Sequence {self.pk}"

    def get_absolute_url(self):
        return f"{get_script_prefix()}sequences/{self.pk}/"

    def get_video_url(self):
        return f"{get_script_prefix()}sequences/{self.pk}/video.mp4"

    def get_poster_url(self):
        return f"{get_script_prefix()}sequences/{self.pk}/poster.jpg"

    @property
    def size(self):
        return SEQUENCE_SIZES[(self.clarity, self.orientation)]

    @property
    def is_exporting(self):
        return self.status in EXPORTING_STATUSES

    def latest_export(self, user):
        """The newest export published to the gallery that user may see, or None."""
        return self.exports.visible_to(user).only("pk").first()

    def may_edit(self, user):
        return self.owner_id == user.pk or user.has_perm("generations.change_generation")

    def replace_clips(self, clips):
        """clips: dicts of generation, in_point, out_point, transition, crossfade_seconds."""
        with transaction.atomic():
            self.clips.all().delete()
            SequenceClip.objects.bulk_create(
                SequenceClip(sequence=self, position=position, **clip)
                for position, clip in enumerate(clips, start=1)
            )
            Sequence.objects.filter(pk=self.pk).update(updated_at=timezone.now())

    # --- export transitions ------------------------------------------------------------

    def _move(self, sources, target, **fields):
        moved = Sequence.objects.filter(pk=self.pk, status__in=sources).update(
            status=target, **fields
        )
        self.refresh_from_db()
        return moved == 1

    def request_export(self):
        """Queue an export unless one is already waiting or rendering."""
        return self._move(
            [ExportStatus.DRAFT, ExportStatus.SUCCEEDED, ExportStatus.FAILED],
            ExportStatus.QUEUED,
            progress_percent=0,
            failure_reason="",
        )

    def claim_for_render(self):
        """queued → rendering. From rendering too: django-q2 hands a job on only once its
        worker died or timed out, and that render is over."""
        return self._move(EXPORTING_STATUSES, ExportStatus.RENDERING, progress_percent=0)

    def record_progress(self, percent):
        Sequence.objects.filter(pk=self.pk, status=ExportStatus.RENDERING).update(
            progress_percent=percent
        )

    def mark_exported(self, *, files, duration, frames, size, sha256):
        """rendering → succeeded, and the export published to the gallery in one transaction.
        files: stored names of the editor's video and poster and the gallery item's own copies
        (`video`, `poster`, `item_video`, `item_poster`). The previous export's editor files are
        deleted once committed; its gallery item stays."""
        old = [name for name in (self.video.name, self.poster.name) if name]
        with transaction.atomic():
            moved = self._move(
                [ExportStatus.RENDERING],
                ExportStatus.SUCCEEDED,
                video=files["video"],
                poster=files["poster"],
                video_duration=duration,
                video_frames=frames,
                video_bytes=size,
                video_sha256=sha256,
                progress_percent=100,
                finished_at=timezone.now(),
            )
            if moved:
                self.publish(files["item_video"], files["item_poster"])
        if moved:
            storage = self.video.storage
            transaction.on_commit(lambda: [storage.delete(name) for name in old])
        return moved

    def publish(self, video_name, poster_name):
        """The export as a finished gallery item: favourited, reviewed, compared and downloaded
        like any generation. It starts from the first clip's picture and is named by the title."""
        first = self.clips.select_related("generation").first()
        width, height = self.size
        now = timezone.now()
        item = Generation.objects.create(
            owner=self.owner,
            source_image_id=first.generation.source_image_id,
            prompt=str(self),
            width=width,
            height=height,
            status=Status.SUCCEEDED,
            status_changed_at=now,
            finished_at=now,
            video=video_name,
            poster=poster_name,
            video_duration=self.video_duration,
            video_width=width,
            video_height=height,
            video_bytes=self.video_bytes,
            video_sha256=self.video_sha256,
            from_sequence=self,
        )
        GenerationEvent.objects.create(
            generation=item, status=Status.SUCCEEDED, note=f"exported from {self}"
        )
        return item

    def mark_failed(self, why):
        return self._move(
            EXPORTING_STATUSES, ExportStatus.FAILED, failure_reason=why, finished_at=timezone.now()
        )


class SequenceClip(models.Model):
    """One clip of the edit, trimmed to [in_point, out_point), and the transition to the next."""

    sequence = models.ForeignKey(Sequence, on_delete=models.CASCADE, related_name="clips")
    position = models.PositiveSmallIntegerField()
    # A deleted generation leaves the edit; an export already made keeps its frames.
    generation = models.ForeignKey(Generation, on_delete=models.CASCADE, related_name="+")
    in_point = models.FloatField(default=0.0)
    out_point = models.FloatField(null=True, blank=True)  # None: to the clip's end
    transition = models.CharField(max_length=10, choices=Transition.choices, default=Transition.CUT)
    crossfade_seconds = models.FloatField(default=0.0)

    class Meta:
        ordering = ["position"]
        constraints = [
            models.UniqueConstraint(fields=["sequence", "position"], name="one_clip_per_slot"),
            models.CheckConstraint(
                condition=Q(out_point__isnull=True) | Q(out_point__gt=models.F("in_point")),
                name="clip_in_before_out",
            ),
        ]

    def __str__(self):
        return f"#{self.generation_id} [{self.in_point:g}, {self.out_point or 'end'}]"

    def as_item(self):
        """The clip as the API and the editor page write it."""
        return {
            "generation": self.generation_id,
            "in": self.in_point,
            "out": self.out_point,
            "transition": self.transition,
            "crossfade_seconds": self.crossfade_seconds,
        }
