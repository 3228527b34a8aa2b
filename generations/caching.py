"""Values a web process keeps for a moment: dropped when their source changes, or shared
between requests for a second with each person still seeing their own changes."""

import time

from django.conf import settings
from django.core.cache import cache
from django.db import transaction

# Set on the answer to any change a person makes in the browser: when they last wrote.
WROTE_COOKIE = "studio_wrote"
WROTE_COOKIE_AGE = 60  # seconds; longer than any freshness a shared read may have


def forget(keys):
    """Drop keys from the cache now, and again once the change is committed: a request that
    read the old rows in between must not keep them."""
    keys = list(keys)
    cache.delete_many(keys)
    transaction.on_commit(lambda: cache.delete_many(keys))


def shared_read(request, key, read, freshness):
    """read()'s value, shared by this process's requests for `freshness` seconds. A shared
    value read before the person's last change (by their browser's stamp) is not good enough
    for them: they get a new read, which the others then share. So their own change shows on
    their next page, whichever web process answers it."""
    if freshness <= 0:
        return read()
    kept = cache.get(key)
    if kept is not None and read_after_last_write(request, read_at=kept[0]):
        return kept[1]
    read_at = time.time()
    value = read()
    cache.set(key, (read_at, value), timeout=freshness)
    return value


# Web hosts' clocks may disagree by this much (NTP keeps them far closer).
CLOCK_MARGIN = 1.0


def read_after_last_write(request, read_at):
    """Whether a read that started at `read_at` saw everything this browser has changed."""
    try:
        wrote_at = float(request.COOKIES.get(WROTE_COOKIE, ""))
    except ValueError:
        return True  # no stamp, or not one we wrote
    now = time.time()
    if not now - WROTE_COOKIE_AGE <= wrote_at <= now + CLOCK_MARGIN:
        return True  # an old stamp, or one no clock of ours made
    return read_at > wrote_at + CLOCK_MARGIN


class ReadYourWritesMiddleware:
    """Stamps the answer to each change made in a browser session with its time (see
    shared_read). The cookie only ever makes a page fresher, so it needs no signature."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if (
            request.method not in ("GET", "HEAD", "OPTIONS")
            and response.status_code < 400
            and settings.SESSION_COOKIE_NAME in request.COOKIES
        ):
            response.set_cookie(
                WROTE_COOKIE,
                f"{time.time():.3f}",
                max_age=WROTE_COOKIE_AGE,
                secure=settings.SESSION_COOKIE_SECURE,
                httponly=True,
                samesite="Lax",
            )
        return response
