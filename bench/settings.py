"""The studio's own settings plus the bench's URLconf, which adds the framework floor."""

from wanstudio.settings import *  # noqa: F403

ROOT_URLCONF = "bench.urls"
