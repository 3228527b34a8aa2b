"""The three roles as groups with permissions: member, reviewer, admin."""

from django.db import migrations

MEMBER = [
    "generations.add_generation",
    "generations.view_generation",
    "generations.add_sourceimage",
    "generations.view_sourceimage",
    "generations.view_lorapreset",
    "generations.view_promptpreset",
    "generations.add_promptpreset",
]
REVIEWER = [*MEMBER, "generations.review_generation"]
ADMIN_APPS = ["generations", "auth", "django_q"]


def create_roles(apps, schema_editor):
    from django.contrib.auth.management import create_permissions

    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")

    def permissions(names):
        for name in names:
            app_label, codename = name.split(".")
            yield Permission.objects.get(content_type__app_label=app_label, codename=codename)

    Group.objects.get_or_create(name="member")[0].permissions.set(permissions(MEMBER))
    Group.objects.get_or_create(name="reviewer")[0].permissions.set(permissions(REVIEWER))
    Group.objects.get_or_create(name="admin")[0].permissions.set(
        Permission.objects.filter(content_type__app_label__in=ADMIN_APPS)
    )


def remove_roles(apps, schema_editor):
    apps.get_model("auth", "Group").objects.filter(
        name__in=["member", "reviewer", "admin"]
    ).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("generations", "0002_review_costs_pause"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("django_q", "__first__"),
    ]

    operations = [migrations.RunPython(create_roles, remove_roles)]
