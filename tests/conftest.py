import io

import pytest
from django.contrib.auth import get_user_model
from PIL import Image

from generations import media
from generations.models import SourceImage


def picture_bytes(width=640, height=480, colour=(200, 120, 40), fmt="JPEG", **save_options):
    """A real picture with some structure, so a camera move over it is visible."""
    picture = Image.new("RGB", (width, height), colour)
    for x in range(0, width, 40):
        for y in range(0, height, 40):
            if (x + y) // 40 % 2:
                picture.paste((40, 60, 160), (x, y, x + 20, y + 20))
    out = io.BytesIO()
    picture.save(out, format=fmt, **save_options)
    return out.getvalue()


@pytest.fixture
def media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


@pytest.fixture
def user(db):
    return get_user_model().objects.create_user("maya", password="a-long-test-password")


@pytest.fixture
def other_user(db):
    return get_user_model().objects.create_user("noor", password="a-long-test-password")


@pytest.fixture
def source_image(db, media_root, user):
    upload = io.BytesIO(picture_bytes())
    upload.name = "harbour.jpg"
    picture = media.reencode_picture(upload, max_bytes=10_000_000)
    return SourceImage.objects.store(picture, "harbour.jpg", user)
