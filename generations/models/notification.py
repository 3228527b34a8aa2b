"""Notifications out: what each person wants to hear about, by e-mail and by their own webhook,
and the log of every webhook delivery, whose retries are due rows like the pipeline's."""

import ipaddress
import secrets
from datetime import timedelta
from urllib.parse import urlsplit

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.db import models
from django.db.models import F
from django.utils import timezone

from lib.public_fetch import is_public_address


class EventKind(models.TextChoices):
    """What a person can hear about. A new kind (a comment, a guest's decision) is one line here
    and one `notify.announce` call where it happens; people's choices are lists of these values,
    so adding one needs no migration of their settings."""

    GENERATION_SUCCEEDED = "generation.succeeded", "My generation finished"
    GENERATION_FAILED = "generation.failed", "My generation failed or needs attention"
    REVIEW_DECISION = "review.decision", "A review decision on my work"
    BUDGET_WARNING = "budget.warning", "My monthly budget reached 80 %"
    GUEST_DECISION = "guest.decision", "A guest's decision on my work through a share link"
    COMMENT = "comment", "A comment on my work"
    TEST = "test", "A test from the notifications page"


# The kinds a person turns on and off (a test goes wherever they asked it to).
CHOOSABLE_KINDS = [kind for kind in EventKind if kind != EventKind.TEST]
# A batch of twenty would be twenty e-mails: finished work is on the webhook only, unless chosen.
DEFAULT_EMAIL_KINDS = [
    EventKind.GENERATION_FAILED,
    EventKind.REVIEW_DECISION,
    EventKind.BUDGET_WARNING,
    EventKind.GUEST_DECISION,
    EventKind.COMMENT,
]
SECRET_PREFIX = "whsec_"


def default_email_kinds():
    return [str(kind) for kind in DEFAULT_EMAIL_KINDS]


def default_webhook_kinds():
    return [str(kind) for kind in CHOOSABLE_KINDS]


def validate_webhook_url(url):
    """http or https only; an address inside the studio's network only where allowed (it would
    let anyone with an account make the studio send requests there). Host names are checked
    again, on the addresses they resolve to, at every delivery."""
    URLValidator(schemes=["http", "https"], message="Use an http:// or https:// address.")(url)
    if not settings.NOTIFY_PRIVATE_WEBHOOKS and is_inside_network(urlsplit(url).hostname or ""):
        raise ValidationError(
            "This address is inside the studio's own network: webhooks go to public addresses."
        )


def is_inside_network(host):
    host = host.lower()
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False  # a name: its addresses are checked when a delivery connects
    return not is_public_address(host)


class NotificationSettings(models.Model):
    """One person's choices; without a row, the defaults below."""

    person = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notification_settings"
    )
    email_kinds = models.JSONField(default=default_email_kinds, blank=True)
    webhook_kinds = models.JSONField(default=default_webhook_kinds, blank=True)
    webhook_url = models.URLField(max_length=2000, blank=True, validators=[validate_webhook_url])
    # Kept as is: every delivery is signed with it. Shown in full only when it is made.
    webhook_secret = models.CharField(max_length=100, blank=True)
    # {"text": "..."} instead of the full event: what Slack's, Mattermost's and Discord's
    # (`/slack`) incoming webhooks take.
    slack_format = models.BooleanField(default=False)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name_plural = "notification settings"

    def __str__(self):
        return f"Notifications of {self.person}"

    @classmethod
    def for_person(cls, person):
        """The person's settings, or unsaved defaults (a page that only shows them writes
        nothing)."""
        return cls.objects.filter(person=person).first() or cls(person=person)

    def wants_email(self, kind):
        return kind == EventKind.TEST or kind in self.email_kinds

    def wants_webhook(self, kind):
        return bool(self.webhook_url) and (kind == EventKind.TEST or kind in self.webhook_kinds)

    def generate_secret(self):
        """A new signing secret, in place of any earlier one (which stops working at once)."""
        self.webhook_secret = SECRET_PREFIX + secrets.token_urlsafe(32)
        return self.webhook_secret

    def ensure_secret(self):
        """A webhook needs a secret: the one made now (to show once), or None if it had one."""
        if self.webhook_url and not self.webhook_secret:
            return self.generate_secret()
        return None

    @property
    def secret_hint(self):
        """Enough of the secret to tell which one a receiver holds."""
        return f"{SECRET_PREFIX}…{self.webhook_secret[-4:]}" if self.webhook_secret else ""


class DeliveryStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    DELIVERED = "delivered", "Delivered"
    FAILED = "failed", "Failed"


# After the first attempt fails: the waits before the next ones; then the delivery has failed.
RETRY_DELAYS = (
    timedelta(seconds=30),
    timedelta(minutes=2),
    timedelta(minutes=10),
    timedelta(hours=1),
)
MAX_ATTEMPTS = len(RETRY_DELAYS) + 1
# A claimed row is not due again for this long: a worker that dies mid-POST leaves it to reconcile.
SENDING_HOLD = timedelta(minutes=2)


class WebhookDeliveryQuerySet(models.QuerySet):
    def due(self, now):
        return self.filter(status=DeliveryStatus.PENDING, next_attempt_at__lte=now)


class WebhookDelivery(models.Model):
    """One event on its way to one person's webhook: the job record of its attempts, and the log
    the notifications page shows."""

    person = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="webhook_deliveries"
    )
    kind = models.CharField(max_length=40, choices=EventKind.choices)
    # A plain number, not a key: the log outlives the generation.
    generation_id = models.BigIntegerField(null=True, blank=True)
    payload = models.JSONField()
    # Where the last attempt went (the person may change the address between retries).
    url = models.CharField(max_length=2000, blank=True)
    status = models.CharField(
        max_length=10, choices=DeliveryStatus.choices, default=DeliveryStatus.PENDING
    )
    attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField(default=timezone.now)
    last_response_code = models.PositiveSmallIntegerField(null=True, blank=True)
    last_error = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    delivered_at = models.DateTimeField(null=True, blank=True)

    objects = WebhookDeliveryQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["status", "next_attempt_at"], name="webhook_due"),
            models.Index(fields=["person", "created_at"], name="webhook_log"),
        ]
        verbose_name_plural = "webhook deliveries"

    def __str__(self):
        return f"{self.kind} to {self.person} ({self.status})"

    @property
    def event_id(self):
        return self.payload.get("id", "")

    @property
    def is_expected_soon(self):
        """Being sent, or due within the hold of an attempt: worth watching for its outcome."""
        soon = timezone.now() + SENDING_HOLD
        return self.status == DeliveryStatus.PENDING and self.next_attempt_at <= soon

    def claim(self):
        """Take this delivery for one attempt, if it is due and no other worker has it."""
        now = timezone.now()
        rows = WebhookDelivery.objects.due(now).filter(pk=self.pk)
        claimed = rows.update(attempts=F("attempts") + 1, next_attempt_at=now + SENDING_HOLD) == 1
        self.refresh_from_db()
        return claimed

    def record_delivered(self, url, response_code):
        self._record(
            url=url,
            status=DeliveryStatus.DELIVERED,
            last_response_code=response_code,
            last_error="",
            delivered_at=timezone.now(),
        )

    def record_failure(self, url, error, response_code=None, *, retry=True):
        """A failed attempt: due again after the next wait, or failed for good."""
        fields = dict(url=url, last_response_code=response_code, last_error=error[:500])
        if retry and self.attempts < MAX_ATTEMPTS:
            fields["next_attempt_at"] = timezone.now() + RETRY_DELAYS[self.attempts - 1]
        else:
            fields["status"] = DeliveryStatus.FAILED
        self._record(**fields)

    def _record(self, **fields):
        WebhookDelivery.objects.filter(pk=self.pk).update(**fields)
        self.refresh_from_db()
