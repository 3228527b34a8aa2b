"""`manage.py backup DIR` (`make backup`): the database, every stored file and a manifest, while
the studio runs. See generations/backup/ and docs/deploy.md."""

from django.core.management.base import BaseCommand, CommandError

from generations.backup import BackupError, back_up


class Command(BaseCommand):
    # A backup must not wait for a system check to pass; restore checks what it needs itself.
    requires_system_checks = []
    help = (
        "Back up the database and every stored file into a folder, consistently, while the "
        "studio runs. Into the same folder again, only new files are copied."
    )

    def add_arguments(self, parser):
        parser.add_argument("folder", help="where the backup goes (created if missing)")

    def handle(self, folder, **options):
        try:
            summary = back_up(folder, self.stdout)
        except (BackupError, OSError) as error:  # OSError: a disk full, a folder unreadable
            raise CommandError(f"Backup failed: {error}") from error
        self.stdout.write(self.style.SUCCESS(summary))
