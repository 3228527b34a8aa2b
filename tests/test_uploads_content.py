"""Uploads are judged by their content: only real JPEG, PNG and WebP pictures get in."""

import io
import struct
import subprocess
import sys
import zlib
from pathlib import Path

import pytest
from PIL import Image, ImageFile, JpegImagePlugin

from generations import media

from .conftest import picture_bytes

ROOT = Path(__file__).resolve().parent.parent
REFUSED = "upload a JPEG, PNG or WebP picture"
HTML = b"<!doctype html><html><body><script>alert(document.cookie)</script></body></html>"


def as_upload(content, name="picture.jpg"):
    upload = io.BytesIO(content)
    upload.name = name
    return upload


def png_chunk(kind, data):
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def png_claiming(width, height):
    """A tiny PNG whose header announces width×height RGB pixels: a decompression bomb."""
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    rows = zlib.compress(b"\0" * (width * 3 + 1) * 4)
    return (
        b"\x89PNG\r\n\x1a\n"
        + png_chunk(b"IHDR", header)
        + png_chunk(b"IDAT", rows)
        + png_chunk(b"IEND", b"")
    )


CHANNELS = {0: 1, 2: 3, 4: 2, 6: 4}  # PNG colour type -> samples per pixel


def uniform_png(width, height, colour_type=2, depth=8, fill=0):
    """A real PNG of one colour (every byte of every row is fill): large, yet a few KB."""
    header = struct.pack(">IIBBBBB", width, height, depth, colour_type, 0, 0, 0)
    row = b"\0" + bytes([fill]) * (width * CHANNELS[colour_type] * depth // 8)
    compressor = zlib.compressobj(9)
    rows = b"".join(compressor.compress(row) for _ in range(height)) + compressor.flush()
    return (
        b"\x89PNG\r\n\x1a\n"
        + png_chunk(b"IHDR", header)
        + png_chunk(b"IDAT", rows)
        + png_chunk(b"IEND", b"")
    )


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


def with_text(png, megabytes):
    """png with that many megabytes of compressed text chunks before its pixels."""
    text = zlib.compress(b"a" * 1_000_000)
    chunks = b"".join(png_chunk(b"zTXt", b"Note%d\0\0" % n + text) for n in range(megabytes))
    return png[:33] + chunks + png[33:]  # after the signature and the header


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
