"""Webhooks in and progress between polls: the hash of each task's callback token, and when the
last progress and eta were true. Plain nullable columns, so SQLite adds them in place and the
prompt search triggers of 0011 stay."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("generations", "0011_prompt_full_text")]

    operations = [
        migrations.AddField(
            model_name="generation",
            name="progress_at",
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name="generation",
            name="webhook_token_hash",
            field=models.CharField(blank=True, db_index=True, max_length=64, null=True),
        ),
    ]
