import io

import pytest
from django.contrib.auth import get_user_model
from django.test import override_settings
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


@pytest.fixture(autouse=True)
def fast_password_hashing():
    with override_settings(PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"]):
        yield


@pytest.fixture(autouse=True)
def fresh_caches():
    """Each test starts without what an earlier one left in the caches (rendered cards are
    keyed by what they show, not by settings a test may override)."""
    from django.core.cache import caches

    for cache in caches.all():
        cache.clear()


@pytest.fixture
def media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


def user_with_role(username, role):
    from generations.roles import assign_role

    person = get_user_model().objects.create_user(username, password="a-long-test-password")
    assign_role(person, role)
    return person


@pytest.fixture
def user(db):
    """A member: new accounts join the member role on creation."""
    return get_user_model().objects.create_user("maya", password="a-long-test-password")


@pytest.fixture
def reviewer(db):
    return user_with_role("rui", "reviewer")


@pytest.fixture
def admin_user(db):
    return user_with_role("ada", "admin")


@pytest.fixture
def finished(source_image, user, media_root):
    """A succeeded generation with a (tiny, fake) stored video and poster."""
    from django.core.files.base import ContentFile
    from django.core.files.storage import default_storage

    from generations.models import Generation, Status

    generation = Generation.objects.create_queued(owner=user, source_image=source_image, prompt="p")
    video = default_storage.save("videos/test.mp4", ContentFile(b"\x00\x00\x00\x18ftypisom"))
    poster = default_storage.save("posters/test.jpg", ContentFile(b"\xff\xd8\xff"))
    Generation.objects.filter(pk=generation.pk).update(
        status=Status.SUCCEEDED, video=video, poster=poster, api_task_id=f"t-{generation.pk}"
    )
    generation.refresh_from_db()
    return generation


@pytest.fixture
def other_user(db):
    return get_user_model().objects.create_user("noor", password="a-long-test-password")


@pytest.fixture
def source_image(db, media_root, user):
    upload = io.BytesIO(picture_bytes())
    upload.name = "harbour.jpg"
    picture = media.reencode_picture(upload, max_bytes=10_000_000)
    return SourceImage.objects.store(picture, "harbour.jpg", user)
