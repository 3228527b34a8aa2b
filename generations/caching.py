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
    """read()'s value, shared by this process's requests for `freshness` seconds. A person
    whose browser changed something less than `freshness` ago gets (and shares) a new read, so
    their own change shows on their next page whichever web process answers it."""
    if freshness <= 0:
        return read()
    if wrote_within(request, freshness):
        value = read()
        cache.set(key, value, timeout=freshness)
        return value
    return cache.get_or_set(key, read, timeout=freshness)


def wrote_within(request, seconds):
    try:
        wrote_at = float(request.COOKIES.get(WROTE_COOKIE, ""))
    except ValueError:
        return False  # no cookie, or one we did not write
    return time.time() - wrote_at < seconds


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
