from django.apps import AppConfig
from django.db.models.signals import post_migrate


class GenerationsConfig(AppConfig):
    name = "generations"
    verbose_name = "Generations"

    def ready(self):
        from django.contrib.auth import get_user_model
        from django.db.models.signals import m2m_changed, post_save, pre_delete
        from django_q.signals import post_spawn

        from . import jobs, roles
        from .models import Generation
        from .models.generation import refuse_deleting_in_flight

        post_spawn.connect(jobs.on_worker_start, dispatch_uid="generations-worker-start")
        post_migrate.connect(install_schedules, sender=self)
        user_model = get_user_model()
        pre_delete.connect(refuse_deleting_in_flight, sender=Generation)
        post_save.connect(roles.join_members_on_creation, sender=user_model)
        m2m_changed.connect(roles.admins_are_staff, sender=user_model.groups.through)


def install_schedules(**kwargs):
    from .jobs import ensure_schedules

    ensure_schedules()
