from django.apps import AppConfig
from django.db.models.signals import post_migrate


class GenerationsConfig(AppConfig):
    name = "generations"
    verbose_name = "Generations"

    def ready(self):
        from django_q.signals import post_spawn

        from . import tasks

        post_spawn.connect(tasks.on_worker_start, dispatch_uid="generations-worker-start")
        post_migrate.connect(install_schedules, sender=self)


def install_schedules(**kwargs):
    from .tasks import ensure_schedules

    ensure_schedules()
