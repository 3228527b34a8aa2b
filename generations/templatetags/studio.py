"""Template tags for pieces every page shows."""

from django import template

from .. import fragments

register = template.Library()


@register.simple_tag(takes_context=True)
def main_nav(context):
    """The main navigation's links for the person viewing the page."""
    return fragments.main_nav(context["user"])
