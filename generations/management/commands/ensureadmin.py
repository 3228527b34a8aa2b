import os
import secrets

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand

from generations import roles


class Command(BaseCommand):
    help = "Create a first admin account when there is no user at all."

    def add_arguments(self, parser):
        parser.add_argument(
            "--username", default=os.environ.get("DJANGO_SUPERUSER_USERNAME", "admin")
        )

    def handle(self, username, **options):
        users = get_user_model().objects
        if users.exists():
            return
        password = os.environ.get("DJANGO_SUPERUSER_PASSWORD") or secrets.token_urlsafe(12)
        admin = users.create_superuser(username=username, email="", password=password)
        roles.assign_role(admin, roles.ADMIN)  # the Team page shows the role it holds
        self.stdout.write(self.style.SUCCESS("Created the first admin account:"))
        self.stdout.write(f"    username: {username}")
        if "DJANGO_SUPERUSER_PASSWORD" in os.environ:
            self.stdout.write("    password: the one in DJANGO_SUPERUSER_PASSWORD")
        else:
            self.stdout.write(
                f"    password: {password}   (shown once; change it after logging in)"
            )
