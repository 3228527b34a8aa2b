"""The studio's domain: pictures, presets and the Generation state machine.

A Generation row is the job record. Transitions are compare-and-set UPDATEs, so two
workers (or a redelivered job) can never both move a row out of the same state.
"""

import hashlib

from django.conf import settings
from django.db import models, transaction
from django.db.models import Case, F, Q, Value, When
from django.urls import get_script_prefix, reverse
from django.utils import timezone

from .. import media, notify
from .ledger import LedgerEntry
from .library import LoraPreset, SourceImage
from .notification import EventKind


class Batch(models.Model):
    """Generations made by one submit of several prompts × seeds × LoRA scales."""

    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="batches"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at"]
        verbose_name_plural = "batches"

    def __str__(self):
        return f"Batch {self.pk}"

    def get_absolute_url(self):
        return reverse("studio:batch", args=[self.pk])


class Status(models.TextChoices):
    QUEUED = "queued", "Queued"
    SUBMITTING = "submitting", "Submitting"
    SUBMITTED = "submitted", "Submitted"
    PROCESSING = "processing", "Processing"
    DOWNLOADING = "downloading", "Downloading"
    SUCCEEDED = "succeeded", "Succeeded"
    FAILED = "failed", "Failed"
    NEEDS_ATTENTION = "needs_attention", "Needs attention"
    CANCELED = "canceled", "Canceled"


TERMINAL_STATUSES = (Status.SUCCEEDED, Status.FAILED, Status.CANCELED)
# States the API knows about: the poller follows these.
POLLED_STATUSES = (Status.SUBMITTED, Status.PROCESSING)
# Everything a person would call "still running".
ACTIVE_STATUSES = (
    Status.QUEUED,
    Status.SUBMITTING,
    Status.SUBMITTED,
    Status.PROCESSING,
    Status.DOWNLOADING,
)


# The API holds a paid task for these: deleting the row would orphan the task and its cost.
IN_FLIGHT_STATUSES = (
    Status.SUBMITTING,
    Status.SUBMITTED,
    Status.PROCESSING,
    Status.DOWNLOADING,
)
IN_FLIGHT_REFUSAL = (
    "The API is working on this generation's paid task, so it cannot be deleted now. "
    "Wait until it has finished or failed, then delete it."
)


def refuse_deleting_in_flight(sender, instance, **kwargs):
    """pre_delete: no path (page, admin, bulk action, a person's account) deletes a row whose
    paid task is in flight. The row is locked so a worker cannot claim it meanwhile."""
    in_flight = Generation.objects.select_for_update().filter(
        pk=instance.pk, status__in=IN_FLIGHT_STATUSES
    )
    if in_flight.exists():
        raise models.ProtectedError(IN_FLIGHT_REFUSAL, {instance})


def cascade_unless_in_flight(collector, field, sub_objs, using):
    """on_delete for a generation's owner: their finished work goes with them, a paid task in
    flight stops the deletion (the admin lists it as protected)."""
    in_flight = [row for row in sub_objs if row.status in IN_FLIGHT_STATUSES]
    if in_flight:
        raise models.ProtectedError(IN_FLIGHT_REFUSAL, set(in_flight))
    models.CASCADE(collector, field, sub_objs, using)


class ReviewState(models.TextChoices):
    PENDING = "pending", "Pending review"
    APPROVED = "approved", "Approved"
    # Not final: the owner is asked for another take (a note says what to change).
    CHANGES = "changes", "Changes requested"
    REJECTED = "rejected", "Rejected"
    FLAGGED = "flagged", "Flagged"


def hidden_condition(user):
    """Flagged outputs are hidden from the team, not from their owner, reviewers or admins.
    None: this person sees everything."""
    if user.has_perm("generations.view_flagged_generation"):
        return None
    return Q(review_state=ReviewState.FLAGGED) & ~Q(owner=user)


class GenerationQuerySet(models.QuerySet):
    def visible_to(self, user):
        """The one visibility rule: every page, file and API answer reads through it."""
        hidden = hidden_condition(user)
        return self if hidden is None else self.exclude(hidden)

    def hidden_from(self, user):
        """What visible_to leaves out, asked for directly (an index probe, not an anti-join)."""
        hidden = hidden_condition(user)
        return self.none() if hidden is None else self.filter(hidden)

    def in_live_queue(self, finished_since):
        """Work in flight or waiting for a person, newest first, plus what finished since."""
        rows = Generation.objects.order_by().values("pk")
        waiting = rows.filter(status__in=[*ACTIVE_STATUSES, Status.NEEDS_ATTENTION])
        landed = rows.filter(finished_at__gte=finished_since)
        # One id list read from the status and finished_at indexes. Asked as an OR, SQLite
        # walks every row newest first looking for the few that match: seconds at 1,000,000.
        return self.filter(pk__in=waiting.union(landed))

    def awaiting_review(self):
        return self.filter(status=Status.SUCCEEDED, review_state=ReviewState.PENDING)

    def create_queued(self, **fields):
        generation = self.create(status=Status.QUEUED, **fields)
        GenerationEvent.objects.create(generation=generation, status=Status.QUEUED)
        return generation

    def due_for_submit(self, now):
        return self.filter(status=Status.QUEUED, due_at__lte=now)

    def due_for_poll(self, now):
        return self.filter(status__in=POLLED_STATUSES, due_at__lte=now)

    def poll_now_for_webhook(self, token):
        """A callback came with this token: its generation, if in flight, is due for a poll now.
        Nothing else changes (the body is not trusted). One indexed UPDATE; False for a token
        no generation holds."""
        in_flight = Q(status__in=POLLED_STATUSES)
        due_now = Case(When(in_flight, then=Value(timezone.now())), default=F("due_at"))
        rows = self.filter(webhook_token_hash=webhook_token_hash(token))
        return rows.update(due_at=due_now) == 1


def webhook_token_hash(token):
    """Only the hash is stored: a database read does not yield working callback URLs."""
    return hashlib.sha256(token.encode()).hexdigest()


class Generation(models.Model):
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=cascade_unless_in_flight, related_name="generations"
    )
    source_image = models.ForeignKey(
        SourceImage, on_delete=models.PROTECT, related_name="generations"
    )

    # The API's parameters, by their API names, with the contract's defaults.
    prompt = models.TextField()
    negative_prompt = models.TextField(blank=True, default="")
    width = models.PositiveIntegerField(default=832)
    height = models.PositiveIntegerField(default=480)
    seed = models.BigIntegerField(default=-1)
    steps = models.PositiveSmallIntegerField(default=30)
    guidance_scale = models.FloatField(default=5.0)
    flow_shift = models.FloatField(default=5.0)
    enable_safety_checker = models.BooleanField(default=True)
    fast_mode = models.BooleanField(default=False)

    status = models.CharField(
        max_length=20, choices=Status.choices, default=Status.QUEUED, db_index=True
    )
    status_changed_at = models.DateTimeField(default=timezone.now)
    # When the pipeline should next act on this row: submit (queued) or poll (in flight).
    due_at = models.DateTimeField(default=timezone.now, db_index=True)
    api_task_id = models.CharField(max_length=128, unique=True, null=True, blank=True)
    progress_percent = models.PositiveSmallIntegerField(null=True, blank=True)
    eta_seconds = models.PositiveIntegerField(null=True, blank=True)
    # When progress_percent and eta_seconds were true: the start of the estimate between polls.
    progress_at = models.DateTimeField(null=True, blank=True)
    # sha256 of the secret in this task's webhook URL (None without webhooks). Indexed, not
    # unique: random tokens do not collide, and a unique column would make SQLite rebuild the
    # table (and drop the prompt search triggers of 0011).
    webhook_token_hash = models.CharField(max_length=64, null=True, blank=True, db_index=True)
    failure_reason = models.TextField(blank=True)
    reported_seed = models.BigIntegerField(null=True, blank=True)
    submit_attempts = models.PositiveIntegerField(default=0)
    poll_attempts = models.PositiveIntegerField(default=0)
    # Consecutive poll or download troubles since the last good answer.
    poll_failures = models.PositiveIntegerField(default=0)

    # Indexed: every media answer looks up which row holds the stored name.
    video = models.FileField(blank=True, db_index=True)
    poster = models.FileField(blank=True, db_index=True)
    video_duration = models.FloatField(null=True, blank=True)
    # What the API delivered: it keeps the picture's aspect, so 832×480 asked can be 736×544.
    video_width = models.PositiveIntegerField(null=True, blank=True)
    video_height = models.PositiveIntegerField(null=True, blank=True)
    video_bytes = models.BigIntegerField(null=True, blank=True)
    video_sha256 = models.CharField(max_length=64, blank=True)

    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    finished_at = models.DateTimeField(null=True, blank=True, db_index=True)

    # What the submit was expected to cost, from the price table when it was requested.
    estimated_cost = models.DecimalField(max_digits=9, decimal_places=4, null=True, blank=True)

    batch = models.ForeignKey(
        Batch, on_delete=models.SET_NULL, null=True, blank=True, related_name="generations"
    )
    # Where this one sits in its batch's grid: the LoRA scale it varied, if any.
    batch_lora_scale = models.FloatField(null=True, blank=True)

    review_state = models.CharField(
        max_length=10, choices=ReviewState.choices, default=ReviewState.PENDING, db_index=True
    )
    review_note = models.TextField(blank=True)
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    reviewed_at = models.DateTimeField(null=True, blank=True)

    # An extension continues its parent from one of its frames (shots.py reads the chain).
    parent = models.ForeignKey(
        "self", on_delete=models.SET_NULL, null=True, blank=True, related_name="extensions"
    )
    parent_frame_index = models.PositiveIntegerField(null=True, blank=True)
    parent_frame_time = models.FloatField(null=True, blank=True)

    # An export of a sequence, published to the gallery as a finished video of its own: no API
    # task, no charge. Each export is one; they outlive the edit and its later exports.
    from_sequence = models.ForeignKey(
        "Sequence", on_delete=models.SET_NULL, null=True, blank=True, related_name="exports"
    )

    objects = GenerationQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        # The gallery reads newest first, usually of one state, often of one person or one
        # review decision (an empty one, such as flagged and failed, must not walk the
        # history); a person's recent takes (and the take before each) read their own rows in
        # any state.
        indexes = [
            models.Index(fields=["created_at", "id"], name="gallery_order"),
            models.Index(fields=["status", "created_at", "id"], name="gallery_by_status"),
            models.Index(fields=["owner", "status", "created_at", "id"], name="gallery_by_owner"),
            models.Index(fields=["owner", "created_at", "id"], name="takes_by_owner"),
            models.Index(
                fields=["review_state", "status", "created_at", "id"], name="gallery_by_review"
            ),
        ]
        permissions = [
            ("review_generation", "Can review generations"),
            ("view_flagged_generation", "Can see flagged generations of others"),
            ("manage_studio", "Can manage budgets, pauses and presets"),
        ]

    def __str__(self):
        return f"#{self.pk} {self.prompt[:40]}"

    # Written out, not reversed: a list shows up to hundreds of these and reverse() is slow
    # (tests/test_studio_pages.py checks they match studio/urls.py).
    def get_absolute_url(self):
        return f"{get_script_prefix()}generations/{self.pk}/"

    def get_video_url(self):
        return f"{get_script_prefix()}generations/{self.pk}/video.mp4"

    @property
    def is_in_flight(self):
        return self.status in IN_FLIGHT_STATUSES

    @property
    def is_active(self):
        return self.status in ACTIVE_STATUSES

    @property
    def clarity(self):
        return "720p" if max(self.width, self.height) == 1280 else "480p"

    @property
    def estimated_progress(self):
        """progress_percent now, between polls: the last answer's, moved on toward 100 at the
        pace its eta gave; never 100 before the API says done."""
        if self.status not in POLLED_STATUSES or self.progress_at is None:
            return self.progress_percent
        if self.progress_percent is None or not self.eta_seconds:
            return self.progress_percent
        elapsed = (timezone.now() - self.progress_at).total_seconds()
        share = min(1.0, max(0.0, elapsed / self.eta_seconds))
        return min(99, int(self.progress_percent + (100 - self.progress_percent) * share))

    @property
    def review_label(self):
        # get_review_state_display() rebuilds the choices on each call: once per gallery card.
        return ReviewState(self.review_state).label

    # --- transitions -------------------------------------------------------------------

    def _move(self, sources, target, note="", only_if=None, **fields):
        """Compare-and-set: move to target only if the row is still in one of sources
        (and still matches the only_if condition)."""
        now = timezone.now()
        rows = Generation.objects.filter(pk=self.pk, status__in=sources)
        if only_if is not None:
            rows = rows.filter(only_if)
        with transaction.atomic():
            moved = rows.update(status=target, status_changed_at=now, **fields) == 1
            if moved:
                GenerationEvent.objects.create(generation_id=self.pk, status=target, note=note)
        self.refresh_from_db()
        return moved

    def claim_for_submit(self, webhook_token_hash=None):
        """queued → submitting, committed before any POST is sent, and only once due; with the
        hash of the token its webhook URL will carry, so a callback can never come too soon."""
        return self._move(
            [Status.QUEUED],
            Status.SUBMITTING,
            only_if=Q(due_at__lte=timezone.now()),
            submit_attempts=F("submit_attempts") + 1,
            webhook_token_hash=webhook_token_hash,
        )

    def release_submit_claim(self, why):
        """submitting → queued before anything was sent (no API slot came in time)."""
        return self._move(
            [Status.SUBMITTING],
            Status.QUEUED,
            note=why,
            only_if=Q(api_task_id__isnull=True),
            submit_attempts=F("submit_attempts") - 1,
            webhook_token_hash=None,
        )

    def mark_submitted(self, task_id, first_poll_at, expected_seconds=None):
        """The API accepted (and billed) task_id: the ledger entry lands with the task id.
        expected_seconds, how long such a task usually takes, is the eta until the API gives one."""
        with transaction.atomic():
            moved = self._move(
                [Status.SUBMITTING],
                Status.SUBMITTED,
                note=f"task {task_id}",
                api_task_id=task_id,
                due_at=first_poll_at,
                failure_reason="",
                poll_failures=0,
                progress_percent=None if expected_seconds is None else 0,
                eta_seconds=None if expected_seconds is None else round(expected_seconds),
                progress_at=timezone.now(),
            )
            if moved:
                LedgerEntry.charge(self)
        return moved

    def requeue_submit(self, retry_at, why):
        """The API refused before accepting: nothing was created, so try again later."""
        return self._move(
            [Status.SUBMITTING], Status.QUEUED, note=why, due_at=retry_at, failure_reason=why
        )

    def mark_needs_attention(self, why):
        moved = self._move(
            [Status.SUBMITTING], Status.NEEDS_ATTENTION, note=why, failure_reason=why
        )
        if moved:
            notify.announce(EventKind.GENERATION_FAILED, self)
        return moved

    def mark_failed(self, why):
        moved = self._move(
            ACTIVE_STATUSES,
            Status.FAILED,
            note=why,
            failure_reason=why,
            finished_at=timezone.now(),
            eta_seconds=None,
        )
        if moved:
            notify.announce(EventKind.GENERATION_FAILED, self)
        return moved

    def record_progress(self, *, processing, progress_percent, eta_seconds, next_poll_at):
        """A poll answered 'not finished yet'."""
        fields = dict(
            progress_percent=progress_percent,
            eta_seconds=eta_seconds,
            progress_at=timezone.now(),
            due_at=next_poll_at,
            poll_attempts=F("poll_attempts") + 1,
            poll_failures=0,
        )
        if processing and self.status == Status.SUBMITTED:
            if self._move([Status.SUBMITTED], Status.PROCESSING, **fields):
                return
        Generation.objects.filter(pk=self.pk, status__in=POLLED_STATUSES).update(**fields)

    def record_poll_trouble(self, next_poll_at, *, count_poll=True):
        fields = dict(due_at=next_poll_at, poll_failures=F("poll_failures") + 1)
        if count_poll:
            fields["poll_attempts"] = F("poll_attempts") + 1
        Generation.objects.filter(pk=self.pk, status__in=POLLED_STATUSES).update(**fields)
        self.refresh_from_db()

    def claim_for_download(self, reported_seed):
        return self._move(
            POLLED_STATUSES,
            Status.DOWNLOADING,
            reported_seed=reported_seed,
            progress_percent=100,
            eta_seconds=0,
            poll_attempts=F("poll_attempts") + 1,
        )

    def return_to_polling(self, why, poll_at):
        """The download failed in a way a fresh link may fix: ask the API again."""
        return self._move(
            [Status.DOWNLOADING],
            Status.PROCESSING,
            note=why,
            due_at=poll_at,
            poll_failures=F("poll_failures") + 1,
        )

    def mark_succeeded(
        self, *, video_name, poster_name, duration, size, sha256, width=None, height=None
    ):
        moved = self._move(
            [Status.DOWNLOADING],
            Status.SUCCEEDED,
            video=video_name,
            poster=poster_name,
            video_duration=duration,
            video_width=width,
            video_height=height,
            video_bytes=size,
            video_sha256=sha256,
            failure_reason="",
            finished_at=timezone.now(),
        )
        if moved:
            notify.announce(EventKind.GENERATION_SUCCEEDED, self)
        return moved

    def cancel(self):
        """Only before the API has it: the API has no cancel endpoint."""
        return self._move([Status.QUEUED], Status.CANCELED, finished_at=timezone.now())

    def submit_again(self):
        """A person accepted the risk of a second (billed) task after an unknown outcome."""
        return self._move(
            [Status.NEEDS_ATTENTION],
            Status.QUEUED,
            note="submitted again by a person (may be billed twice)",
            due_at=timezone.now(),
            submit_attempts=0,
            failure_reason="",
        )

    def delete_with_files(self):
        """Delete the row, and its stored video and poster once that is committed."""
        names = [name for name in (self.video.name, self.poster.name) if name]
        if self.poster.name:  # the tiles' small copy, made beside it on first request
            names.append(media.thumbnail_name(self.poster.name))
        storage = self.video.storage
        self.delete()
        transaction.on_commit(lambda: [storage.delete(name) for name in names])

    def review(self, reviewer, state, note=""):
        """Record a review decision (again, if need be) and its audit entry."""
        if self.status != Status.SUCCEEDED:
            return False
        with transaction.atomic():
            ReviewEvent.objects.create(
                generation=self, actor=reviewer, from_state=self.review_state, to_state=state,
                note=note,
            )  # fmt: skip
            self.review_state = state
            self.review_note = note
            self.reviewed_by = reviewer
            self.reviewed_at = timezone.now()
            self.save(update_fields=["review_state", "review_note", "reviewed_by", "reviewed_at"])
            if reviewer is not None and reviewer.pk != self.owner_id:
                notify.announce(
                    EventKind.REVIEW_DECISION, self, reviewer=reviewer, decision=state, note=note
                )
        return True

    def resolve_needs_attention(self, why):
        """A person checked the unknown outcome and decided not to submit again."""
        return self._move(
            [Status.NEEDS_ATTENTION], Status.CANCELED, note=why, finished_at=timezone.now()
        )

    def retry(self):
        """Start a failed generation over as a new API task."""
        return self._move(
            [Status.FAILED],
            Status.QUEUED,
            note=f"retry (previous task {self.api_task_id or 'none'})",
            api_task_id=None,
            due_at=timezone.now(),
            submit_attempts=0,
            poll_attempts=0,
            poll_failures=0,
            progress_percent=None,
            eta_seconds=None,
            reported_seed=None,
            failure_reason="",
            finished_at=None,
        )

    @property
    def thumbnail_url(self):
        """The poster's small copy for tiles ("" without a poster), made by the media view on
        its first request. Written out like get_video_url; stored names need no quoting."""
        return f"{get_script_prefix()}thumbnails/{self.poster.name}" if self.poster else ""


class Favourite(models.Model):
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="favourites"
    )
    generation = models.ForeignKey(Generation, on_delete=models.CASCADE, related_name="favourites")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "generation"], name="one_favourite_each")
        ]

    def __str__(self):
        return f"{self.user} ♥ {self.generation_id}"

    @classmethod
    def add_all(cls, user, generations):
        """Favourite every one of generations (a queryset); returns how many were new."""
        before = cls.objects.filter(user=user).count()
        cls.objects.bulk_create(
            [cls(user=user, generation=generation) for generation in generations.only("pk")],
            ignore_conflicts=True,
        )
        return cls.objects.filter(user=user).count() - before

    @classmethod
    def toggle(cls, user, generation):
        """Favourite or un-favourite; returns whether it is a favourite now."""
        deleted, _ = cls.objects.filter(user=user, generation=generation).delete()
        if deleted:
            return False
        cls.objects.get_or_create(user=user, generation=generation)
        return True


class GenerationLora(models.Model):
    generation = models.ForeignKey(Generation, on_delete=models.CASCADE, related_name="loras")
    position = models.PositiveSmallIntegerField()
    path = models.CharField(max_length=500)
    scale = models.FloatField()
    preset = models.ForeignKey(LoraPreset, on_delete=models.SET_NULL, null=True, blank=True)

    class Meta:
        ordering = ["position"]
        constraints = [
            models.UniqueConstraint(fields=["generation", "position"], name="one_lora_per_slot")
        ]

    def __str__(self):
        return f"{self.path} × {self.scale:g}"


class GenerationEvent(models.Model):
    """Each state a generation entered, and when: its timeline."""

    generation = models.ForeignKey(Generation, on_delete=models.CASCADE, related_name="events")
    status = models.CharField(max_length=20, choices=Status.choices)
    note = models.TextField(blank=True)
    at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["at", "id"]

    def __str__(self):
        return f"{self.status} at {self.at:%Y-%m-%d %H:%M:%S}"


class ReviewEvent(models.Model):
    """The audit trail of reviews: who, when, from, to, note. Never edited."""

    generation = models.ForeignKey(
        Generation, on_delete=models.CASCADE, related_name="review_events"
    )
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    from_state = models.CharField(max_length=10, choices=ReviewState.choices)
    to_state = models.CharField(max_length=10, choices=ReviewState.choices)
    note = models.TextField(blank=True)
    at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["at", "id"]

    def __str__(self):
        return f"{self.from_state} → {self.to_state} by {self.actor} at {self.at:%Y-%m-%d %H:%M}"
