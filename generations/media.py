"""Pictures in, videos out: re-encoding uploads, probing results, tagging each video with its
parameters and making small thumbnails of stored pictures, with PyAV and Pillow."""

import hashlib
import io
import json
import logging
import math
import os
import posixpath
import tempfile
import warnings
from dataclasses import dataclass

import av
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from PIL import ExifTags, Image, PngImagePlugin

log = logging.getLogger(__name__)

ACCEPTED_FORMATS = ("JPEG", "PNG", "WEBP")  # Pillow's names of the only readers we use
MIN_SIDE = 256
MAX_SIDE = 8192
VIDEO_MAX_SIDE = 1280  # the long side of the largest video (720p, landscape or portrait)
STORED_MAX_SIDE = 2 * VIDEO_MAX_SIDE  # room for a push-in; more pixels would only be thrown away
# Bytes decoding one upload may take: with the stored picture and the request around it, the
# peak of one upload stays well under 200 MB (tests/test_picture_uploads_memory.py measures it).
DECODE_BUDGET = 80_000_000
# Bytes per pixel of a full decode, measured with Pillow 11-13: Pillow keeps every pixel of a
# colour picture in 4 bytes; its WebP reader also holds libwebp's canvas, the previous canvas and
# a copy of the frame.
FULL_DECODE_BYTES_PER_PIXEL = {"PNG": 4, "WEBP": 16}
KIND_NAMES = {"PNG": "a PNG picture", "WEBP": "a WebP picture", "JPEG": "a progressive JPEG"}
BAND_ROWS = 64  # rows (times the reduction) converted at a time: no second full-size copy
# Pillow keeps up to 64 MB of decompressed PNG text per picture; none of it is stored anyway.
PngImagePlugin.MAX_TEXT_MEMORY = 16 * PngImagePlugin.MAX_TEXT_CHUNK
NOT_A_PICTURE = "This file is not a picture we can read: upload a JPEG, PNG or WebP picture."
UPRIGHT = {  # EXIF orientation -> the turn that shows the picture as the camera held it
    2: Image.Transpose.FLIP_LEFT_RIGHT,
    3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_270,
    7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_90,
}


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
    orientation is applied so the picture looks the way the phone showed it.

    Memory stays bounded: the header decides before any pixel is decoded, a JPEG is decoded
    at the 1/2, 1/4 or 1/8 scale that still covers a video, and what is stored keeps at most
    STORED_MAX_SIDE pixels on its long side.
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
                # From the header, before any pixel is decoded.
                check_dimensions(*picture.size)
                check_pixels(picture, upload)
                if is_jpeg(picture):
                    picture.draft("RGB", fitting(picture.size, VIDEO_MAX_SIDE))
                picture.load()
                orientation = picture.getexif().get(ExifTags.Base.Orientation)
                stored = shrink_to_rgb(picture)
    except PictureError:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as error:
        raise PictureError("The picture has too many pixels to process safely.") from error
    except (OSError, SyntaxError, ValueError, EOFError) as error:  # OSError: unidentified too
        raise PictureError(NOT_A_PICTURE) from error

    if orientation in UPRIGHT:
        stored = stored.transpose(UPRIGHT[orientation])
    out = io.BytesIO()
    stored.save(out, format="JPEG", quality=92, optimize=True)
    content = out.getvalue()
    return EncodedPicture(content, *stored.size, hashlib.sha256(content).hexdigest())


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
            f"The picture is {width}×{height} pixels; each side must be at most {MAX_SIDE} pixels. "
            "Resize it and upload it again."
        )


def check_pixels(picture, upload):
    """Refuse a picture whose full decode would take more than DECODE_BUDGET."""
    limit = most_pixels(picture, upload)
    width, height = picture.size
    if limit is None or width * height <= limit:
        return
    scale = math.sqrt(limit / (width * height))
    fits = f"{int(width * scale)}×{int(height * scale)}"
    kind = "JPEG" if is_jpeg(picture) else picture.format
    other_way = ", or save it as a baseline JPEG," if kind == "JPEG" else ""
    raise PictureError(
        f"The picture is {width}×{height} pixels ({megapixels(width * height)} megapixels); "
        f"{KIND_NAMES[kind]} may have at most {megapixels(limit, math.floor)} megapixels. "
        f"Resize it to {fits} pixels or smaller{other_way} and upload it again."
    )


def most_pixels(picture, upload):
    """The most pixels this picture may have to decode within DECODE_BUDGET; None if no limit.

    A JPEG decoded in passing is decoded reduced, so only MAX_SIDE bounds it. A progressive
    JPEG, or one whose first scan leaves out a component, keeps the coefficients of the whole
    picture (2 bytes each, 64 per 8×8 block of each component) however small it is decoded.
    """
    if not is_jpeg(picture):
        return DECODE_BUDGET // FULL_DECODE_BYTES_PER_PIXEL[picture.format]
    if not picture.info.get("progressive") and first_scan_components(upload) == picture.layers:
        return None
    sampling = [(max(h, 1), max(v, 1)) for _, h, v, _ in picture.layer]
    most = max(h for h, _ in sampling) * max(v for _, v in sampling)
    coefficient_bytes = 2 * sum(h * v for h, v in sampling) / most
    return int(DECODE_BUDGET / coefficient_bytes)


def first_scan_components(upload):
    """How many components the first scan of a JPEG interleaves; 0 if the markers are odd."""
    position = upload.tell()
    try:
        upload.seek(2)  # after the start-of-image marker
        while True:
            marker = upload.read(2)
            if len(marker) < 2 or marker[0] != 0xFF:
                return 0
            if marker[1] == 0xFF:  # a fill byte before the marker
                upload.seek(-1, io.SEEK_CUR)
                continue
            length = int.from_bytes(upload.read(2), "big")
            if length < 2:
                return 0
            if marker[1] == 0xDA:  # start of scan: its first byte counts the components
                return (upload.read(1) or b"\0")[0]
            upload.seek(length - 2, io.SEEK_CUR)
    finally:
        upload.seek(position)


def is_jpeg(picture):
    return picture.format in ("JPEG", "MPO")  # MPO: a JPEG followed by more pictures


def megapixels(pixels, rounding=round):
    return f"{rounding(pixels / 100_000) / 10:g}"


def fitting(size, longest):
    """size scaled down (never up) so its long side is longest."""
    scale = min(1, longest / max(size))
    return max(1, int(size[0] * scale)), max(1, int(size[1] * scale))


def shrink_to_rgb(picture):
    """The picture in RGB on white, reduced so its long side is at most STORED_MAX_SIDE.

    The picture is reduced by a whole factor (an average of factor×factor pixels) one band of
    rows at a time: converting or resizing it whole would copy all of it (and RGBA twice, as
    Pillow premultiplies it first), doubling what the decode already took.
    """
    factor = math.ceil(max(picture.size) / STORED_MAX_SIDE)
    width, height = picture.size
    stored = Image.new("RGB", (math.ceil(width / factor), math.ceil(height / factor)))
    rows = BAND_ROWS * factor
    for top in range(0, height, rows):
        band = flatten_to_rgb(picture.crop((0, top, width, min(top + rows, height))))
        stored.paste(band.reduce(factor) if factor > 1 else band, (0, top // factor))
    return stored


def flatten_to_rgb(picture):
    if picture.mode.startswith("I"):  # 16-bit grey: keep the high byte, as Pillow does for RGB
        picture = picture.point(lambda value: value / 256)
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


# --- the parameters every stored video carries -----------------------------------------------

# A JSON object in the MP4's `comment` tag says how the video was made, so a file that left the
# studio can still be made again (dropped on the Studio form, it fills every field).
PARAMETERS_TAG = "comment"
PARAMETERS_MARK = "wanstudio"  # the key that tells our JSON from any other comment; its value:
PARAMETERS_VERSION = 1  # the layout's version
PARAMETERS_MAX_CHARS = 64_000  # two prompts of 2,000 characters and three LoRAs fit many times
# Never let FFmpeg guess the format of a file: a playlist or a concat list it was offered would
# make it open other files or URLs.
MP4_FORMAT = "mp4"
FASTSTART = {"movflags": "+faststart"}  # the moov atom first: a player starts before the end


def video_parameters(generation):
    """Everything that made this video, by the API's names: what the MP4's tag carries."""
    return {
        PARAMETERS_MARK: PARAMETERS_VERSION,
        "generation": generation.pk,
        "prompt": generation.prompt,
        "negative_prompt": generation.negative_prompt,
        "width": generation.width,
        "height": generation.height,
        "seed": generation.seed,
        "reported_seed": generation.reported_seed,
        "steps": generation.steps,
        "guidance_scale": generation.guidance_scale,
        "flow_shift": generation.flow_shift,
        "loras": [{"path": lora.path, "scale": lora.scale} for lora in generation.loras.all()],
        "fast_mode": generation.fast_mode,
        "enable_safety_checker": generation.enable_safety_checker,
    }


@dataclass(frozen=True)
class TaggedFile:
    size: int
    sha256: str
    tagged: bool  # False: the file could not be remuxed and was left as it was


def tag_parameters(path, generation):
    """Rewrite the MP4 at path so its `comment` tag carries the generation's parameters.

    Packets are copied, never re-encoded, and the result starts with its moov atom. The file
    at path is replaced only once the tagged copy is complete; a file PyAV cannot remux is left
    as it was (a paid video is never lost to its tag). Returns the size and sha256 of the file
    now at path: what to store as video_bytes and video_sha256.
    """
    folder = os.path.dirname(os.path.abspath(path))
    with tempfile.NamedTemporaryFile(suffix=".mp4", dir=folder, delete=False) as temporary:
        tagged_path = temporary.name
    try:
        write_tagged(path, tagged_path, video_parameters(generation))
        os.replace(tagged_path, path)
        tagged = True
    except VideoError as error:
        log.warning("Video of #%s stored without its parameters: %s", generation.pk, error)
        tagged = False
    finally:
        if os.path.exists(tagged_path):
            os.unlink(tagged_path)
    return TaggedFile(os.path.getsize(path), file_sha256(path), tagged)


def write_tagged(source, target_path, parameters):
    """Copy the MP4 source (a path or a binary file) to target_path, its streams untouched and
    parameters as JSON in its `comment` tag; raises VideoError if source cannot be remuxed."""
    comment = json.dumps(parameters, ensure_ascii=False, separators=(",", ":"))
    try:
        with (
            av.open(as_av_source(source), format=MP4_FORMAT) as original,
            av.open(str(target_path), "w", format=MP4_FORMAT, options=FASTSTART) as tagged,
        ):
            copies = {
                stream.index: tagged.add_stream_from_template(stream)
                for stream in original.streams
                if stream.type in ("video", "audio")
            }
            if not copies:
                raise VideoError("the file has no video stream")
            tagged.metadata.update(without_muxer_tags(original.metadata))
            tagged.metadata[PARAMETERS_TAG] = comment
            for packet in original.demux(*(original.streams[index] for index in copies)):
                if packet.dts is None:  # the demuxer's flush packet: nothing to copy
                    continue
                packet.stream = copies[packet.stream.index]
                tagged.mux(packet)
    except av.error.FFmpegError as error:
        raise VideoError(f"the file could not be remuxed ({error})") from error


def without_muxer_tags(metadata):
    """The container tags worth keeping: the brand and encoder tags are the muxer's to write."""
    written_by_muxer = {"major_brand", "minor_version", "compatible_brands", "encoder"}
    return {key: value for key, value in metadata.items() if key not in written_by_muxer}


def read_parameters(source):
    """The parameters an MP4 (a path or a binary file) carries, or None if it carries none of
    ours. Only the container's header is read. Raises VideoError if source is not an MP4."""
    try:
        with av.open(
            as_av_source(source), format=MP4_FORMAT, metadata_errors="replace"
        ) as container:
            comment = container.metadata.get(PARAMETERS_TAG, "")
    except av.error.FFmpegError as error:
        raise VideoError(f"the file is not a readable MP4 ({error})") from error
    if not comment or len(comment) > PARAMETERS_MAX_CHARS:
        return None
    try:
        parameters = json.loads(comment)
    except ValueError:
        return None
    if not isinstance(parameters, dict) or PARAMETERS_MARK not in parameters:
        return None
    return parameters


def as_av_source(source):
    """PyAV opens a name as a path (or a URL: never ours to give it) and anything else as a file."""
    if isinstance(source, (str, os.PathLike)):
        return os.fspath(source)
    source.seek(0)
    return source


def file_sha256(path):
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


# --- small thumbnails of stored pictures -----------------------------------------------------

THUMBNAIL_LONG_SIDE = 360
THUMBNAIL_QUALITY = 75
THUMBNAIL_SOURCES = (".jpg", ".jpeg", ".png", ".webp")  # what the studio stores as pictures


def thumbnail_name(picture_name):
    """Where the thumbnail of a stored picture lives: beside it, named after it and its size.
    A stored picture never changes under its name, so its thumbnail never goes stale."""
    stem, _ = posixpath.splitext(picture_name)
    return f"{stem}.thumb{THUMBNAIL_LONG_SIDE}.webp"


def thumbnail_webp(picture_file):
    """A WebP of the picture, THUMBNAIL_LONG_SIDE pixels on its long side (never enlarged)."""
    try:
        with Image.open(picture_file, formats=list(ACCEPTED_FORMATS)) as picture:
            if is_jpeg(picture):
                picture.draft("RGB", (THUMBNAIL_LONG_SIDE, THUMBNAIL_LONG_SIDE))
            picture.thumbnail((THUMBNAIL_LONG_SIDE, THUMBNAIL_LONG_SIDE))
            small = flatten_to_rgb(picture)
    except (OSError, SyntaxError, ValueError, EOFError, Image.DecompressionBombError) as error:
        raise PictureError(NOT_A_PICTURE) from error
    out = io.BytesIO()
    small.save(out, format="WEBP", quality=THUMBNAIL_QUALITY)
    return out.getvalue()


def stored_thumbnail(picture_name):
    """The name of the stored picture's thumbnail, made and stored the first time it is asked
    for. Raises PictureError if the picture cannot be read, OSError if it is missing."""
    name = thumbnail_name(picture_name)
    if default_storage.exists(name):
        return name
    with default_storage.open(picture_name, "rb") as picture:
        content = thumbnail_webp(picture)
    saved = default_storage.save(name, ContentFile(content))
    if saved != name:  # another request made it at the same moment: keep the first
        default_storage.delete(saved)
    return name
