"""The simulator's HTTP side: the contract's endpoints, signed video links, control endpoints.

sim = Simulator(SimConfig(port=0, queue_seconds=0.2, process_seconds=1)).start()
sim.base_url  # "http://127.0.0.1:54321"
sim.stop()
"""

import hmac
import http.client
import json
import math
import random
import re
import shutil
import tempfile
import threading
import time
import urllib.error
import urllib.request
from collections import deque
from dataclasses import dataclass, field
from email.utils import formatdate
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

from .config import RUNTIME_FIELDS, SimConfig
from .faults import (
    DEFAULT_FAIL_REASON,
    POLL_FAULTS,
    SUBMIT_FAULTS,
    SUCCESS_FAULTS,
    VIDEO_FAULTS,
    WEBHOOK_FAULTS,
    Fault,
    FaultCounter,
    first_submit_fault,
    first_task_fault,
    parse_fault_spec,
    parse_markers,
)
from .signing import link_problem, load_secret, signed_video_path
from .tasks import SUCCEED, Task, TaskStore
from .validation import InvalidRequest, parse_submit

__all__ = ["SimConfig", "Simulator"]

SUBMIT_PATH = "/v3/async/wan-i2v"
RESULT_PATH = "/v3/async/task-result"
VIDEO_PATH = re.compile(r"/sim/videos/([0-9a-f-]{36})\.mp4")
# How much longer than process_seconds a task takes, per clarity (the real 720p is ~2.5x slower).
CLARITY_SLOWDOWN = {"480p": 1.0, "720p": 2.5}
# Submit faults that answer with an error; "timeout" and "drop" answer nothing at all.
FAULT_ERRORS = {
    "429": (429, "RATE_LIMIT_EXCEEDED", "Rate limit exceeded, please try again later"),
    "500": (500, "CREATE_TASK_FAILED", "Failed to create the task, please try again"),
    "balance": (400, "BILLING_BALANCE_NOT_ENOUGH", "Your account balance is not enough"),
    "reject": (400, "ILLEGAL_PROMPT", "The prompt contains content that is not allowed"),
}
GATEWAY_PAGE = b"<html><head><title>502 Bad Gateway</title></head><body>Bad Gateway</body></html>"
NOT_A_VIDEO = b"<!doctype html><html><body><h1>Sorry, something went wrong</h1></body></html>"
ODD_STATUS = "TASK_STATUS_RUNNING"  # a value the contract does not list
WEBHOOK_ATTEMPTS = 5
WEBHOOK_TIMEOUT = 5.0
_UNREADABLE = object()  # a body that is not JSON at all


@dataclass
class Reply:
    status: int
    body: dict | None = None
    headers: dict = field(default_factory=dict)
    file: Path | None = None  # streamed as video/mp4 instead of a JSON body
    file_fault: str = ""  # "cutvideo": half the file, then close; "slowvideo": a trickle
    raw: bytes | None = None  # a body sent as is (with headers' Content-Type) instead of JSON
    silence: str = ""  # "drop": close without answering; "timeout": hold the line, then close
    late: bool = False  # hold the line for hang_seconds, then answer ([sim:slowaccept])


def error_reply(status: int, reason: str, message: str, headers: dict | None = None) -> Reply:
    body = {"code": status, "reason": reason, "message": message, "metadata": {}}
    return Reply(status, body, headers or {})


class Simulator:
    """The hosted API in one object: start() serves it on a daemon thread, stop() ends it."""

    def __init__(self, config: SimConfig | None = None):
        self.config = config or SimConfig()
        self.data_dir: Path | None = None
        self.tasks: TaskStore | None = None
        self._stopping = threading.Event()
        self._faults = FaultCounter()
        self._config_generation = 0  # restarts the count of "429x2"-style configured faults
        self._lock = threading.Lock()  # guards the statistics and the rate-limit window
        self._submits: list[dict] = []
        self._polls = 0
        self._downloads = 0
        self._webhooks: list[dict] = []
        self._played: list[dict] = []  # poll and video faults, as they were played
        self._task_polls: dict[str, int] = {}
        self._task_downloads: dict[str, int] = {}
        self._recent_submits: deque[float] = deque()
        self._secret = b""
        self._temp_dir: str | None = None
        self._httpd: _HTTPServer | None = None
        self._thread: threading.Thread | None = None

    # --- running -------------------------------------------------------------------------------

    def start(self) -> "Simulator":
        if self.config.data_dir is None:
            self._temp_dir = tempfile.mkdtemp(prefix="wansim-")
        self.data_dir = Path(self.config.data_dir or self._temp_dir)
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self._secret = load_secret(self.data_dir)
        self.tasks = TaskStore(self.data_dir, self._stopping, on_finish=self._task_finished)
        self._httpd = _HTTPServer((self.config.host, self.config.port), self)
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True
        )
        self._thread.start()
        return self

    @property
    def base_url(self) -> str:
        host, port = self._httpd.server_address[:2]
        return f"http://{host}:{port}"

    def stop(self) -> None:
        # Wakes every waiting task thread and held [sim:timeout] connection.
        self._stopping.set()
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
            self._thread.join(timeout=5)
        if self._temp_dir:
            shutil.rmtree(self._temp_dir, ignore_errors=True)

    def __enter__(self) -> "Simulator":
        return self.start()

    def __exit__(self, *exc_info) -> None:
        self.stop()

    def trickle_pause(self, pieces: int) -> bool:
        """A pause of [sim:slowvideo]'s trickle; True when the simulator stops meanwhile."""
        return self._stopping.wait(self.config.hang_seconds / pieces)

    def hold_connection(self) -> None:
        """What [sim:timeout] does instead of answering; cut short when the simulator stops."""
        self._stopping.wait(self.config.hang_seconds)

    # --- the contract's endpoints --------------------------------------------------------------

    def submit(self, authorization: str | None, raw: bytes) -> Reply:
        try:
            body = json.loads(raw) if raw else None
        except ValueError:
            body = _UNREADABLE
        reply, task_id = self._submit(authorization, body)
        self._record_submit(body, reply, task_id)
        return reply

    def _submit(self, authorization: str | None, body) -> tuple[Reply, str | None]:
        config = self.config  # one snapshot, even if /sim/config changes it meanwhile
        refused = _check_api_key(authorization, config.api_key) or self._rate_limit(config)
        if refused:
            return refused, None
        if body is _UNREADABLE:
            return error_reply(400, "INVALID_REQUEST_BODY", "request body is not valid JSON"), None
        try:
            request = parse_submit(body)
        except InvalidRequest as error:
            return error_reply(400, "INVALID_REQUEST_BODY", str(error)), None
        fault = self._submit_fault(request.prompt, config)
        if fault and fault.kind in FAULT_ERRORS:
            status, reason, message = FAULT_ERRORS[fault.kind]
            headers = {}
            if fault.retry_after:
                headers["Retry-After"] = str(fault.retry_after)
            elif fault.retry_date:
                headers["Retry-After"] = formatdate(time.time() + fault.retry_date, usegmt=True)
            return error_reply(status, reason, message, headers), None
        task = self._create_task(request, config)
        if fault and fault.kind == "slowaccept":
            return Reply(200, {"task_id": task.task_id}, late=True), task.task_id
        if fault:  # timeout or drop: the task exists (and is billed), but its answer is lost
            return Reply(0, silence=fault.kind), task.task_id
        return Reply(200, {"task_id": task.task_id}), task.task_id

    def _submit_fault(self, prompt: str, config: SimConfig) -> Fault | None:
        configured = parse_fault_spec(config.submit_fault)  # checked when it was set
        if configured and self._faults.fires(("config", self._config_generation), configured):
            return configured
        return first_submit_fault(prompt, self._faults)

    def _create_task(self, request, config: SimConfig) -> Task:
        markers = parse_markers(request.prompt)
        fail_reason = next((fault.reason for fault in markers if fault.kind == "fail"), "")
        if not fail_reason and random.random() < config.fail_rate:
            fail_reason = DEFAULT_FAIL_REASON
        seconds = config.process_seconds * CLARITY_SLOWDOWN[request.clarity]
        seconds *= random.uniform(1 - config.spread, 1 + config.spread)
        if request.fast_mode:
            seconds /= 2
        if any(fault.kind == "slow" for fault in markers):
            seconds *= 4
        task = Task(
            request,
            queue_seconds=config.queue_seconds,
            process_seconds=seconds,
            fetch_timeout=config.fetch_timeout,
            fail_reason=fail_reason,
        )
        if request.webhook_url:
            task.webhook_fault = self._webhook_fault(task, config)
        self.tasks.add(task)
        if task.webhook_fault == "early":
            half_way = task.queue_seconds + task.process_seconds / 2
            timer = threading.Timer(half_way, self._send_webhook, args=(task,))
            timer.daemon = True
            timer.start()
        return task

    def _webhook_fault(self, task: Task, config: SimConfig) -> str:
        marker = first_task_fault(
            task.request.prompt, task.task_id, tuple(WEBHOOK_FAULTS), self._faults
        )
        fault = WEBHOOK_FAULTS[marker.kind] if marker else config.webhook_fault
        if fault:
            with self._lock:
                played = {"task_id": task.task_id, "fault": f"webhook-{fault}", "at": time.time()}
                self._played.append(played)
        return fault

    def _rate_limit(self, config: SimConfig) -> Reply | None:
        """429 with Retry-After once the submits of the last sliding minute reach the limit."""
        limit = config.rate_limit_per_minute
        if not limit:
            return None
        now = time.monotonic()
        with self._lock:
            while self._recent_submits and self._recent_submits[0] <= now - 60:
                self._recent_submits.popleft()
            if len(self._recent_submits) >= limit:
                retry_after = max(1, math.ceil(self._recent_submits[0] + 60 - now))
                return error_reply(
                    429,
                    "RATE_LIMIT_EXCEEDED",
                    f"Rate limit exceeded: {limit} requests per minute",
                    {"Retry-After": str(retry_after)},
                )
            self._recent_submits.append(now)
        return None

    def _record_submit(self, body, reply: Reply, task_id: str | None) -> None:
        fields = body if isinstance(body, dict) else {}
        entry = {
            "prompt": fields.get("prompt"),
            "image_url": fields.get("image_url"),
            "status_code": None if reply.silence else reply.status,
            "fault": reply.silence or None,  # "timeout" / "drop": no answer was sent
            "task_id": task_id,
            "at": time.time(),
        }
        with self._lock:
            self._submits.append(entry)

    def task_result(self, authorization: str | None, query: dict, host: str) -> Reply:
        config = self.config
        with self._lock:
            self._polls += 1
        refused = _check_api_key(authorization, config.api_key)
        if refused:
            return refused
        task_id = (query.get("task_id") or [""])[0]
        if not task_id:
            return error_reply(400, "INVALID_REQUEST_BODY", "task_id: is required")
        task = self.tasks.get(task_id)
        if task is None:
            return error_reply(404, "TASK_NOT_FOUND", f"task {task_id} not found")
        with self._lock:
            self._task_polls[task_id] = self._task_polls.get(task_id, 0) + 1
        fault = self._task_fault(task, POLL_FAULTS)
        if fault and fault.kind == "poll404":
            return error_reply(404, "TASK_NOT_FOUND", f"task {task_id} not found")
        if fault and fault.kind == "poll502":
            return Reply(502, raw=GATEWAY_PAGE, headers={"Content-Type": "text/html"})
        if fault and fault.kind == "pollhang":
            return Reply(0, silence="timeout")
        succeeded = task.status == SUCCEED
        late = self._task_fault(task, SUCCESS_FAULTS) if succeeded else None
        body = self._result_body(task, host, config, expired=bool(late and late.kind == "expired"))
        if late and late.kind == "novideo":
            body["videos"] = []
        if fault and fault.kind == "oddstatus":
            body["task"]["status"] = ODD_STATUS
        if any(marker.kind == "flip" for marker in parse_markers(task.request.prompt)):
            body = flipped_types(body)
        if fault and fault.kind == "pollcut":
            text = json.dumps(body).encode()
            return Reply(200, raw=text[: len(text) // 2])  # still labelled application/json
        return Reply(200, body)

    def _task_fault(self, task: Task, kinds: tuple) -> Fault | None:
        fault = first_task_fault(task.request.prompt, task.task_id, kinds, self._faults)
        if fault:
            with self._lock:
                played = {"task_id": task.task_id, "fault": fault.kind, "at": time.time()}
                self._played.append(played)
        return fault

    def _result_body(self, task: Task, host: str, config: SimConfig, expired=False) -> dict:
        # Every answer carries a freshly signed link, as the real service's presigned URLs do;
        # [sim:expired] signs one whose time is already up.
        expires = int(time.time()) + (-60 if expired else config.video_ttl)
        video_url = f"http://{host}{signed_video_path(self._secret, task.task_id, expires)}"
        return task.result_body(video_url, config.video_ttl)

    def _task_finished(self, task: Task) -> None:
        """The real service calls back when a task ends; a webhook fault changes how."""
        if not task.request.webhook_url or task.webhook_fault in ("drop", "early"):
            return
        if task.webhook_fault == "delay" and self._stopping.wait(self.config.webhook_delay):
            return
        self._send_webhook(task)
        if task.webhook_fault == "dup":
            self._send_webhook(task)

    def _send_webhook(self, task: Task) -> None:
        """POST the result to extra.webhook.url, up to 5 tries, as the real service does."""
        url = task.request.webhook_url
        if not url or self._stopping.is_set():
            return
        for attempt in range(WEBHOOK_ATTEMPTS):
            if attempt and self._stopping.wait(2 ** (attempt - 1)):  # 1, 2, 4, 8 s between tries
                return
            event = {
                "event_type": "ASYNC_TASK_RESULT",
                "payload": self._result_body(task, urlsplit(self.base_url).netloc, self.config),
            }
            status = post_json(url, event, timeout=WEBHOOK_TIMEOUT)
            with self._lock:
                self._webhooks.append({"task_id": task.task_id, "url": url, "status_code": status})
            if status is not None and 200 <= status < 300:
                return

    def video(self, task_id: str, query: dict) -> Reply:
        expires = (query.get("expires") or [""])[0]
        signature = (query.get("signature") or [""])[0]
        problem = link_problem(self._secret, task_id, expires, signature, time.time())
        if problem:
            return error_reply(403, "ACCESS_DENIED", problem)
        path = self.tasks.video_file(task_id)
        if not path.exists():
            return error_reply(404, "VIDEO_NOT_FOUND", "no video for this task")
        with self._lock:
            self._downloads += 1
            self._task_downloads[task_id] = self._task_downloads.get(task_id, 0) + 1
        task = self.tasks.get(task_id)
        fault = self._task_fault(task, VIDEO_FAULTS) if task else None
        if fault and fault.kind == "notmp4":
            return Reply(200, raw=NOT_A_VIDEO, headers={"Content-Type": "video/mp4"})
        return Reply(
            200,
            file=path,
            headers={"Content-Type": "video/mp4"},
            file_fault=fault.kind if fault else "",
        )

    # --- control endpoints ---------------------------------------------------------------------

    def stats(self) -> dict:
        """What the simulator has seen: every submit, task statuses, poll and download counts."""
        with self._lock:
            seen = {
                "submits": [dict(entry) for entry in self._submits],
                "polls": self._polls,
                "video_downloads": self._downloads,
                "webhooks": [dict(entry) for entry in self._webhooks],
                "faults": [dict(entry) for entry in self._played],
                "task_polls": dict(self._task_polls),
                "task_downloads": dict(self._task_downloads),
            }
        seen["tasks"] = self.tasks.statuses()
        seen["finished_at"] = self.tasks.finish_times()
        return seen

    def configure(self, **overrides) -> SimConfig:
        """Change runtime settings (RUNTIME_FIELDS); ValueError naming the field if one is bad."""
        fixed = sorted(set(overrides) - set(RUNTIME_FIELDS))
        if fixed:
            raise ValueError(f"{', '.join(fixed)}: cannot be changed while running")
        config = self.config.updated(overrides)
        fault = parse_fault_spec(config.submit_fault)
        if fault and fault.kind not in SUBMIT_FAULTS:
            raise ValueError("submit_fault: use fail_rate for failing tasks")
        with self._lock:
            self.config = config
            self._config_generation += 1
        return config

    def reset(self) -> None:
        """Forget tasks, statistics, rate-limit history and fault counts (videos stay on disk)."""
        self.tasks.clear()
        self._faults.reset()
        with self._lock:
            self._submits.clear()
            self._polls = self._downloads = 0
            self._webhooks.clear()
            self._played.clear()
            self._task_polls.clear()
            self._task_downloads.clear()
            self._recent_submits.clear()

    def configure_reply(self, raw: bytes) -> Reply:
        try:
            overrides = json.loads(raw or b"{}")
            if not isinstance(overrides, dict):
                raise ValueError("the body must be a JSON object of settings")
            config = self.configure(**overrides)
        except ValueError as error:
            return error_reply(400, "INVALID_REQUEST_BODY", str(error))
        return Reply(200, config.as_dict())


def _check_api_key(authorization: str | None, api_key: str) -> Reply | None:
    scheme, _, key = (authorization or "").partition(" ")
    key = key.strip()
    if scheme.lower() != "bearer" or not key:
        return error_reply(401, "MISSING_API_KEY", "send the key as Authorization: Bearer <key>")
    if not hmac.compare_digest(key.encode(), api_key.encode()):
        return error_reply(403, "INVALID_API_KEY", "the API key is not valid")
    return None


class _HTTPServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, address: tuple[str, int], simulator: Simulator):
        self.simulator = simulator
        super().__init__(address, _Handler)

    def handle_error(self, request, client_address):
        # A client hanging up mid-answer is normal here (timeouts are part of the game).
        pass


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as clients' sessions expect
    server_version = "wansim/1.0"
    server: _HTTPServer

    def do_GET(self):
        sim = self.server.simulator
        url = urlsplit(self.path)
        query = parse_qs(url.query)
        video = VIDEO_PATH.fullmatch(url.path)
        if url.path == RESULT_PATH:
            host = self.headers.get("Host") or urlsplit(sim.base_url).netloc
            reply = sim.task_result(self.headers.get("Authorization"), query, host)
        elif video:
            reply = sim.video(video[1], query)
        elif url.path == "/sim/stats":
            reply = Reply(200, sim.stats())
        elif url.path == "/sim/config":
            reply = Reply(200, sim.config.as_dict())
        else:
            reply = _not_found("GET", url.path)
        self._send(reply)

    def do_POST(self):
        sim = self.server.simulator
        path = urlsplit(self.path).path
        raw = self._read_body()
        if path == SUBMIT_PATH:
            reply = sim.submit(self.headers.get("Authorization"), raw)
        elif path == "/sim/config":
            reply = sim.configure_reply(raw)
        elif path == "/sim/reset":
            sim.reset()
            reply = Reply(200, {"reset": True})
        else:
            reply = _not_found("POST", path)
        self._send(reply)

    def _read_body(self) -> bytes:
        try:
            length = int(self.headers.get("Content-Length") or 0)
        except ValueError:
            length = 0
        return self.rfile.read(length) if length > 0 else b""

    def _send(self, reply: Reply) -> None:
        if reply.silence:
            if reply.silence == "timeout":
                self.server.simulator.hold_connection()
            self.close_connection = True  # closing without a status line: the answer is lost
            return
        if reply.late:
            self.server.simulator.hold_connection()
        if reply.file is not None:
            self._send_file(reply)
            return
        data = json.dumps(reply.body).encode() if reply.raw is None else reply.raw
        headers = {"Content-Type": "application/json", **reply.headers}
        self.send_response(reply.status)
        self.send_header("Content-Length", str(len(data)))
        for name, value in headers.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)

    def _send_file(self, reply: Reply) -> None:
        with open(reply.file, "rb") as video:
            size = video.seek(0, 2)
            video.seek(0)
            self.send_response(reply.status)
            self.send_header("Content-Length", str(size))
            for name, value in reply.headers.items():
                self.send_header(name, value)
            self.end_headers()
            if reply.file_fault == "cutvideo":
                self.wfile.write(video.read(size // 2))
                self.close_connection = True  # the rest never comes
            elif reply.file_fault == "slowvideo":
                piece = max(1, size // 8)
                while chunk := video.read(piece):
                    self.wfile.write(chunk)
                    self.wfile.flush()
                    if self.server.simulator.trickle_pause(8):
                        break
            else:
                shutil.copyfileobj(video, self.wfile)

    def log_message(self, format, *args):
        if self.server.simulator.config.log_requests:
            super().log_message(format, *args)


def post_json(url: str, body: dict, timeout: float) -> int | None:
    """POST body as JSON; the answer's status, or None when there was none."""
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    request = urllib.request.Request(
        url, data=json.dumps(body).encode(), headers={"Content-Type": "application/json"}
    )
    try:
        with opener.open(request, timeout=timeout) as response:
            return response.status
    except urllib.error.HTTPError as error:
        return error.code
    except (OSError, http.client.HTTPException):
        return None


def _not_found(method: str, path: str) -> Reply:
    return error_reply(404, "NOT_FOUND", f"no endpoint {method} {path}")


def flipped_types(body: dict) -> dict:
    """The contract's other typing: numbers as strings, and numeric strings as numbers."""
    task = body["task"]
    flipped = {
        **body,
        "task": {
            **task,
            "eta": str(task["eta"]),
            "progress_percent": str(task["progress_percent"]),
        },
        "videos": [
            {**video, "video_url_ttl": int(video["video_url_ttl"])} for video in body["videos"]
        ],
        "extra": {**body["extra"], "seed": int(body["extra"]["seed"])},
    }
    debug = body["extra"]["debug_info"]
    flipped["extra"]["debug_info"] = {
        name: int(value) if name.endswith("_ms") else value for name, value in debug.items()
    }
    return flipped
