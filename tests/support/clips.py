"""Small real clips, made with PyAV the way wansim/render.py makes the simulator's videos:
H.264, yuv420p, 16 fps. Each frame differs (a square walks across, the background brightens),
so a test can tell which frame it got."""

from pathlib import Path

import av
from PIL import Image, ImageDraw

FPS = 16


def clip_frame(index, size, hue):
    width, height = size
    picture = Image.new("RGB", size, ((hue + index * 9) % 256, 90, 160))
    left = index * 7 % max(1, width - 40)
    ImageDraw.Draw(picture).rectangle((left, height // 3, left + 40, height // 3 + 40), "white")
    return picture


def write_clip(path, frames=17, size=(320, 256), hue=0):
    """An MP4 of `frames` frames at 16 fps; returns path."""
    with av.open(str(path), "w", format="mp4", options={"movflags": "+faststart"}) as container:
        stream = container.add_stream("libx264", rate=FPS, options={"preset": "ultrafast"})
        stream.width, stream.height = size
        stream.pix_fmt = "yuv420p"
        for index in range(frames):
            frame = av.VideoFrame.from_image(clip_frame(index, size, hue))
            frame.pts = index
            container.mux(stream.encode(frame))
        container.mux(stream.encode(None))
    return Path(path)


def decoded_frames(path):
    """(count, codec name, pixel format, width, height, duration) of a video, decoded whole."""
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        count = 0
        for frame in container.decode(stream):
            count += 1
            pix_fmt = frame.format.name
        duration = float(container.duration / av.time_base) if container.duration else 0.0
        return count, stream.codec_context.name, pix_fmt, stream.width, stream.height, duration


def frame_at(path, index):
    """The index-th decoded frame of a video, as a picture."""
    with av.open(str(path)) as container:
        for number, frame in enumerate(container.decode(video=0)):
            if number == index:
                return frame.to_image()
    raise IndexError(index)


def stored_clip(make_generation, folder, frames=17, size=(320, 256), hue=0, **fields):
    """A succeeded generation whose stored video is a real clip (make_generation: the
    conftest fixture; folder: a temporary folder to write it in first)."""
    from django.core.files import File
    from django.core.files.storage import default_storage

    from generations import media
    from generations.models import Status

    path = write_clip(Path(folder) / f"clip-{hue}-{frames}.mp4", frames, size, hue)
    with open(path, "rb") as handle:
        name = default_storage.save("videos/clip.mp4", File(handle))
    width, height = size
    return make_generation(
        status=Status.SUCCEEDED,
        video=name,
        video_duration=media.probe_video(path).duration,
        width=width,
        height=height,
        **fields,
    )
