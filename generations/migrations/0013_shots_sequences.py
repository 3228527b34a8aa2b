import django.db.models.deletion
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("generations", "0012_webhooks"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddField(
            model_name="generation",
            name="parent",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.SET_NULL,
                related_name="extensions",
                to="generations.generation",
            ),
        ),
        migrations.AddField(
            model_name="generation",
            name="parent_frame_index",
            field=models.PositiveIntegerField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name="generation",
            name="parent_frame_time",
            field=models.FloatField(blank=True, null=True),
        ),
        migrations.CreateModel(
            name="Sequence",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("title", models.CharField(blank=True, max_length=200)),
                (
                    "clarity",
                    models.CharField(
                        choices=[("480p", "480p"), ("720p", "720p")], default="480p", max_length=5
                    ),
                ),
                (
                    "orientation",
                    models.CharField(
                        choices=[("landscape", "Landscape"), ("portrait", "Portrait")],
                        default="landscape",
                        max_length=10,
                    ),
                ),
                (
                    "fit",
                    models.CharField(
                        choices=[
                            ("letterbox", "Letterbox (keep the whole picture)"),
                            ("crop", "Crop (fill the frame)"),
                        ],
                        default="letterbox",
                        max_length=10,
                    ),
                ),
                ("double_frame_rate", models.BooleanField(default=False)),
                (
                    "status",
                    models.CharField(
                        choices=[
                            ("draft", "Not exported"),
                            ("queued", "Waiting for a worker"),
                            ("rendering", "Rendering"),
                            ("succeeded", "Exported"),
                            ("failed", "Export failed"),
                        ],
                        db_index=True,
                        default="draft",
                        max_length=10,
                    ),
                ),
                ("progress_percent", models.PositiveSmallIntegerField(blank=True, null=True)),
                ("failure_reason", models.TextField(blank=True)),
                ("video", models.FileField(blank=True, db_index=True, upload_to="")),
                ("poster", models.FileField(blank=True, db_index=True, upload_to="")),
                ("video_duration", models.FloatField(blank=True, null=True)),
                ("video_frames", models.PositiveIntegerField(blank=True, null=True)),
                ("video_bytes", models.BigIntegerField(blank=True, null=True)),
                ("video_sha256", models.CharField(blank=True, max_length=64)),
                (
                    "created_at",
                    models.DateTimeField(db_index=True, default=django.utils.timezone.now),
                ),
                ("updated_at", models.DateTimeField(default=django.utils.timezone.now)),
                ("finished_at", models.DateTimeField(blank=True, null=True)),
                (
                    "owner",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="sequences",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
            ],
            options={
                "ordering": ["-created_at", "-id"],
            },
        ),
        migrations.CreateModel(
            name="SequenceClip",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("position", models.PositiveSmallIntegerField()),
                ("in_point", models.FloatField(default=0.0)),
                ("out_point", models.FloatField(blank=True, null=True)),
                (
                    "transition",
                    models.CharField(
                        choices=[("cut", "Cut"), ("crossfade", "Crossfade")],
                        default="cut",
                        max_length=10,
                    ),
                ),
                ("crossfade_seconds", models.FloatField(default=0.0)),
                (
                    "generation",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="+",
                        to="generations.generation",
                    ),
                ),
                (
                    "sequence",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="clips",
                        to="generations.sequence",
                    ),
                ),
            ],
            options={
                "ordering": ["position"],
                "constraints": [
                    models.UniqueConstraint(
                        fields=("sequence", "position"), name="one_clip_per_slot"
                    ),
                    models.CheckConstraint(
                        condition=models.Q(
                            ("out_point__isnull", True),
                            ("out_point__gt", models.F("in_point")),
                            _connector="OR",
                        ),
                        name="clip_in_before_out",
                    ),
                ],
            },
        ),
    ]
