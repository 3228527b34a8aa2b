"""Share links: a board, a sequence or a hand-picked set of generations shown to people without
an account, through a signed URL that expires and can be revoked.

The URL carries only the share's id, signed (tampering is detected without a query); the row
says whether the link still works. What a guest sees is read afresh on each request
(generations/shares.py), so flagged or deleted work disappears from a link at once.
"""

from django.conf import settings
from django.contrib.auth.hashers import check_password
from django.core import signing
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone

from .board import Board
from .generation import Generation
from .sequence import Sequence

SHARE_TOKEN_SALT = "generations.share"


class ShareKind(models.TextChoices):
    BOARD = "board", "Board"
    SEQUENCE = "sequence", "Sequence"
    GENERATIONS = "generations", "Hand-picked videos"


class Share(models.Model):
    kind = models.CharField(max_length=12, choices=ShareKind.choices)
    # What is shared: the board or the sequence as they are at each visit, or the items.
    board = models.ForeignKey(
        Board, on_delete=models.CASCADE, null=True, blank=True, related_name="shares"
    )
    sequence = models.ForeignKey(
        Sequence, on_delete=models.CASCADE, null=True, blank=True, related_name="shares"
    )
    generations = models.ManyToManyField(Generation, through="ShareItem", related_name="shares")

    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="shares"
    )
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    revoked_at = models.DateTimeField(null=True, blank=True)
    revoked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    # make_password's hash; blank: no password.
    password_hash = models.CharField(max_length=256, blank=True)
    show_parameters = models.BooleanField(default=False)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=(
                    Q(kind=ShareKind.BOARD, board__isnull=False, sequence__isnull=True)
                    | Q(kind=ShareKind.SEQUENCE, sequence__isnull=False, board__isnull=True)
                    | Q(kind=ShareKind.GENERATIONS, board__isnull=True, sequence__isnull=True)
                ),
                name="share_one_kind",
            )
        ]

    def __str__(self):
        return f"Share {self.pk} of {self.subject}"

    def get_absolute_url(self):
        """The guest's URL (relative; the API and the list make it absolute)."""
        return reverse("studio:share-guest", args=[self.token])

    @property
    def subject(self):
        if self.kind == ShareKind.BOARD:
            return f"board “{self.board}”"
        if self.kind == ShareKind.SEQUENCE:
            return f"sequence “{self.sequence}”"
        return "hand-picked videos"

    @property
    def token(self):
        return signing.Signer(salt=SHARE_TOKEN_SALT).sign(str(self.pk))

    @staticmethod
    def id_from_token(token):
        """The share id a token signs, or None when it was not signed here (tampered)."""
        try:
            value = signing.Signer(salt=SHARE_TOKEN_SALT).unsign(token)
        except signing.BadSignature:
            return None
        return int(value) if value.isascii() and value.isdigit() else None

    @property
    def is_revoked(self):
        return self.revoked_at is not None

    @property
    def is_expired(self):
        return self.expires_at <= timezone.now()

    @property
    def is_live(self):
        return not self.is_revoked and not self.is_expired

    @property
    def has_password(self):
        return bool(self.password_hash)

    def password_matches(self, raw):
        return self.has_password and check_password(raw, self.password_hash)

    def may_revoke(self, user):
        return self.created_by_id == user.pk or user.has_perm("generations.manage_studio")

    def revoke(self, user):
        """Revoke once; the link answers 410 from now on. Returns whether it was live."""
        now = timezone.now()
        revoked = Share.objects.filter(pk=self.pk, revoked_at__isnull=True).update(
            revoked_at=now, revoked_by=user
        )
        self.refresh_from_db(fields=["revoked_at", "revoked_by"])
        return revoked == 1


class ShareItem(models.Model):
    share = models.ForeignKey(Share, on_delete=models.CASCADE, related_name="items")
    generation = models.ForeignKey(Generation, on_delete=models.CASCADE, related_name="+")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["share", "generation"], name="shared_once")]

    def __str__(self):
        return f"#{self.generation_id} in share {self.share_id}"


class ShareEventKind(models.TextChoices):
    OPENED = "opened", "Opened"
    DECISION = "decision", "Decision"
    COMMENT = "comment", "Comment"


class GuestDecision(models.TextChoices):
    APPROVE = "approve", "Approved"
    REQUEST_CHANGES = "request_changes", "Requested changes"


class ShareEvent(models.Model):
    """What a guest did, and through which link: the audit trail of guests. Never edited."""

    share = models.ForeignKey(Share, on_delete=models.CASCADE, related_name="events")
    generation = models.ForeignKey(
        Generation, on_delete=models.SET_NULL, null=True, blank=True, related_name="share_events"
    )
    kind = models.CharField(max_length=10, choices=ShareEventKind.choices)
    decision = models.CharField(max_length=16, choices=GuestDecision.choices, blank=True)
    guest_name = models.CharField(max_length=80, blank=True)
    body = models.TextField(blank=True)
    # A keyed hash of the guest's address: enough to tell visitors apart, not to find them.
    ip_hash = models.CharField(max_length=64, blank=True)
    at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-at", "-id"]
        indexes = [models.Index(fields=["share", "at"], name="share_events_by_time")]

    def __str__(self):
        return f"{self.kind} on share {self.share_id} at {self.at:%Y-%m-%d %H:%M}"
