"""Rendered gallery cards, reused while what a card shows is unchanged.

A card's cache key is a digest of everything its template reads, so an entry is never stale
and nothing has to be invalidated: a new review state or favourite is simply another key.
Entries live in each web process (a per-process copy is always correct, and a lookup costs no
network round trip). With S3, posters are presigned links that expire, so an entry lives for
half a link's lifetime at most.
"""

import hashlib

from django.conf import settings
from django.core.cache import caches
from django.template.loader import render_to_string
from django.utils.safestring import mark_safe

CARD_TEMPLATE = "generations/partials/gallery_card.html"


def card_inputs(generation):
    """What generations/partials/gallery_card.html shows; anything it reads belongs here."""
    return (
        generation.pk,
        generation.prompt,
        generation.status,
        generation.review_state,
        generation.is_favourite,
        generation.owner.get_username(),
        generation.video.name,
        generation.poster.name,
        generation.source_image.image.name,
    )


def card_key(generation):
    digest = hashlib.blake2b(repr(card_inputs(generation)).encode(), digest_size=16)
    return f"card:{digest.hexdigest()}"


def gallery_cards(generations):
    """HTML of one card per generation, in order, rendering only those not seen before."""
    cache = caches["fragments"]
    keys = [card_key(generation) for generation in generations]
    known = cache.get_many(keys)
    rendered = {}
    for key, generation in zip(keys, generations, strict=True):
        if key not in known:
            known[key] = rendered[key] = render_to_string(CARD_TEMPLATE, {"generation": generation})
    if rendered:
        cache.set_many(rendered, timeout=card_lifetime())
    return [mark_safe(known[key]) for key in keys]


def card_lifetime():
    if settings.S3_BUCKET:
        return settings.MEDIA_LINK_MAX_AGE // 2
    return 24 * 3600
