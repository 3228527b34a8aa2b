"""Roles are groups: member, reviewer, admin (created by migration 0003_roles).

Reviewers and admins see flagged work of others (`view_flagged_generation`; reviewers since
0008_reviewers_see_flagged): the one who flagged a video may need to review it again.
"""

from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.models import Group, Permission
from django.db.models import Q

MEMBER, REVIEWER, ADMIN = "member", "reviewer", "admin"


def join_members_on_creation(sender, instance, created, **kwargs):
    """A new account can work at once: everyone starts as a member."""
    if created and not instance.is_superuser:
        group = Group.objects.filter(name=MEMBER).first()
        if group:
            instance.groups.add(group)


def admins_are_staff(sender, instance, action, pk_set, **kwargs):
    """The admin role includes Django's admin site, which needs the staff flag."""
    if action != "post_add" or not pk_set:
        return
    if Group.objects.filter(pk__in=pk_set, name=ADMIN).exists() and not instance.is_staff:
        instance.is_staff = True
        instance.save(update_fields=["is_staff"])


def assign_role(user, role):
    """Make user exactly one of the three roles."""
    user.groups.remove(*Group.objects.filter(name__in=[MEMBER, REVIEWER, ADMIN]))
    user.groups.add(Group.objects.get(name=role))


class PermissionsBackend(ModelBackend):
    """Django's model backend, reading a person's permissions (their own and their roles') in
    one query per request, so a role taken away counts on the very next request."""

    def get_all_permissions(self, user_obj, obj=None):
        if not user_obj.is_active or user_obj.is_anonymous or obj is not None:
            return set()
        if not hasattr(user_obj, "_perm_cache"):
            user_obj._perm_cache = read_permissions(user_obj)
        return user_obj._perm_cache


def read_permissions(user):
    granted = Permission.objects.all()
    if not user.is_superuser:
        granted = granted.filter(Q(user=user) | Q(group__user=user))
    return {
        f"{app_label}.{codename}"
        for app_label, codename in granted.values_list("content_type__app_label", "codename")
    }


def role_of(user):
    """The person's role, read from their groups (prefetched on a list), or None."""
    names = {group.name for group in user.groups.all()}
    return next((role for role in (ADMIN, REVIEWER, MEMBER) if role in names), None)


def change_role(user, role):
    """assign_role, and the staff flag follows: only admins (and superusers) keep Django's
    admin site."""
    assign_role(user, role)
    if role != ADMIN and user.is_staff and not user.is_superuser:
        user.is_staff = False
        user.save(update_fields=["is_staff"])


def set_active(user, active):
    """Deactivate or reactivate an account; never delete it, so its work and ledger stay.
    An inactive person's sessions and API token stop working on their next request."""
    user.is_active = active
    user.save(update_fields=["is_active"])
