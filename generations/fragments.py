"""Rendered pieces of pages (gallery cards, live queue rows, the main navigation; the gallery's
filter bar in gallery.py), reused while what they show is unchanged.

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
QUEUE_ROW_TEMPLATE = "generations/partials/queue_row.html"
MAIN_NAV_TEMPLATE = "generations/partials/main_nav.html"


# What generations/partials/gallery_card.html shows, read as plain values: a card is keyed by
# them (and by whether the viewer favourited it) and rendered from them, so anything the
# template reads belongs here.
CARD_FIELDS = (
    "pk",
    "prompt",
    "status",
    "review_state",
    "owner__username",
    "video",
    "poster",
    "source_image__image",
)


def gallery_cards(rows, favourites):
    """HTML of one card per row (named tuples holding CARD_FIELDS), in order; `favourites`
    holds the pks of rows the viewer favourited. A page whose cards are all as before is one
    lookup (whole pages are kept apart, in fewer entries: each is 24 cards); otherwise only
    cards not seen before are rendered. Everyone who favourited a row shares its starred card."""
    inputs = [(*(getattr(row, name) for name in CARD_FIELDS), row.pk in favourites) for row in rows]
    return reused_or_rendered_one(
        f"cards:{digest(inputs)}", lambda: "".join(each_card(inputs)), cache_name="pages"
    )


def each_card(inputs):
    keys = [f"card:{digest(values)}" for values in inputs]
    inputs_by_key = dict(zip(keys, inputs, strict=True))

    def render(keys):
        return {
            key: render_to_string(
                CARD_TEMPLATE, {"generation": card_generation(inputs_by_key[key])}
            )
            for key in keys
        }

    return reused_or_rendered(keys, render)


def card_generation(values):
    """An unsaved Generation holding just a card's values (CARD_FIELDS, then whether the viewer
    favourited it): the card shows what its key says, with no second read that could see a
    newer state."""
    card = dict(zip((*CARD_FIELDS, "favourite"), values, strict=True))
    generation = Generation(
        pk=card["pk"],
        prompt=card["prompt"],
        status=card["status"],
        review_state=card["review_state"],
        video=card["video"],
        poster=card["poster"],
    )
    generation.owner = get_user_model()(username=card["owner__username"])
    generation.source_image = SourceImage(image=card["source_image__image"])
    generation.is_favourite = card["favourite"]
    return generation


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


def main_nav(user):
    """The main navigation's links, alike for everyone who may go to the same places."""
    context = {
        "can_review": user.has_perm("generations.review_generation"),
        "can_manage": user.has_perm("generations.manage_studio"),
        "is_staff": user.is_staff,
    }
    return reused_or_rendered_one(
        f"main-nav:{digest(sorted(context.items()))}",
        lambda: render_to_string(MAIN_NAV_TEMPLATE, context),
    )


def reused_or_rendered_one(key, render, cache_name="local"):
    """HTML for one key: from this process's cache, else from render()."""
    [html] = reused_or_rendered([key], lambda keys: {key: render()}, cache_name)
    return html


def reused_or_rendered(keys, render, cache_name="local"):
    """HTML for each key in order: from this process's cache, else from render(missing keys),
    which returns {key: html} (a key it leaves out shows nothing)."""
    cache = caches[cache_name]
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
