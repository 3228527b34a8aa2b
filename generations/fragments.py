"""Rendered pieces of pages (gallery cards, the gallery's filter bar, live queue rows), reused
while what they show is unchanged.

A piece's cache key is a digest of everything its template reads, so an entry is never stale
and nothing has to be invalidated: a new review state or favourite is simply another key.
Entries live in each web process (a per-process copy is always correct, and a lookup costs no
network round trip). With S3, posters are presigned links that expire, so an entry lives for
half a link's lifetime at most.
"""

import hashlib

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.cache import caches
from django.template.loader import render_to_string
from django.utils.safestring import mark_safe
from django.utils.timesince import timesince

from .models import Generation, SourceImage

CARD_TEMPLATE = "generations/partials/gallery_card.html"
FILTER_BAR_TEMPLATE = "generations/partials/gallery_filters.html"
QUEUE_ROW_TEMPLATE = "generations/partials/queue_row.html"


# What generations/partials/gallery_card.html shows, read as plain values: a card is keyed by
# them and rendered from them, so anything the template reads belongs here.
CARD_FIELDS = (
    "pk",
    "prompt",
    "status",
    "review_state",
    "viewer_favourite__id",
    "owner__username",
    "video",
    "poster",
    "source_image__image",
)


def card_inputs(row):
    """The row's values as the card shows them: that the viewer favourited it, not which
    favourite it is, so everyone who did shares one card."""
    return tuple(
        is_favourite(row) if name == "viewer_favourite__id" else getattr(row, name)
        for name in CARD_FIELDS
    )


def is_favourite(row):
    return row.viewer_favourite__id is not None


def gallery_cards(rows):
    """HTML of one card per row (named tuples of CARD_FIELDS), in order, rendering only cards
    not seen before."""
    keys = [f"card:{digest(card_inputs(row))}" for row in rows]
    rows_by_key = dict(zip(keys, rows, strict=True))

    def render(keys):
        return {
            key: render_to_string(CARD_TEMPLATE, {"generation": card_generation(rows_by_key[key])})
            for key in keys
        }

    return reused_or_rendered(keys, render)


def card_generation(row):
    """An unsaved Generation holding just the row's values: the card shows what its key says,
    with no second read that could see a newer state."""
    generation = Generation(
        pk=row.pk,
        prompt=row.prompt,
        status=row.status,
        review_state=row.review_state,
        video=row.video,
        poster=row.poster,
    )
    generation.owner = get_user_model()(username=row.owner__username)
    generation.source_image = SourceImage(image=row.source_image__image)
    generation.is_favourite = is_favourite(row)
    return generation


def filter_bar(filters, options):
    """The gallery's filter form as the URL set it, with the teammates and presets offered."""
    query = sorted((name, values) for name, values in filters.data.lists() if name != "after")
    key = f"filters:{digest((query, options))}"
    context = {"filters": filters, "options": options}
    [html] = reused_or_rendered(
        [key], lambda keys: {key: render_to_string(FILTER_BAR_TEMPLATE, context)}
    )
    return html


def queue_rows(generations, user):
    """HTML of the live queue's rows for this viewer, rendering only rows that changed: state,
    progress, the minute shown as time in state, or whether the viewer may act on it."""
    may_change_any = user.has_perm("generations.change_generation")
    contexts = {}
    for generation in generations:
        context = {
            "generation": generation,
            "in_state": timesince(generation.status_changed_at),
            "can_act": may_change_any or generation.owner_id == user.pk,
        }
        contexts[f"queue-row:{digest(queue_row_inputs(**context))}"] = context

    def render(keys):
        return {key: render_to_string(QUEUE_ROW_TEMPLATE, contexts[key]) for key in keys}

    return reused_or_rendered(list(contexts), render)


def queue_row_inputs(generation, in_state, can_act):
    """What generations/partials/queue_row.html shows; anything it reads belongs here."""
    return (
        generation.pk,
        generation.prompt,
        generation.status,
        generation.owner.get_username(),
        generation.clarity,
        generation.status_changed_at,
        in_state,
        generation.eta_seconds,
        generation.progress_percent,
        generation.failure_reason,
        generation.poster.name,
        generation.source_image.image.name,
        can_act,
    )


def reused_or_rendered(keys, render):
    """HTML for each key in order: from this process's cache, else from render(missing keys),
    which returns {key: html} (a key it leaves out shows nothing)."""
    cache = caches["local"]
    known = cache.get_many(keys)
    missing = [key for key in keys if key not in known]
    if missing:
        rendered = render(missing)
        cache.set_many(rendered, timeout=lifetime())
        known.update(rendered)
    return [mark_safe(known.get(key, "")) for key in keys]


def lifetime():
    """With S3, pieces carry presigned links: keep them for half a link's life at most."""
    if settings.S3_BUCKET:
        return settings.MEDIA_LINK_MAX_AGE // 2
    return 24 * 3600


def digest(inputs):
    return hashlib.blake2b(repr(inputs).encode(), digest_size=16).hexdigest()
