"""Uploaded pictures are re-encoded from pixels and deduplicated."""

import io

import pytest
from PIL import Image

from generations import media
from generations.models import SourceImage

from .conftest import picture_bytes


def as_upload(content, name="p.jpg"):
    upload = io.BytesIO(content)
    upload.name = name
    return upload


def test_exif_is_dropped_and_orientation_applied():
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90° clockwise when shown
    exif[0x8825] = {1: "N", 2: (52.0, 22.0, 0.0)}  # GPS
    content = picture_bytes(640, 400, exif=exif.tobytes())

    picture = media.reencode_picture(as_upload(content), max_bytes=10_000_000)

    stored = Image.open(io.BytesIO(picture.content))
    assert (picture.width, picture.height) == (400, 640)
    assert stored.size == (400, 640)
    assert not stored.getexif()


def test_same_pixels_uploaded_twice_reuse_one_row(media_root, user):
    content = picture_bytes()
    first = SourceImage.objects.store(
        media.reencode_picture(as_upload(content), 10**7), "a.jpg", user
    )
    second = SourceImage.objects.store(
        media.reencode_picture(as_upload(content), 10**7), "b.jpg", user
    )
    assert first.pk == second.pk
    assert SourceImage.objects.count() == 1


@pytest.mark.parametrize(
    "content, message",
    [
        (b"%PDF-1.4 not a picture", "not a picture"),
        (b'<svg xmlns="http://www.w3.org/2000/svg"></svg>', "not a picture"),
        (picture_bytes(64, 64), "at least"),
        (picture_bytes(640, 480, fmt="GIF"), "JPEG, PNG or WebP"),
    ],
)
def test_unusable_uploads_are_refused_with_a_clear_message(content, message):
    with pytest.raises(media.PictureError, match=message):
        media.reencode_picture(as_upload(content), max_bytes=10_000_000)


def test_too_large_file_is_refused_before_decoding():
    upload = as_upload(picture_bytes())
    upload.size = 30_000_000
    with pytest.raises(media.PictureError, match="limit"):
        media.reencode_picture(upload, max_bytes=20_000_000)
