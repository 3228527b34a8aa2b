"""Tasks and their life: queued, processing (fetch the picture, render), then succeed or fail."""

import hashlib
import http.client
import math
import os
import random
import shutil
import threading
import time
import urllib.error
import urllib.request
import uuid
from dataclasses import dataclass, field
from pathlib import Path

from PIL import Image

from .render import RenderCancelled, open_picture, render_video
from .validation import SubmitRequest

QUEUED = "TASK_STATUS_QUEUED"
PROCESSING = "TASK_STATUS_PROCESSING"
SUCCEED = "TASK_STATUS_SUCCEED"
FAILED = "TASK_STATUS_FAILED"
TASK_TYPE = "WAN_IMG_TO_VIDEO"
MAX_IMAGE_BYTES = 30 * 1024 * 1024


class ImageFetchError(Exception):
    """image_url could not be turned into a picture; the message is the task's reason."""


@dataclass
class Task:
    request: SubmitRequest
    queue_seconds: float
    process_seconds: float  # already scaled for clarity, fast_mode and [sim:slow]
    fetch_timeout: float
    fail_reason: str = ""  # decided at submit ([sim:fail] or fail_rate), played after processing
    webhook_fault: str = ""  # decided at submit: "", "drop", "dup", "delay" or "early"
    task_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    seed: int = -1
    status: str = QUEUED
    reason: str = ""
    submitted_at: float = field(default_factory=time.time)
    started_at: float = 0.0
    finished_at: float = 0.0
    video_file: Path | None = None
    # What the last poll was told, so eta only falls and progress only rises between polls.
    shown_eta: int | None = None
    shown_progress: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def __post_init__(self):
        # -1 asks for a random seed; the answer reports the one used, as the real service does.
        self.seed = self.request.seed if self.request.seed != -1 else random.randint(0, 2**32 - 1)

    @property
    def deadline(self) -> float:
        return self.started_at + self.process_seconds

    def start_processing(self) -> None:
        with self._lock:
            self.status, self.started_at = PROCESSING, time.time()

    def succeed(self, video_file: Path) -> None:
        with self._lock:
            self.status, self.video_file, self.finished_at = SUCCEED, video_file, time.time()

    def fail(self, reason: str) -> None:
        with self._lock:
            self.status, self.reason, self.finished_at = FAILED, reason, time.time()

    def result_body(self, video_url: str, video_ttl: int, now: float | None = None) -> dict:
        """The task-result answer of the contract; video_url is used only once succeeded."""
        with self._lock:
            progress, eta = self._progress_and_eta(time.time() if now is None else now)
            succeeded = self.status == SUCCEED
            return {
                "task": {
                    "task_id": self.task_id,
                    "task_type": TASK_TYPE,
                    "status": self.status,
                    "reason": self.reason,
                    "eta": eta,
                    "progress_percent": progress,
                },
                # The docs give the TTL as a string; the product must accept both.
                "videos": [
                    {"video_url": video_url, "video_url_ttl": str(video_ttl), "video_type": "mp4"}
                ]
                if succeeded
                else [],
                "images": [],
                "audios": [],
                "extra": {
                    "seed": str(self.seed),
                    "enable_nsfw_detection": False,
                    "debug_info": {
                        "request_info": "",
                        "submit_time_ms": _ms(self.submitted_at),
                        "execute_time_ms": _ms(self.started_at),
                        "complete_time_ms": _ms(self.finished_at),
                    },
                },
            }

    def _progress_and_eta(self, now: float) -> tuple[int, int]:
        if self.status == SUCCEED:
            return 100, 0
        if self.status == FAILED:
            return self.shown_progress, 0
        if self.status == QUEUED:
            progress = 0
            remaining = self.submitted_at + self.queue_seconds - now + self.process_seconds
        else:
            elapsed = now - self.started_at
            # 99 at most: a render running past its deadline must not look finished.
            progress = min(99, int(100 * elapsed / max(self.process_seconds, 0.001)))
            remaining = self.process_seconds - elapsed
        eta = max(1, math.ceil(remaining))
        self.shown_progress = max(progress, self.shown_progress)
        self.shown_eta = eta if self.shown_eta is None else min(eta, self.shown_eta)
        return self.shown_progress, self.shown_eta


def _ms(timestamp: float) -> str:
    return str(int(timestamp * 1000)) if timestamp else "0"


class TaskStore:
    """Tasks by id, each moved through its life by its own daemon thread."""

    def __init__(self, data_dir: Path, stopping: threading.Event, on_finish=lambda task: None):
        self._data_dir = data_dir
        self._stopping = stopping
        self._on_finish = on_finish  # called once a task succeeded or failed (the webhook)
        self._tasks: dict[str, Task] = {}
        self._lock = threading.Lock()
        # One render at a time: x264 already uses both cores, and renders of the same picture
        # and clarity are shared, so a benchmark's many tasks cost one render.
        self._render_lock = threading.Lock()
        (data_dir / "videos").mkdir(parents=True, exist_ok=True)
        (data_dir / "renders").mkdir(parents=True, exist_ok=True)

    def add(self, task: Task) -> None:
        with self._lock:
            self._tasks[task.task_id] = task
        threading.Thread(target=self._live, args=(task,), daemon=True, name="wansim-task").start()

    def get(self, task_id: str) -> Task | None:
        with self._lock:
            return self._tasks.get(task_id)

    def statuses(self) -> dict[str, str]:
        with self._lock:
            return {task_id: task.status for task_id, task in self._tasks.items()}

    def finish_times(self) -> dict[str, float]:
        """When each finished task ended (unix time): "done at the API", for a benchmark."""
        with self._lock:
            return {
                task_id: task.finished_at
                for task_id, task in self._tasks.items()
                if task.finished_at
            }

    def clear(self) -> None:
        with self._lock:
            self._tasks.clear()

    def video_file(self, task_id: str) -> Path:
        """Where a task's video lives; it is kept there even after a reset or restart."""
        return self._data_dir / "videos" / f"{task_id}.mp4"

    def _live(self, task: Task) -> None:
        self._play(task)
        if task.status in (SUCCEED, FAILED):
            self._on_finish(task)

    def _play(self, task: Task) -> None:
        if not self._wait(task, task.queue_seconds):
            return
        task.start_processing()
        try:
            data = fetch_image(task.request.image_url, task.fetch_timeout)
            picture = decode_image(data)
        except ImageFetchError as error:
            task.fail(str(error))  # the real service fails at once, without using its time
            return
        if task.fail_reason:
            if self._wait(task, task.deadline - time.time()):
                task.fail(task.fail_reason)
            return
        try:
            video_file = self._render(task, data, picture)
        except RenderCancelled:
            return
        except Exception as error:  # any render bug must still end the task
            task.fail(f"RENDER_FAILED: {error}")
            return
        if self._wait(task, task.deadline - time.time()):
            task.succeed(video_file)

    def _wait(self, task: Task, seconds: float) -> bool:
        """Sleep; False when the simulator stops or a reset forgot the task meanwhile."""
        if self._stopping.wait(max(0.0, seconds)):
            return False
        with self._lock:
            return self._tasks.get(task.task_id) is task

    def _render(self, task: Task, data: bytes, picture: Image.Image) -> Path:
        digest = hashlib.sha256(data).hexdigest()[:24]
        shared = self._data_dir / "renders" / f"{digest}-{task.request.clarity}.mp4"
        with self._render_lock:
            if not shared.exists():
                render_video(picture, task.request.clarity, shared, self._stopping.is_set)
        video_file = self.video_file(task.task_id)
        try:
            os.link(shared, video_file)
        except OSError:
            shutil.copyfile(shared, video_file)
        return video_file


def fetch_image(url: str, timeout: float) -> bytes:
    """Download image_url as the real service does, turning every failure into a clear reason."""
    # No proxies: the simulator runs next to the product, and image URLs are usually loopback.
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    request = urllib.request.Request(url, headers={"User-Agent": "wansim/1.0"})
    try:
        with opener.open(request, timeout=timeout) as response:
            data = response.read(MAX_IMAGE_BYTES + 1)
    except urllib.error.HTTPError as error:
        raise ImageFetchError(
            f"IMAGE_FETCH_FAILED: could not download image_url (HTTP {error.code})"
        ) from None
    except urllib.error.URLError as error:
        raise ImageFetchError(
            f"IMAGE_FETCH_FAILED: could not download image_url ({error.reason})"
        ) from None
    except (OSError, http.client.HTTPException) as error:
        raise ImageFetchError(
            f"IMAGE_FETCH_FAILED: could not download image_url ({error or type(error).__name__})"
        ) from None
    if len(data) > MAX_IMAGE_BYTES:
        raise ImageFetchError("IMAGE_FETCH_FAILED: image_url is larger than 30 MB")
    return data


def decode_image(data: bytes) -> Image.Image:
    try:
        return open_picture(data)
    except Exception as error:  # Pillow raises many kinds for bad input
        raise ImageFetchError(
            f"IMAGE_FETCH_FAILED: image_url is not a picture ({type(error).__name__})"
        ) from None
