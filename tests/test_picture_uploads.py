"""Uploaded pictures (generations/media.py). Judged by their content: only real JPEG, PNG and
WebP pictures get in. Re-encoded from pixels: no GPS, EXIF, ICC or text survives, the same
pixels twice are one picture. Decoded in bounded memory, the header deciding first, and stored
at most 2560 px on the long side (a real web process is measured in
test_picture_uploads_memory.py)."""

import io
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image, ImageCms, ImageFile, JpegImagePlugin, PngImagePlugin

from generations import media
from generations.models import SourceImage

from .support.pictures import (
    as_upload,
    picture_bytes,
    png_claiming,
    uniform_png,
    with_text,
)

ROOT = Path(__file__).resolve().parent.parent
REFUSED = "upload a JPEG, PNG or WebP picture"
HTML = b"<!doctype html><html><body><script>alert(document.cookie)</script></body></html>"
GPS_IFD = 0x8825
ORIENTATION = 0x0112
LOCATION_TEXT = b"52.3731 N, 4.8922 E"


def stored_picture(picture):
    return Image.open(io.BytesIO(picture.content))


@pytest.mark.parametrize(
    "content, name",
    [
        (b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>', "a.svg"),
        (b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg"/>', "a.png"),
        (HTML, "holiday.jpg"),
        (b"\x89PNG\r\n\x1a\n" + HTML, "header-then-html.png"),
        (b"%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj\n", "scan.jpg"),
        (
            b"%!PS-Adobe-3.0 EPSF-3.0\n%%BoundingBox: 0 0 640 480\nshowpage\n",
            "drawing.jpg",
        ),
        (picture_bytes(640, 480, fmt="EPS"), "real.eps"),
        (picture_bytes(640, 480, fmt="GIF"), "real.gif"),
        (picture_bytes(640, 480, fmt="TIFF"), "real.jpg"),
        (picture_bytes(640, 480, fmt="BMP"), "real.png"),
        (b"", "empty.jpg"),
    ],
    ids=[
        "svg",
        "svg-named-png",
        "html-named-jpg",
        "png-header-then-html",
        "pdf",
        "eps-text",
        "eps-real",
        "gif",
        "tiff",
        "bmp",
        "empty",
    ],
)
def test_anything_but_jpeg_png_or_webp_is_refused_by_content(content, name):
    with pytest.raises(media.PictureError, match=REFUSED):
        media.reencode_picture(as_upload(content, name), max_bytes=10_000_000)


@pytest.mark.parametrize("fmt", ["JPEG", "PNG", "WEBP"])
def test_jpeg_png_and_webp_are_accepted_whatever_their_name(fmt):
    upload = as_upload(picture_bytes(640, 480, fmt=fmt), name="named-wrongly.gif")

    picture = media.reencode_picture(upload, max_bytes=10_000_000)

    assert picture.content[:3] == b"\xff\xd8\xff"  # always stored as a fresh JPEG
    assert (picture.width, picture.height) == (640, 480)


def test_a_jpeg_with_html_appended_is_stored_without_it():
    polyglot = picture_bytes(640, 480) + HTML

    picture = media.reencode_picture(as_upload(polyglot), max_bytes=10_000_000)

    assert b"<script" not in picture.content


def test_size_cap_is_checked_before_any_decoding(monkeypatch):
    opened = []
    monkeypatch.setattr(media.Image, "open", lambda *args, **kwargs: opened.append(args))
    upload = as_upload(picture_bytes(640, 480))  # no .size: measured by seeking

    with pytest.raises(media.PictureError, match="limit is"):
        media.reencode_picture(upload, max_bytes=1000)
    assert opened == []


def test_a_picture_just_over_pillows_pixel_limit_is_refused():
    """Pillow only warns between its limit and twice it; the warning must count as an error."""
    with pytest.raises(media.PictureError, match="too many pixels"):
        media.reencode_picture(as_upload(png_claiming(9500, 9500)), max_bytes=10_000_000)


def test_a_decompression_bomb_is_refused():
    with pytest.raises(media.PictureError, match="too many pixels"):
        media.reencode_picture(as_upload(png_claiming(30000, 30000)), max_bytes=10_000_000)


BOMB_UNDER_A_MEMORY_LIMIT = """
import io, resource, sys
from generations import media
limit = 600 * 2**20  # an RGB 20000x20000 picture alone would need 1.2 GB
resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
try:
    media.reencode_picture(io.BytesIO(sys.stdin.buffer.read()), max_bytes=10_000_000)
except media.PictureError as error:
    print(error)
"""


def test_a_bomb_is_refused_within_bounded_memory():
    result = subprocess.run(
        [sys.executable, "-c", BOMB_UNDER_A_MEMORY_LIMIT],
        input=png_claiming(20000, 20000),
        cwd=ROOT,
        capture_output=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr.decode()[-2000:]
    assert b"too many pixels" in result.stdout


@pytest.mark.parametrize("size", [(10, 10), (255, 800), (800, 200)])
def test_too_small_pictures_are_refused_with_their_size(size):
    with pytest.raises(media.PictureError, match=rf"{size[0]}×{size[1]} pixels.*at least 256"):
        media.reencode_picture(as_upload(picture_bytes(*size)), max_bytes=10_000_000)


def test_too_large_dimensions_are_refused_before_decoding(monkeypatch):
    upload = as_upload(picture_bytes(1200, 400))
    monkeypatch.setattr(media, "MAX_SIDE", 1000)
    monkeypatch.setattr(
        media.Image.Image, "load", lambda self: pytest.fail("decoded an oversized picture")
    )
    with pytest.raises(media.PictureError, match=r"1200×400 pixels.*at most 1000"):
        media.reencode_picture(upload, max_bytes=10_000_000)


def test_the_smallest_allowed_picture_is_accepted():
    picture = media.reencode_picture(as_upload(picture_bytes(256, 256)), max_bytes=10_000_000)
    assert (picture.width, picture.height) == (256, 256)


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


# --- bounded memory: the header decides, and what is stored is what a video can use ----------


def never_decoded(monkeypatch):
    monkeypatch.setattr(ImageFile.ImageFile, "load", lambda self: pytest.fail("decoded it"))


def test_a_png_with_more_pixels_than_it_may_have_is_refused_from_its_header(monkeypatch):
    never_decoded(monkeypatch)
    with pytest.raises(media.PictureError) as refused:
        media.reencode_picture(as_upload(png_claiming(8192, 8192)), max_bytes=10_000_000)
    assert str(refused.value) == (
        "The picture is 8192×8192 pixels (67.1 megapixels); a PNG picture may have at most "
        "20 megapixels. Resize it to 4472×4472 pixels or smaller and upload it again."
    )


def test_the_largest_png_is_accepted_and_one_pixel_more_is_not():
    largest = media.reencode_picture(as_upload(uniform_png(4472, 4472)), max_bytes=10_000_000)
    assert (largest.width, largest.height) == (2236, 2236)

    with pytest.raises(media.PictureError, match="at most 20 megapixels"):
        media.reencode_picture(as_upload(uniform_png(4472, 4473)), max_bytes=10_000_000)


def test_a_png_with_more_text_than_is_kept_is_refused():
    """Pillow would keep 64 MB of text of a picture in memory; all of it is dropped anyway."""
    media.reencode_picture(as_upload(with_text(uniform_png(300, 300), 15)), max_bytes=10_000_000)

    with pytest.raises(media.PictureError, match=REFUSED):
        media.reencode_picture(as_upload(with_text(uniform_png(300, 300), 17)), 10_000_000)


def test_a_webp_may_have_fewer_pixels_than_a_png(monkeypatch):
    """Pillow's WebP reader takes four times the memory per pixel of its PNG reader."""
    monkeypatch.setattr(media, "DECODE_BUDGET", 16 * 500_000)  # a WebP of 0.5 MP, a PNG of 2
    webp = as_upload(picture_bytes(800, 700, fmt="WEBP"))
    png = as_upload(picture_bytes(800, 700, fmt="PNG"))

    with pytest.raises(media.PictureError, match=r"WebP picture may have at most 0\.5 megapix"):
        media.reencode_picture(webp, max_bytes=10_000_000)
    assert media.reencode_picture(png, max_bytes=10_000_000).width == 800


def test_a_progressive_jpeg_over_its_cap_is_refused_and_a_baseline_one_is_not(monkeypatch):
    """A progressive JPEG keeps the whole picture in memory however small it is decoded."""
    monkeypatch.setattr(media, "DECODE_BUDGET", 2_000_000)  # 4:2:0: 3 bytes a pixel, 0.67 MP
    progressive = as_upload(picture_bytes(1000, 800, progressive=True))
    baseline = as_upload(picture_bytes(1000, 800))

    with pytest.raises(media.PictureError, match="or save it as a baseline JPEG"):
        media.reencode_picture(progressive, max_bytes=10_000_000)
    assert media.reencode_picture(baseline, max_bytes=10_000_000).width == 1000


def test_a_jpeg_whose_first_scan_leaves_out_a_colour_counts_as_progressive(monkeypatch):
    monkeypatch.setattr(media, "DECODE_BUDGET", 2_000_000)
    content = bytearray(picture_bytes(1000, 800))
    start_of_scan = content.index(b"\xff\xda")
    content[start_of_scan + 4] = 1  # one component in the first scan, the others later

    with pytest.raises(media.PictureError, match="1000×800 pixels"):
        media.reencode_picture(as_upload(bytes(content)), max_bytes=10_000_000)


def test_a_large_jpeg_is_decoded_reduced_to_what_a_video_can_use(monkeypatch):
    decoded = []
    load = JpegImagePlugin.JpegImageFile.load
    monkeypatch.setattr(
        JpegImagePlugin.JpegImageFile, "load", lambda self: decoded.append(self.size) or load(self)
    )

    picture = media.reencode_picture(as_upload(picture_bytes(4000, 3000)), max_bytes=10_000_000)

    assert set(decoded) == {(2000, 1500)}  # half size: still more than 1280 on the long side
    assert (picture.width, picture.height) == (2000, 1500)
    assert stored_picture(picture).size == (2000, 1500)


@pytest.mark.parametrize(
    "size, stored",
    [((2560, 1440), (2560, 1440)), ((3000, 2000), (1500, 1000)), ((6000, 3000), (2000, 1000))],
)
def test_a_png_is_stored_with_at_most_2560_pixels_on_its_long_side(size, stored):
    picture = media.reencode_picture(as_upload(uniform_png(*size)), max_bytes=10_000_000)
    assert (picture.width, picture.height) == stored
    assert stored_picture(picture).size == stored


def test_the_orientation_is_applied_to_a_reduced_picture():
    exif = Image.Exif()
    exif[0x0112] = 6  # turn right when shown
    content = picture_bytes(4000, 3000, exif=exif.tobytes())

    picture = media.reencode_picture(as_upload(content), max_bytes=10_000_000)

    assert (picture.width, picture.height) == (1500, 2000)


@pytest.mark.parametrize("size", [(300, 300), (3000, 300)], ids=["whole", "reduced"])
def test_transparency_becomes_white(size):
    clear = uniform_png(*size, colour_type=6, fill=0)  # black, fully transparent

    picture = media.reencode_picture(as_upload(clear), max_bytes=10_000_000)

    assert stored_picture(picture).getpixel((10, 10)) == (255, 255, 255)


def test_a_16_bit_grey_png_keeps_its_grey():
    grey = uniform_png(300, 300, colour_type=0, depth=16, fill=0x80)  # 0x8080 of 0xFFFF

    picture = media.reencode_picture(as_upload(grey), max_bytes=10_000_000)

    assert all(abs(value - 128) <= 2 for value in stored_picture(picture).getpixel((10, 10)))


def test_a_16_bit_colour_png_keeps_its_colour():
    rgb16 = uniform_png(3000, 300, colour_type=2, depth=16, fill=0x40)

    picture = media.reencode_picture(as_upload(rgb16), max_bytes=10_000_000)

    assert picture.width == 1500
    assert all(abs(value - 64) <= 2 for value in stored_picture(picture).getpixel((10, 10)))


# --- no metadata survives ------------------------------------------------------------------


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


# --- through the page and the JSON API -------------------------------------------------------


def test_an_upload_through_the_api_is_stored_clean_under_a_random_name(
    member_client, media_root, gps_tagged_jpeg
):
    upload = SimpleUploadedFile("maya-at-home.jpg", gps_tagged_jpeg, content_type="image/jpeg")

    response = member_client.post("/api/generations/", {"prompt": "a walk", "image": upload})

    assert response.status_code == 201, response.content
    source = SourceImage.objects.get()
    assert re.fullmatch(r"sources/\d{4}/\d{2}/[0-9a-f]{32}\.jpg", source.image.name)
    content = stored_bytes(source)
    with Image.open(io.BytesIO(content)) as stored:
        assert GPS_IFD not in stored.getexif()
        assert not stored.getexif()
    assert b"PhoneMaker" not in content


def test_a_bomb_upload_is_a_clear_400_not_a_500(member_client, media_root):
    bomb = SimpleUploadedFile("bomb.png", png_claiming(30000, 30000), content_type="image/png")

    response = member_client.post("/api/generations/", {"prompt": "boom", "image": bomb})

    assert response.status_code == 400
    assert "too many pixels" in " ".join(response.json()["errors"]["image"])
    assert SourceImage.objects.count() == 0


def test_an_html_file_named_jpg_is_a_clear_400_on_the_page(member_client, media_root):
    fake = SimpleUploadedFile("cat.jpg", b"<html><script>alert(1)</script></html>", "image/jpeg")

    response = member_client.post("/", {"prompt": "a cat", "image": fake})

    assert response.status_code == 400
    assert "upload a JPEG, PNG or WebP picture" in response.content.decode()
    assert SourceImage.objects.count() == 0


def test_an_upload_over_the_size_setting_is_refused(member_client, media_root, settings):
    settings.UPLOAD_MAX_BYTES = 50_000
    noise = Image.frombytes("RGB", (300, 300), os.urandom(300 * 300 * 3))
    content = io.BytesIO()
    noise.save(content, format="PNG")
    big = SimpleUploadedFile("big.png", content.getvalue(), "image/png")
    assert big.size > 50_000

    response = member_client.post("/api/generations/", {"prompt": "big", "image": big})

    assert response.status_code == 400
    assert "the limit is" in " ".join(response.json()["errors"]["image"])
