"""What the fault tests share: generations made through a running studio's JSON API, the check
that a stored video is the API's, a write lock on its SQLite database, and the table of
outcomes printed at the end of a module (and kept in test-output/)."""

import hashlib
import io
import sqlite3
import time

import av

from .pictures import picture_bytes


def print_table(config, title, rows, header=("case", "expected", "outcome", "POSTs", "note")):
    widths = [max(len(str(row[i])) for row in [header, *rows]) for i in range(5)]
    lines = [f"{title}:"] + [
        "  ".join(str(cell).ljust(width) for cell, width in zip(row, widths, strict=True))
        for row in [header, *rows]
    ]
    reporter = config.pluginmanager.get_plugin("terminalreporter")
    capture = config.pluginmanager.get_plugin("capturemanager")
    if reporter is not None and capture is not None:
        with capture.global_and_fixture_disabled():  # shown even when every test passes
            reporter.write_line("")
            for line in lines:
                reporter.write_line(line)
    output = config.rootpath / "test-output"
    output.mkdir(exist_ok=True)
    (output / f"{title.lower().replace(' ', '-')}.txt").write_text("\n".join(lines) + "\n")


def upload_source(studio):
    created = studio.create("fault matrix: the source picture", picture_bytes(832, 480))
    return created["source_image"]


def create_from_source(studio, prompt, source_id):
    response = studio.api(
        "POST", "/api/generations/", data={"prompt": prompt, "source_image": source_id}
    )
    assert response.status_code == 201, response.text
    return response.json()


def stored_video_matches_the_api(studio, row):
    """The studio serves the API's video: the same frames packet for packet (the stored file
    adds the parameters to its metadata), and the sha256 it recorded is of what it serves."""
    video = studio.api("GET", row["video_url"].removeprefix(studio.base_url))
    original = studio.workdir / "wansim" / "videos" / f"{row['api_task_id']}.mp4"
    served = hashlib.sha256(video.content).hexdigest()
    return (
        video.status_code == 200
        and served == row["video_sha256"]
        and video_packets(video.content) == video_packets(original.read_bytes())
    )


def video_packets(mp4):
    with av.open(io.BytesIO(mp4), format="mp4") as container:
        return [bytes(packet) for packet in container.demux(video=0) if packet.size]


def hold_write_lock(database, seconds, locked):
    """Hold SQLite's write lock on database for seconds; set locked once it is held."""
    with sqlite3.connect(database, timeout=30) as connection:
        connection.execute("BEGIN EXCLUSIVE")
        locked.set()
        time.sleep(seconds)
        connection.rollback()
