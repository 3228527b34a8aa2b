"""The share links' piece of a video's page: "Share…" and what guests decided about it."""

from django import template

from generations import shares

register = template.Library()


@register.inclusion_tag("studio/partials/share_block.html")
def share_block(generation):
    return {
        "generation": generation,
        "may_share": generation.status == "succeeded" and bool(generation.video),
        "guest_decisions": list(shares.decisions_on(generation)[:20]),
    }
