"""Every stored picture is re-encoded from pixels: no GPS, EXIF, ICC or text survives."""

import io
import os
import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image, ImageCms, PngImagePlugin

from generations import media
from generations.models import SourceImage

from .conftest import picture_bytes

GPS_IFD = 0x8825
ORIENTATION = 0x0112
LOCATION_TEXT = b"52.3731 N, 4.8922 E"


@pytest.fixture
def gps_tagged_jpeg():
    """A phone photo: GPS position, camera make, orientation 6 (turn right), an ICC profile."""
    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker"  # Make
    exif[ORIENTATION] = 6
    exif[GPS_IFD] = {
        1: "N",
        2: (52.0, 22.0, 23.16),
        3: "E",
        4: (4.0, 53.0, 31.92),
        6: 12.5,  # altitude
    }
    icc = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    content = picture_bytes(640, 400, exif=exif.tobytes(), icc_profile=icc)
    with Image.open(io.BytesIO(content)) as original:  # the fixture really carries all of it
        assert original.getexif().get_ifd(GPS_IFD)[2] == (52.0, 22.0, 23.16)
        assert original.info.get("icc_profile")
    return content


@pytest.fixture
def png_with_text_chunks():
    info = PngImagePlugin.PngInfo()
    info.add_text("Comment", "taken at home")
    info.add_text("Location", LOCATION_TEXT.decode())
    info.add_itxt("XML:com.adobe.xmp", "<x:xmpmeta>secret</x:xmpmeta>")
    return picture_bytes(640, 480, fmt="PNG", pnginfo=info)


def stored_bytes(source_image):
    with source_image.image.open("rb") as handle:
        return handle.read()


def test_gps_exif_and_icc_are_gone_and_orientation_is_applied(gps_tagged_jpeg):
    picture = media.reencode_picture(io.BytesIO(gps_tagged_jpeg), max_bytes=10_000_000)

    with Image.open(io.BytesIO(picture.content)) as stored:
        assert stored.size == (400, 640)  # turned upright before the EXIF went away
        assert not stored.getexif()
        assert "icc_profile" not in stored.info
        assert "exif" not in stored.info
    assert b"Exif" not in picture.content
    assert b"PhoneMaker" not in picture.content


def test_png_text_chunks_are_gone(png_with_text_chunks):
    picture = media.reencode_picture(io.BytesIO(png_with_text_chunks), max_bytes=10_000_000)

    assert LOCATION_TEXT not in picture.content
    assert b"taken at home" not in picture.content
    assert b"xmpmeta" not in picture.content


def test_an_upload_through_the_api_is_stored_clean_under_a_random_name(
    client, user, media_root, gps_tagged_jpeg
):
    client.force_login(user)
    upload = SimpleUploadedFile("maya-at-home.jpg", gps_tagged_jpeg, content_type="image/jpeg")

    response = client.post("/api/generations/", {"prompt": "a walk", "image": upload})

    assert response.status_code == 201, response.content
    source = SourceImage.objects.get()
    assert re.fullmatch(r"sources/\d{4}/\d{2}/[0-9a-f]{32}\.jpg", source.image.name)
    content = stored_bytes(source)
    with Image.open(io.BytesIO(content)) as stored:
        assert GPS_IFD not in stored.getexif()
        assert not stored.getexif()
    assert b"PhoneMaker" not in content


def test_a_bomb_upload_is_a_clear_400_not_a_500(client, user, media_root):
    from .test_uploads_content import png_claiming

    client.force_login(user)
    bomb = SimpleUploadedFile("bomb.png", png_claiming(30000, 30000), content_type="image/png")

    response = client.post("/api/generations/", {"prompt": "boom", "image": bomb})

    assert response.status_code == 400
    assert "too many pixels" in " ".join(response.json()["errors"]["image"])
    assert SourceImage.objects.count() == 0


def test_an_html_file_named_jpg_is_a_clear_400_on_the_page(client, user, media_root):
    client.force_login(user)
    fake = SimpleUploadedFile("cat.jpg", b"<html><script>alert(1)</script></html>", "image/jpeg")

    response = client.post("/", {"prompt": "a cat", "image": fake})

    assert response.status_code == 400
    assert "upload a JPEG, PNG or WebP picture" in response.content.decode()
    assert SourceImage.objects.count() == 0


def test_an_upload_over_the_size_setting_is_refused(client, user, media_root, settings):
    settings.UPLOAD_MAX_BYTES = 50_000
    client.force_login(user)
    noise = Image.frombytes("RGB", (300, 300), os.urandom(300 * 300 * 3))
    content = io.BytesIO()
    noise.save(content, format="PNG")
    big = SimpleUploadedFile("big.png", content.getvalue(), "image/png")
    assert big.size > 50_000

    response = client.post("/api/generations/", {"prompt": "big", "image": big})

    assert response.status_code == 400
    assert "the limit is" in " ".join(response.json()["errors"]["image"])
