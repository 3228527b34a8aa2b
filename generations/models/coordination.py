"""Shared state that lets several workers act as one: the API request budget."""

from django.db import models, transaction


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
