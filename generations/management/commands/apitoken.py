from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from generations.models import ApiToken


class Command(BaseCommand):
    help = "Print a new API token for a user (any previous token of theirs stops working)."

    def add_arguments(self, parser):
        parser.add_argument("username")

    def handle(self, username, **options):
        user = get_user_model().objects.filter(username=username).first()
        if user is None:
            raise CommandError(f"There is no user named {username!r}.")
        self.stdout.write(ApiToken.issue(user).key)
