"""Shared state that lets several workers act as one: the API budget and leases."""

from datetime import timedelta

from django.db import models, transaction
from django.db.models import Q
from django.utils import timezone


class ApiRateLimit(models.Model):
    """A shared request budget for the API, so every worker together stays under the limit.

    Requests are spaced evenly: each reservation takes the next free slot.
    """

    name = models.CharField(max_length=50, primary_key=True)
    next_slot = models.FloatField(default=0.0)  # unix time of the next free slot

    def __str__(self):
        return self.name

    @classmethod
    def reserve(cls, name, per_minute, max_wait, now):
        """Seconds to wait before the request may go, or None if that would exceed max_wait."""
        interval = 60.0 / per_minute
        with transaction.atomic():
            row, _ = cls.objects.select_for_update().get_or_create(name=name)
            slot = max(row.next_slot, now)
            if slot - now > max_wait:
                return None
            row.next_slot = slot + interval
            row.save(update_fields=["next_slot"])
        return slot - now


class WorkerLease(models.Model):
    """A named lease so at most one dispatcher loop runs across every cluster."""

    name = models.CharField(max_length=50, primary_key=True)
    holder = models.CharField(max_length=64, blank=True)
    expires_at = models.DateTimeField(default=timezone.now)

    def __str__(self):
        return self.name

    @classmethod
    def acquire(cls, name, holder, ttl_seconds):
        now = timezone.now()
        cls.objects.get_or_create(name=name)
        return (
            cls.objects.filter(name=name)
            .filter(Q(expires_at__lt=now) | Q(holder=holder) | Q(holder=""))
            .update(holder=holder, expires_at=now + timedelta(seconds=ttl_seconds))
            == 1
        )

    @classmethod
    def release(cls, name, holder):
        cls.objects.filter(name=name, holder=holder).update(holder="", expires_at=timezone.now())

    @classmethod
    def is_free(cls, name):
        return not cls.objects.filter(
            name=name, holder__gt="", expires_at__gte=timezone.now()
        ).exists()
