"""Pictures in, videos out: re-encoding uploads and probing results with PyAV."""

import hashlib
import io
import warnings
from dataclasses import dataclass

import av
from PIL import Image, ImageOps

ACCEPTED_FORMATS = ("JPEG", "PNG", "WEBP")  # Pillow's names of the only readers we use
MIN_SIDE = 256
MAX_SIDE = 8192
NOT_A_PICTURE = "This file is not a picture we can read: upload a JPEG, PNG or WebP picture."


class PictureError(ValueError):
    """An upload that cannot become a source picture; the message is for the person."""


@dataclass(frozen=True)
class EncodedPicture:
    content: bytes
    width: int
    height: int
    sha256: str


def reencode_picture(upload, max_bytes):
    """Decode an uploaded JPEG/PNG/WebP and re-encode its pixels as a clean JPEG.

    The content decides, never the name: only Pillow's JPEG, PNG and WebP readers are
    offered the bytes, so SVG, HTML, PDF or EPS never reach a parser (or Ghostscript).
    Re-encoding drops EXIF (GPS included), ICC profiles and text chunks; the EXIF
    orientation is applied first so the picture looks the way the phone showed it.
    """
    size = upload_size(upload)
    if size > max_bytes:
        raise PictureError(
            f"The file is {size / 1_000_000:.1f} MB; the limit is {max_bytes / 1_000_000:.0f} MB."
        )
    upload.seek(0)
    try:
        with warnings.catch_warnings():
            # Pillow only warns between its pixel limit and twice it: refuse those too.
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(upload, formats=list(ACCEPTED_FORMATS)) as picture:
                check_dimensions(*picture.size)  # from the header, before any pixel is decoded
                picture.load()
                upright = ImageOps.exif_transpose(picture)
    except PictureError:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as error:
        raise PictureError("The picture has too many pixels to process safely.") from error
    except (OSError, SyntaxError, ValueError, EOFError) as error:  # OSError: unidentified too
        raise PictureError(NOT_A_PICTURE) from error

    width, height = upright.size
    rgb = flatten_to_rgb(upright)
    out = io.BytesIO()
    rgb.save(out, format="JPEG", quality=92, optimize=True)
    content = out.getvalue()
    return EncodedPicture(content, width, height, hashlib.sha256(content).hexdigest())


def upload_size(upload):
    """The upload's size in bytes, from Django's count or by seeking to its end."""
    size = getattr(upload, "size", None)
    if size is None:
        upload.seek(0, io.SEEK_END)
        size = upload.tell()
    return size


def check_dimensions(width, height):
    if min(width, height) < MIN_SIDE:
        raise PictureError(
            f"The picture is {width}×{height} pixels; a video needs at least {MIN_SIDE} pixels "
            "on each side."
        )
    if max(width, height) > MAX_SIDE:
        raise PictureError(
            f"The picture is {width}×{height} pixels; each side must be at most {MAX_SIDE} pixels."
        )


def flatten_to_rgb(picture):
    if picture.mode in ("RGBA", "LA", "P"):
        rgba = picture.convert("RGBA")
        background = Image.new("RGB", rgba.size, (255, 255, 255))
        background.paste(rgba, mask=rgba.getchannel("A"))
        return background
    return picture.convert("RGB")


@dataclass(frozen=True)
class VideoInfo:
    codec: str
    width: int
    height: int
    duration: float
    frames: int
    fps: float


class VideoError(ValueError):
    pass


def probe_video(path):
    """What PyAV finds in a stored video; raises VideoError if it is not a playable video."""
    try:
        with av.open(str(path)) as container:
            if not container.streams.video:
                raise VideoError("the file has no video stream")
            stream = container.streams.video[0]
            frames = stream.frames or sum(1 for _ in container.demux(stream) if _.size)
            duration = float(container.duration / av.time_base) if container.duration else 0.0
            fps = float(stream.average_rate) if stream.average_rate else 0.0
            return VideoInfo(
                stream.codec_context.name, stream.width, stream.height, duration, frames, fps
            )
    except av.error.FFmpegError as error:
        raise VideoError(f"the file is not a readable video ({error})") from error


def poster_jpeg(path, at_seconds=1.0):
    """A JPEG of the frame nearest at_seconds (the first frame of a shorter video)."""
    try:
        with av.open(str(path)) as container:
            stream = container.streams.video[0]
            chosen = None
            for frame in container.decode(stream):
                chosen = frame
                if frame.time is not None and frame.time >= at_seconds:
                    break
    except (av.error.FFmpegError, IndexError) as error:
        raise VideoError(f"no frame could be decoded ({error})") from error
    if chosen is None:
        raise VideoError("the video has no frames")
    out = io.BytesIO()
    chosen.to_image().save(out, format="JPEG", quality=85)
    return out.getvalue()
