"""Pictures made to order: real ones of any size and format, and PNGs built chunk by chunk
(decompression bombs, one-colour giants, text chunks)."""

import io
import struct
import zlib

from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image


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


def as_upload(content, name="picture.jpg"):
    """content as media.reencode_picture takes an upload: a named file object."""
    upload = io.BytesIO(content)
    upload.name = name
    return upload


def jpeg_upload(name="harbour.jpg", content=None):
    """A file field's upload, as a browser or an API client sends it."""
    return SimpleUploadedFile(name, content or picture_bytes(), content_type="image/jpeg")


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


def with_text(png, megabytes):
    """png with that many megabytes of compressed text chunks before its pixels."""
    text = zlib.compress(b"a" * 1_000_000)
    chunks = b"".join(png_chunk(b"zTXt", b"Note%d\0\0" % n + text) for n in range(megabytes))
    return png[:33] + chunks + png[33:]  # after the signature and the header
