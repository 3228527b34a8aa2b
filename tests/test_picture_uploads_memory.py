"""One upload takes bounded memory in the web process, whatever picture it carries.

A 215 KB PNG of 8192×8192 once took the web process from 115 MB to 1.09 GB, and four at once
to 3.4 GB. Here a real web server takes the uploads through the JSON API; its peak resident
memory (VmHWM, reset just before each scenario) is read from /proc. Each scenario gets a fresh
server, warmed up by two small uploads, so no scenario reuses memory another one freed.
"""

import os
import signal
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor

import pytest

from .live_studio import CREATE_USER, LiveStudio, reachable, wait_until
from .support.pictures import picture_bytes, uniform_png, with_text

# The web process's memory for an upload does not depend on the database behind it: the
# PostgreSQL pass of make test would only repeat these.
pytestmark = [
    pytest.mark.live,
    pytest.mark.skipif(
        bool(os.environ.get("DATABASE_URL")), reason="runs once, in the SQLite pass of make test"
    ),
]

BOUND_MB = 200  # the most one upload may add to the web process's peak


@pytest.fixture(scope="module")
def studio(tmp_path_factory):
    """A database with a person and her API token; no simulator or cluster is needed."""
    studio = LiveStudio(tmp_path_factory.mktemp("upload-memory"))
    if studio.postgres:
        studio.postgres.create()
    studio.manage("migrate", "--noinput", "-v", "0")
    studio.manage("shell", "-c", CREATE_USER)
    studio.token = studio.manage("apitoken", "maya")
    yield studio
    studio.stop()


@pytest.fixture
def web(studio):
    """A fresh web server process, warmed up; yields its pid."""
    command = [sys.executable, "manage.py", "runserver", f"127.0.0.1:{studio.web_port}"]
    process = studio.spawn("web", [*command, "--noreload"])
    try:
        wait_until(lambda: reachable(studio.base_url + "/login/"), 30, "the web server")
        assert upload(studio, "warm-up.jpg", picture_bytes()).status_code == 201
        assert upload(studio, "warm-up.png", uniform_png(100, 100)).status_code == 400
        yield process.pid
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=10)
        studio.processes.pop("web")


def upload(studio, name, content):
    files = {"image": (name, content, "application/octet-stream")}
    return studio.api("POST", "/api/generations/", data={"prompt": name}, files=files)


def memory_kb(pid, key):
    with open(f"/proc/{pid}/status") as status:
        line = next(line for line in status if line.startswith(key + ":"))
    return int(line.split()[1])


def peak_increase_mb(pid, studio, name, content, at_once=1):
    """How far the process's peak rose above its size while it took the uploads."""
    with open(f"/proc/{pid}/clear_refs", "w") as clear_refs:
        clear_refs.write("5")  # the peak starts again from the present size
    before = memory_kb(pid, "VmRSS")
    with ThreadPoolExecutor(at_once) as pool:
        responses = list(pool.map(lambda n: upload(studio, f"{n}-{name}", content), range(at_once)))
    increase = (memory_kb(pid, "VmHWM") - before) / 1024
    print(f"\n{at_once} × {name} ({len(content) / 1000:.0f} KB): peak +{increase:.0f} MB")
    return increase, responses


def test_four_8192_pngs_at_once_are_refused_within_the_bound_of_one(web, studio):
    png = uniform_png(8192, 8192)  # within the byte and side limits, about 200 KB

    increase, responses = peak_increase_mb(web, studio, "8192x8192.png", png, at_once=4)

    assert increase < BOUND_MB
    assert [response.status_code for response in responses] == [400] * 4
    for response in responses:
        assert "at most 20 megapixels" in " ".join(response.json()["errors"]["image"])


def the_largest_png():
    """20 megapixels of RGBA, the longest way (flattened on white), with 15 MB of text."""
    return with_text(uniform_png(4472, 4472, colour_type=6, fill=200), 15)


def test_the_largest_png_accepted_stays_under_the_bound(web, studio):
    increase, responses = peak_increase_mb(
        web, studio, "4472x4472-rgba-text.png", the_largest_png()
    )

    assert responses[0].status_code == 201, responses[0].text
    assert increase < BOUND_MB


def test_four_of_the_largest_pngs_at_once_stay_under_four_bounds(web, studio):
    png = the_largest_png()

    increase, responses = peak_increase_mb(web, studio, "4472x4472-rgba-text.png", png, at_once=4)

    assert [response.status_code for response in responses] == [201] * 4
    assert increase < 4 * BOUND_MB


def test_the_largest_jpeg_accepted_stays_under_the_bound(web, studio):
    jpeg = picture_bytes(8192, 8192, quality=90)  # a baseline JPEG is decoded reduced

    increase, responses = peak_increase_mb(web, studio, "8192x8192.jpg", jpeg)

    assert responses[0].status_code == 201, responses[0].text
    assert increase < BOUND_MB


def test_the_largest_progressive_jpeg_accepted_stays_under_the_bound(web, studio):
    # Without chroma subsampling a progressive JPEG keeps 6 bytes a pixel while decoding.
    jpeg = picture_bytes(3651, 3651, quality=90, progressive=True, subsampling=0)  # 13.3 MP

    increase, responses = peak_increase_mb(web, studio, "3651x3651-progressive.jpg", jpeg)

    assert responses[0].status_code == 201, responses[0].text
    assert increase < BOUND_MB


def test_the_largest_webp_accepted_stays_under_the_bound(web, studio):
    webp = picture_bytes(2236, 2236, fmt="WEBP", lossless=True)  # 5 megapixels

    increase, responses = peak_increase_mb(web, studio, "2236x2236.webp", webp)

    assert responses[0].status_code == 201, responses[0].text
    assert increase < BOUND_MB
