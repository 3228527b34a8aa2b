"""Reviewers see flagged work of others: they flagged it and may need to review it again.
Admins have had that permission since 0003_roles (every permission of the app).

Media answers look a stored name up (generations/media_access.py) on every request: the
columns holding names are indexed, so a poster costs one index probe, not a table scan."""

from django.db import migrations, models

import generations.models.library


def reviewer_roles_and_permission(apps):
    permission = apps.get_model("auth", "Permission").objects.get(
        content_type__app_label="generations", codename="view_flagged_generation"
    )
    return apps.get_model("auth", "Group").objects.filter(name="reviewer"), permission


def let_reviewers_see_flagged(apps, schema_editor):
    roles, permission = reviewer_roles_and_permission(apps)
    for role in roles:
        role.permissions.add(permission)


def hide_flagged_from_reviewers(apps, schema_editor):
    roles, permission = reviewer_roles_and_permission(apps)
    for role in roles:
        role.permissions.remove(permission)


class Migration(migrations.Migration):
    dependencies = [("generations", "0007_prompt_search")]

    operations = [
        migrations.RunPython(let_reviewers_see_flagged, hide_flagged_from_reviewers),
        migrations.AlterField(
            model_name="generation",
            name="video",
            field=models.FileField(blank=True, db_index=True),
        ),
        migrations.AlterField(
            model_name="generation",
            name="poster",
            field=models.FileField(blank=True, db_index=True),
        ),
        migrations.AlterField(
            model_name="sourceimage",
            name="image",
            field=models.FileField(
                db_index=True, upload_to=generations.models.library.source_upload_to
            ),
        ),
    ]
