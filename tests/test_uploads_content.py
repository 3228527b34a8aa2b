"""Uploads are judged by their content: only real JPEG, PNG and WebP pictures get in."""

import io
import struct
import subprocess
import sys
import zlib
from pathlib import Path

import pytest

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
