"""Render the simulator's "generated" video: a slow camera move over the source picture.

The real model returns 81 frames at 16 fps in an H.264 MP4 whose frame keeps the aspect of the
input picture, at a 480p or 720p pixel area. This module produces a file with exactly those
properties, so the product's probing, posters and players meet what the real service returns.
"""

import io
import math
import os
from collections.abc import Callable
from fractions import Fraction
from pathlib import Path

import av
from PIL import Image, ImageOps

FRAME_COUNT = 81
FPS = 16
# Pixel area of each clarity; width x height of the request only picks one of these.
CLARITY_AREA = {"480p": 832 * 480, "720p": 1280 * 720}
ZOOM_END = 1.12  # the last frame shows 1/1.12 of the picture: a slow push-in
PAN_FRACTION = 0.03  # the centre drifts 3% of the picture's width, left to right
X264_OPTIONS = {"preset": "veryfast", "crf": "23"}


class RenderCancelled(Exception):
    """The simulator is shutting down; the half-written file was removed."""


def output_size(source_size: tuple[int, int], clarity: str) -> tuple[int, int]:
    """Frame size with the source's aspect and the clarity's area, both sides multiples of 16."""
    width, height = source_size
    # Extreme panoramas would give frames no player accepts; the real service refuses them too.
    aspect = min(max(width / height, 1 / 4), 4)
    area = CLARITY_AREA[clarity]
    out_w = max(16, round(math.sqrt(area * aspect) / 16) * 16)
    out_h = max(16, round(math.sqrt(area / aspect) / 16) * 16)
    return out_w, out_h


def open_picture(data: bytes) -> Image.Image:
    """Decode the fetched picture upright (phone photos carry their rotation in EXIF), in RGB."""
    with Image.open(io.BytesIO(data)) as picture:
        return ImageOps.exif_transpose(picture).convert("RGB")


def render_video(
    picture: Image.Image,
    clarity: str,
    out_path: Path,
    should_stop: Callable[[], bool] = lambda: False,
) -> tuple[int, int]:
    """Write the MP4 to out_path (atomically) and return its frame size."""
    size = output_size(picture.size, clarity)
    if picture.mode != "RGB":
        picture = picture.convert("RGB")  # palette or grey pictures from callers other than ours
    # Work from a copy just large enough for the deepest zoom, so each frame's resize stays cheap;
    # fit() also trims the few pixels by which the rounded frame's aspect differs from the source.
    work = ImageOps.fit(picture, (math.ceil(size[0] * ZOOM_END), math.ceil(size[1] * ZOOM_END)))
    partial = out_path.with_name(out_path.name + ".part")
    try:
        _encode(work, size, partial, should_stop)
        os.replace(partial, out_path)
    finally:
        partial.unlink(missing_ok=True)
    return size


def _encode(work: Image.Image, size: tuple[int, int], path: Path, should_stop) -> None:
    # +faststart moves the moov atom before mdat so browsers can start playing at once.
    with av.open(str(path), "w", format="mp4", options={"movflags": "+faststart"}) as container:
        stream = container.add_stream("libx264", rate=FPS, options=X264_OPTIONS)
        stream.width, stream.height = size
        stream.pix_fmt = "yuv420p"
        for index in range(FRAME_COUNT):
            if should_stop():
                raise RenderCancelled()
            frame = av.VideoFrame.from_image(_camera_frame(work, size, index))
            frame.pts = index
            frame.time_base = Fraction(1, FPS)
            container.mux(stream.encode(frame))
        container.mux(stream.encode(None))


def _camera_frame(work: Image.Image, size: tuple[int, int], index: int) -> Image.Image:
    """One frame of the move: crop a shrinking, drifting window of the picture and scale it."""
    t = index / (FRAME_COUNT - 1)
    eased = t * t * (3 - 2 * t)  # smoothstep: the camera eases in and out instead of jerking
    zoom = 1 + (ZOOM_END - 1) * eased
    src_w, src_h = work.size
    crop_w, crop_h = src_w / zoom, src_h / zoom
    centre_x = src_w / 2 + (eased - 0.5) * PAN_FRACTION * src_w
    left = min(max(centre_x - crop_w / 2, 0), src_w - crop_w)
    top = (src_h - crop_h) / 2
    box = (left, top, left + crop_w, top + crop_h)
    return work.resize(size, Image.Resampling.BILINEAR, box=box)
