# Review notes on the timeline: only a new table. Nothing here alters generations_generation,
# whose rebuild on SQLite would drop the prompt search triggers of 0011.

import django.db.models.deletion
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("generations", "0017_notifications"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name="ReviewNote",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("author_name", models.CharField(max_length=150)),
                ("frame", models.PositiveIntegerField(blank=True, null=True)),
                ("end_frame", models.PositiveIntegerField(blank=True, null=True)),
                ("body", models.CharField(max_length=2000)),
                ("resolved_at", models.DateTimeField(blank=True, null=True)),
                ("created_at", models.DateTimeField(default=django.utils.timezone.now)),
                (
                    "author",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
                (
                    "generation",
                    models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="notes",
                        to="generations.generation",
                    ),
                ),
                (
                    "parent",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="replies",
                        to="generations.reviewnote",
                    ),
                ),
                (
                    "resolved_by",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
            ],
            options={
                "ordering": ["frame", "created_at", "id"],
                "indexes": [
                    models.Index(fields=["generation", "frame"], name="notes_on_the_timeline")
                ],
                "constraints": [
                    models.CheckConstraint(
                        condition=models.Q(
                            models.Q(("frame__isnull", False), ("parent__isnull", True)),
                            models.Q(
                                ("end_frame__isnull", True),
                                ("frame__isnull", True),
                                ("parent__isnull", False),
                                ("resolved_at__isnull", True),
                            ),
                            _connector="OR",
                        ),
                        name="note_frame_on_the_thread_only",
                    ),
                    models.CheckConstraint(
                        condition=models.Q(
                            ("end_frame__isnull", True),
                            ("end_frame__gte", models.F("frame")),
                            _connector="OR",
                        ),
                        name="note_range_ends_after_it_starts",
                    ),
                    models.CheckConstraint(
                        condition=models.Q(("body", ""), _negated=True), name="note_has_a_body"
                    ),
                    models.CheckConstraint(
                        condition=models.Q(("author_name", ""), _negated=True),
                        name="note_has_an_author",
                    ),
                ],
            },
        ),
    ]
