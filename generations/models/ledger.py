"""Money: what the API billed (the ledger) and the one-time keys that make a submit happen once."""

from datetime import timedelta

from django.conf import settings
from django.db import models
from django.db.models import Sum
from django.utils import timezone

# A submit key answers with what it first made for this long; after that it is a new submit.
SUBMIT_KEY_LIFETIME = timedelta(hours=24)


def month_of(moment):
    return timezone.localtime(moment).date().replace(day=1)


class LedgerEntryQuerySet(models.QuerySet):
    def total(self):
        return self.aggregate(total=Sum("amount"))["total"]


class LedgerEntry(models.Model):
    """One task the API accepted, and so billed. Written in the transaction that records the
    task id; never edited and never deleted, not even with its generation."""

    person = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="charges"
    )
    # Kept as written, so the ledger still names who spent it after the account is gone.
    person_name = models.CharField(max_length=150)
    # A plain number, not a key: deleting the generation must not touch what it cost.
    generation_id = models.BigIntegerField(db_index=True)
    api_task_id = models.CharField(max_length=128, unique=True)
    amount = models.DecimalField(max_digits=9, decimal_places=4)
    currency = models.CharField(max_length=8)
    month = models.DateField()
    clarity = models.CharField(max_length=8)
    fast_mode = models.BooleanField()
    charged_at = models.DateTimeField(default=timezone.now)

    objects = LedgerEntryQuerySet.as_manager()

    class Meta:
        ordering = ["-charged_at", "-id"]
        # A person's spend this month is summed from the index alone (amount included): the
        # studio page reads it on every visit, over thousands of rows for a busy person.
        indexes = [models.Index(fields=["person", "month", "amount"], name="ledger_spend")]
        verbose_name_plural = "ledger entries"

    def __str__(self):
        return f"{self.amount} {self.currency} for #{self.generation_id} ({self.person_name})"

    @classmethod
    def charge(cls, generation):
        """The API accepted generation's task: record what it costs."""
        now = timezone.now()
        owner = generation.owner
        return cls.objects.create(
            person=owner,
            person_name=owner.get_username(),
            generation_id=generation.pk,
            api_task_id=generation.api_task_id,
            amount=generation.estimated_cost or 0,
            currency=settings.WAN_PRICE_CURRENCY,
            month=month_of(now),
            clarity=generation.clarity,
            fast_mode=generation.fast_mode,
            charged_at=now,
        )


class SubmitKey(models.Model):
    """A submit's one-time key (the form's hidden key or the API's Idempotency-Key header):
    the same key from the same person within SUBMIT_KEY_LIFETIME answers with what it made."""

    person = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="submit_keys"
    )
    key = models.CharField(max_length=255)
    created_at = models.DateTimeField(default=timezone.now)
    generation = models.ForeignKey(
        "generations.Generation", on_delete=models.SET_NULL, null=True, related_name="+"
    )
    batch = models.ForeignKey(
        "generations.Batch", on_delete=models.SET_NULL, null=True, related_name="+"
    )

    class Meta:
        constraints = [models.UniqueConstraint(fields=["person", "key"], name="one_submit_per_key")]

    def __str__(self):
        return f"Submit key {self.key[:12]} of {self.person_id}"

    @classmethod
    def earlier_use(cls, person, key):
        """The live row of an earlier submit with this key, forgetting one that has expired.
        Call it inside the transaction that holds the person's submit lock."""
        cls.objects.filter(
            person=person, key=key, created_at__lt=timezone.now() - SUBMIT_KEY_LIFETIME
        ).delete()
        return cls.objects.filter(person=person, key=key).first()

    def generations(self):
        """What the first submit made, as far as it still exists."""
        from .generation import Generation

        if self.batch_id:
            return list(Generation.objects.filter(batch_id=self.batch_id).order_by("id"))
        return list(Generation.objects.filter(pk=self.generation_id))
