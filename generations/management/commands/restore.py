"""`manage.py restore DIR` (`make restore DIR=…`): a backup into an empty instance, every sha256
checked, then migrated forward. See generations/backup/ and docs/deploy.md."""

from django.core.management.base import BaseCommand, CommandError

from generations.backup import BackupError, restore


class Command(BaseCommand):
    # A backup must not wait for a system check to pass; restore checks what it needs itself.
    requires_system_checks = []
    help = (
        "Restore a backup made by `manage.py backup` into this instance's database and media. "
        "Stop the web server and the cluster first."
    )

    def add_arguments(self, parser):
        parser.add_argument("folder", help="a folder written by `manage.py backup`")
        parser.add_argument(
            "--replace",
            action="store_true",
            help="overwrite a database that is not empty (everything in it is lost)",
        )

    def handle(self, folder, replace, **options):
        try:
            summary = restore(folder, self.stdout, replace=replace)
        except (BackupError, OSError) as error:  # OSError: a disk full, a folder unreadable
            raise CommandError(f"Restore failed: {error}") from error
        self.stdout.write(self.style.SUCCESS(summary))
