# Notifications out: only new tables. Nothing here alters generations_generation, whose rebuild
# on SQLite would drop the prompt search triggers of 0011.

import django.db.models.deletion
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models

import generations.models.notification


class Migration(migrations.Migration):
    dependencies = [
        ("generations", "0016_boards_tags"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name="NotificationSettings",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                (
                    "email_kinds",
                    models.JSONField(
                        blank=True, default=generations.models.notification.default_email_kinds
                    ),
                ),
                (
                    "webhook_kinds",
                    models.JSONField(
                        blank=True, default=generations.models.notification.default_webhook_kinds
                    ),
                ),
                (
                    "webhook_url",
                    models.URLField(
                        blank=True,
                        max_length=2000,
                        validators=[generations.models.notification.validate_webhook_url],
                    ),
                ),
                ("webhook_secret", models.CharField(blank=True, max_length=100)),
                ("slack_format", models.BooleanField(default=False)),
                ("updated_at", models.DateTimeField(auto_now=True)),
                (
                    "person",
                    models.OneToOneField(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="notification_settings",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
            ],
            options={
                "verbose_name_plural": "notification settings",
            },
        ),
        migrations.CreateModel(
            name="WebhookDelivery",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                (
                    "kind",
                    models.CharField(
                        choices=[
                            ("generation.succeeded", "My generation finished"),
                            ("generation.failed", "My generation failed or needs attention"),
                            ("review.decision", "A review decision on my work"),
                            ("budget.warning", "My monthly budget reached 80 %"),
                            ("test", "A test from the notifications page"),
                        ],
                        max_length=40,
                    ),
                ),
                ("generation_id", models.BigIntegerField(blank=True, null=True)),
                ("payload", models.JSONField()),
                ("url", models.CharField(blank=True, max_length=2000)),
                (
                    "status",
                    models.CharField(
                        choices=[
                            ("pending", "Pending"),
                            ("delivered", "Delivered"),
                            ("failed", "Failed"),
                        ],
                        default="pending",
                        max_length=10,
                    ),
                ),
                ("attempts", models.PositiveSmallIntegerField(default=0)),
                ("next_attempt_at", models.DateTimeField(default=django.utils.timezone.now)),
                ("last_response_code", models.PositiveSmallIntegerField(blank=True, null=True)),
                ("last_error", models.CharField(blank=True, max_length=500)),
                ("created_at", models.DateTimeField(default=django.utils.timezone.now)),
                ("delivered_at", models.DateTimeField(blank=True, null=True)),
                (
                    "person",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="webhook_deliveries",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
            ],
            options={
                "verbose_name_plural": "webhook deliveries",
                "ordering": ["-created_at", "-id"],
                "indexes": [
                    models.Index(fields=["status", "next_attempt_at"], name="webhook_due"),
                    models.Index(fields=["person", "created_at"], name="webhook_log"),
                ],
            },
        ),
    ]
