"""Dropping cached values whose source a transaction changes."""

from django.core.cache import cache
from django.db import transaction


def forget(keys):
    """Drop keys from the cache now, and again once the change is committed: a request that
    read the old rows in between must not keep them."""
    keys = list(keys)
    cache.delete_many(keys)
    transaction.on_commit(lambda: cache.delete_many(keys))
