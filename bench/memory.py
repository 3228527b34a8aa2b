"""A worker's memory while it downloads a 500 MB result video: streamed, so it stays flat.

The video is a real MP4 padded with an MP4 `free` box to the size asked for, served from
loopback as if by the API's object store (the cluster's API origin, which it trusts).
"""

import struct
import threading
import time
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from django_q.brokers import get_broker
from django_q.models import Schedule
from django_q.tasks import async_task

from generations import jobs
from generations.models import Generation, SourceImage, Status
from wansim.render import open_picture, render_video
from wansim.testing import make_picture

MB = 1024 * 1024


def padded_video(path, size):
    """A playable MP4 of `size` bytes: a real render, then a `free` box of zeros."""
    render_video(open_picture(make_picture(832, 480)), "480p", path)
    padding = size - path.stat().st_size
    with open(path, "ab") as video:
        video.write(struct.pack(">I", padding) + b"free")
        zeros = bytes(MB)
        left = padding - 8
        while left > 0:
            left -= video.write(zeros[: min(MB, left)])


class QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, format, *args):
        pass


def serve(directory):
    server = ThreadingHTTPServer(("127.0.0.1", 0), partial(QuietHandler, directory=directory))
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def group_processes(pgid):
    pids = []
    for status in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = status.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[2]) == pgid:
            pids.append(int(status.parent.name))
    return pids


def memory_of(pid, field="VmRSS"):
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


def download(user, url, prompt, wait=True):
    generation = Generation.objects.create(
        owner=user,
        source_image=SourceImage.objects.order_by("-pk").first(),
        prompt=prompt,
        status=Status.DOWNLOADING,
        api_task_id=prompt.replace(" ", "-"),
    )
    async_task("generations.tasks.download", generation.pk, url)
    deadline = time.monotonic() + 120
    while wait and Generation.objects.get(pk=generation.pk).status == Status.DOWNLOADING:
        if time.monotonic() > deadline:
            raise RuntimeError(f"{url} was not downloaded in 2 minutes")
        time.sleep(0.1)
    return generation


def run(stack, user, size_mb):
    folder = stack.workdir / "memory"
    folder.mkdir(exist_ok=True)
    video, warmup = folder / "big.mp4", folder / "small.mp4"
    padded_video(video, size_mb * MB)
    padded_video(warmup, 2 * MB)
    server = serve(folder)
    origin = f"http://127.0.0.1:{server.server_address[1]}"
    # This cluster only downloads: no dispatcher slice may hold its one worker meanwhile.
    Schedule.objects.filter(name=jobs.DISPATCH).delete()
    get_broker().purge_queue()
    cluster = stack.start_cluster("memory-cluster", WAN_API_BASE_URL=origin, Q_WORKERS="1")
    try:
        time.sleep(6)  # the cluster's workers start and settle
        # A small download first, so the worker has imported all it needs before the baseline.
        download(user, f"{origin}/small.mp4", "memory bench warm-up")
        pids = group_processes(cluster.pid)
        baseline = {pid: memory_of(pid) for pid in pids}
        peak = dict(baseline)
        started = time.monotonic()
        generation = download(user, f"{origin}/big.mp4", "memory bench", wait=False)
        while Generation.objects.get(pk=generation.pk).status == Status.DOWNLOADING:
            for pid in pids:
                peak[pid] = max(peak[pid], memory_of(pid))
            time.sleep(0.05)
            if time.monotonic() - started > 600:
                raise RuntimeError("the download did not finish in 10 minutes")
        elapsed = time.monotonic() - started
        high_water = {pid: memory_of(pid, "VmHWM") for pid in pids}
    finally:
        stack.stop("memory-cluster")
        jobs.ensure_schedules()
        server.shutdown()
        video.unlink(missing_ok=True)
        warmup.unlink(missing_ok=True)
    generation.refresh_from_db()
    worker = max(pids, key=lambda pid: peak[pid] - baseline[pid])
    return {
        "result video": f"{size_mb} MB, {generation.status}"
        + (f" ({generation.failure_reason})" if generation.failure_reason else ""),
        "download, check, poster, store": f"{elapsed:.1f} s",
        "worker RSS before": f"{baseline[worker] / MB:.0f} MB",
        "worker RSS peak (sampled every 50 ms)": f"{peak[worker] / MB:.0f} MB",
        "worker VmHWM after": f"{high_water[worker] / MB:.0f} MB",
        "growth": f"{(peak[worker] - baseline[worker]) / MB:.0f} MB "
        f"({(peak[worker] - baseline[worker]) / (size_mb * MB):.1%} of the video)",
    }
