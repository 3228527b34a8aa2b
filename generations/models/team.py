"""The team's switches: budgets, the studio-wide pause, API tokens."""

import secrets

from django.conf import settings
from django.db import models
from django.utils import timezone


class Budget(models.Model):
    """A person's monthly spending limit; no row (or no limit) means unlimited."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="budget"
    )
    monthly_limit = models.DecimalField(max_digits=9, decimal_places=2, null=True, blank=True)

    def __str__(self):
        return f"Budget of {self.user}"


class StudioState(models.Model):
    """Studio-wide switches; one row. Out of API credit pauses every submission."""

    submissions_paused = models.BooleanField(default=False)
    paused_reason = models.TextField(blank=True)
    paused_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = "studio state"

    def __str__(self):
        return "Submissions paused" if self.submissions_paused else "Submissions running"

    @classmethod
    def current(cls):
        state, _ = cls.objects.get_or_create(pk=1)
        return state

    @classmethod
    def shown(cls):
        """The state for the banner on every full page, without creating the row."""
        return cls.objects.filter(pk=1).first() or cls()

    @classmethod
    def submissions_are_paused(cls):
        return cls.objects.filter(pk=1, submissions_paused=True).exists()

    @classmethod
    def pause(cls, reason):
        cls.current()
        cls.objects.filter(pk=1, submissions_paused=False).update(
            submissions_paused=True, paused_reason=reason, paused_at=timezone.now()
        )

    @classmethod
    def resume(cls):
        cls.current()
        cls.objects.filter(pk=1).update(submissions_paused=False, paused_reason="", paused_at=None)


class ApiToken(models.Model):
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_token"
    )
    key = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(default=timezone.now)

    def __str__(self):
        return f"API token of {self.user}"

    @classmethod
    def issue(cls, user):
        """A new key for user, replacing any previous one."""
        token, _ = cls.objects.update_or_create(
            user=user, defaults={"key": secrets.token_hex(20), "created_at": timezone.now()}
        )
        return token
