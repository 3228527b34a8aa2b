"""Presigned links to stored files, when media lives in an S3-compatible bucket.

Kept apart from object_storage so that a studio on local files never imports boto3.
"""

from django.conf import settings
from django.core.files.storage import default_storage


def presigned_link(name, max_age):
    """A link anyone may GET for max_age seconds when media lives in a bucket; else None."""
    if not name or not hasattr(default_storage, "bucket_name"):
        return None
    return default_storage.url(name, expire=max_age)


def source_picture_link(name):
    """The API's servers fetch a source picture straight from the bucket, not from the studio."""
    return presigned_link(name, settings.SOURCE_LINK_MAX_AGE)
