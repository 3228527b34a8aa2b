"""Template tags for pieces every page shows."""

from django import template

from generations import failures
from generations.models import Status

register = template.Library()

# A reason kept on these rows is history, not news: the video exists, or a person stopped it.
FAILURE_IS_HISTORY = (Status.SUCCEEDED, Status.CANCELED)


@register.inclusion_tag("studio/partials/main_nav.html", takes_context=True)
def main_nav(context):
    """The main navigation's links for the person viewing the page."""
    user = context["user"]
    return {
        "can_review": user.has_perm("generations.review_generation"),
        "can_manage": user.has_perm("generations.manage_studio"),
        "is_staff": user.is_staff,
    }


@register.filter
def failure(generation):
    """Why a generation failed or waits, as failures.explain() puts it; None when it did not.

    {% with failure=generation|failure %}{% if failure %}{{ failure.summary }}…{% endif %}
    """
    if not generation.failure_reason or generation.status in FAILURE_IS_HISTORY:
        return None
    return failures.explain(generation.failure_reason)
