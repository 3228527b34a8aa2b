"""The one HTTP client of the hosted Wan 2.1 image-to-video API (Novita's "v3 async").

Requests in, typed outcomes out. It knows no models and reads no settings: the caller passes
the base URL, the key and the timeouts. Network trouble never raises: every call returns a
result whose outcome says what the caller may safely do next.
"""

import hashlib
import http.client
import ipaddress
import json
import logging
import math
import re
from collections.abc import Mapping
from dataclasses import MISSING, dataclass, fields, replace
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from enum import StrEnum
from typing import BinaryIO
from urllib.parse import urljoin, urlsplit

import requests
import urllib3
import urllib3.connection
import urllib3.exceptions

from lib.public_fetch import AddressNotAllowed, public_only_session

log = logging.getLogger(__name__)

SUBMIT_PATH = "/v3/async/wan-i2v"
RESULT_PATH = "/v3/async/task-result"

# The documented ranges: the single source of truth (the form imports them).
PROMPT_MAX_CHARS = 2000
ALLOWED_SIZES = ((480, 832), (832, 480), (720, 1280), (1280, 720))  # (width, height)
MAX_LORAS = 3
LORA_SCALE_RANGE = (0.0, 4.0)
SEED_RANGE = (-1, 9_999_999_999)
STEPS_RANGE = (1, 40)
GUIDANCE_SCALE_RANGE = (0.0, 10.0)
FLOW_SHIFT_RANGE = (1.0, 10.0)

# Owner/Name, e.g. Remade-AI/Painting: each part starts and ends with a letter or digit, so
# "..", "." and absolute or nested paths never pass.
HUGGING_FACE_REPO = re.compile(
    r"[A-Za-z0-9](?:[A-Za-z0-9._-]{0,94}[A-Za-z0-9])?/[A-Za-z0-9](?:[A-Za-z0-9._-]{0,94}[A-Za-z0-9])?"
)
LORA_PATH_MAX_CHARS = 500
# Host names that only ever mean a machine near the studio, never one the API can reach.
LOCAL_HOST_SUFFIXES = ("localhost", ".localhost", ".local", ".internal", ".lan", ".home.arpa")
MP4_SIGNATURE = b"ftyp"  # every MP4 opens with an `ftyp` box: its type sits at offset 4
NETWORK_ERRORS = (
    requests.RequestException,
    urllib3.exceptions.HTTPError,
    http.client.HTTPException,
    OSError,
)
NOTHING_SENT_ERRORS = (
    requests.ConnectTimeout,
    requests.exceptions.InvalidURL,
    requests.exceptions.InvalidSchema,
    requests.exceptions.MissingSchema,
    requests.exceptions.InvalidHeader,
)
MESSAGE_MAX_CHARS = 300
MAX_REDIRECTS = 3  # for a video link; the API's own endpoints are never redirected


# --- parameters ------------------------------------------------------------------------


@dataclass(frozen=True)
class Lora:
    path: str
    scale: float


@dataclass(frozen=True)
class SubmitParams:
    prompt: str
    image_url: str
    negative_prompt: str = ""
    width: int = 832
    height: int = 480
    loras: tuple[Lora, ...] = ()
    seed: int = -1
    steps: int = 30
    guidance_scale: float = 5.0
    flow_shift: float = 5.0
    enable_safety_checker: bool = True
    fast_mode: bool = False


# The API's defaults, as the form shows them.
DEFAULTS = {
    field.name: field.default
    for field in fields(SubmitParams)
    if field.default is not MISSING and field.name != "loras"
}


class InvalidParams(ValueError):
    def __init__(self, errors: dict[str, list[str]]):
        self.errors = errors
        super().__init__("; ".join(f"{name}: {' '.join(msgs)}" for name, msgs in errors.items()))


def validate_params(params: SubmitParams) -> dict[str, list[str]]:
    """Check params against the documented ranges: {API field name: [messages]}, {} if valid."""
    found = [
        ("prompt", text_error(params.prompt, required=True)),
        ("negative_prompt", text_error(params.negative_prompt, required=False)),
        ("image_url", None if is_web_url(params.image_url) else "Enter an http(s) URL."),
        *size_errors(params.width, params.height),
        *(("loras", message) for message in lora_errors(params.loras or ())),
        ("seed", range_error(params.seed, SEED_RANGE, whole=True)),
        ("steps", range_error(params.steps, STEPS_RANGE, whole=True)),
        ("guidance_scale", range_error(params.guidance_scale, GUIDANCE_SCALE_RANGE)),
        ("flow_shift", range_error(params.flow_shift, FLOW_SHIFT_RANGE)),
        ("enable_safety_checker", bool_error(params.enable_safety_checker)),
        ("fast_mode", bool_error(params.fast_mode)),
    ]
    errors: dict[str, list[str]] = {}
    for name, message in found:
        if message:
            errors.setdefault(name, []).append(message)
    return errors


def build_submit_body(params: SubmitParams) -> dict:
    errors = validate_params(params)
    if errors:
        raise InvalidParams(errors)
    body = {
        "prompt": params.prompt,
        "image_url": params.image_url,
        "negative_prompt": params.negative_prompt,
        "width": params.width,
        "height": params.height,
        "seed": params.seed,
        "steps": params.steps,
        "guidance_scale": float(params.guidance_scale),
        "flow_shift": float(params.flow_shift),
        "enable_safety_checker": params.enable_safety_checker,
        "fast_mode": params.fast_mode,
    }
    if params.loras:
        body["loras"] = [{"path": lora.path, "scale": float(lora.scale)} for lora in params.loras]
    return body


def is_whole(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def is_number(value) -> bool:
    return is_whole(value) or (isinstance(value, float) and math.isfinite(value))


def range_error(value, bounds, *, whole=False) -> str | None:
    if not (is_whole(value) if whole else is_number(value)):
        return "Enter a whole number." if whole else "Enter a number."
    low, high = bounds
    if not low <= value <= high:
        return f"Must be between {number_text(low)} and {number_text(high)}."
    return None


def number_text(number) -> str:
    return f"{number:g}" if isinstance(number, float) else str(number)


def text_error(value, *, required) -> str | None:
    if not isinstance(value, str):
        return "Enter text."
    if required and not value.strip():
        return "This field is required."
    if len(value) > PROMPT_MAX_CHARS:
        return f"At most {PROMPT_MAX_CHARS} characters (it has {len(value)})."
    return None


def bool_error(value) -> str | None:
    return None if isinstance(value, bool) else "Must be true or false."


def is_web_url(value) -> bool:
    if not isinstance(value, str) or not value or any(char.isspace() for char in value):
        return False
    try:
        parts = urlsplit(value)
    except ValueError:
        return False
    return parts.scheme in ("http", "https") and bool(parts.hostname)


def size_errors(width, height) -> list[tuple[str, str]]:
    height_for_width = dict(ALLOWED_SIZES)
    if not is_whole(width) or width not in height_for_width:
        widths = ", ".join(str(w) for w in sorted(height_for_width))
        return [("width", f"Must be one of {widths}.")]
    if not is_whole(height) or height != height_for_width[width]:
        return [("height", f"Must be {height_for_width[width]} when the width is {width}.")]
    return []


def lora_path_error(path) -> str | None:
    """Why the API could never load this LoRA path, or None. The one check of a LoRA path, for
    the studio form, the JSON API, the LoRA library and the request itself."""
    if not isinstance(path, str) or not path.strip():
        return "Give a Hugging Face repo (Owner/Name) or an https download link."
    if len(path) > LORA_PATH_MAX_CHARS:
        return f"A LoRA path has at most {LORA_PATH_MAX_CHARS} characters."
    if HUGGING_FACE_REPO.fullmatch(path):
        if ".." in path or "--" in path:
            return f"“{path}” is not a Hugging Face repo name."
        return None
    if not is_web_url(path):
        return (
            f"“{path[:80]}” is neither a Hugging Face repo (Owner/Name) such as "
            "Remade-AI/Painting nor an http(s) download link."
        )
    host = urlsplit(path).hostname.rstrip(".").lower()
    if not is_public_host(host):
        return (
            f"The link points at {host}, an address the API's servers cannot reach. "
            "Use a public download link (e.g. Civitai) or a Hugging Face repo."
        )
    return None


def is_public_host(host) -> bool:
    """False for host names and literal addresses that only mean machines near the studio.
    Names are not resolved: the API's servers resolve them, from the internet."""
    if host.endswith(LOCAL_HOST_SUFFIXES) or "." not in host and ":" not in host:
        return False
    try:
        return ipaddress.ip_address(host).is_global
    except ValueError:
        return True  # a DNS name


def lora_errors(loras):
    if len(loras) > MAX_LORAS:
        yield f"At most {MAX_LORAS} LoRAs (got {len(loras)})."
    for number, lora in enumerate(loras, start=1):
        path_error = lora_path_error(getattr(lora, "path", None))
        if path_error:
            yield f"LoRA {number}: {path_error}"
        scale_error = range_error(getattr(lora, "scale", None), LORA_SCALE_RANGE)
        if scale_error:
            yield f"LoRA {number} scale: {scale_error}"


# --- outcomes --------------------------------------------------------------------------


class SubmitOutcome(StrEnum):
    ACCEPTED = "accepted"
    REJECTED = "rejected"  # the API refused this input or this account: never retry as is
    RETRY_LATER = "retry_later"  # certainly not created: safe to send again later
    UNKNOWN = "unknown_outcome"  # may have been created (and billed): never resend blindly


@dataclass(frozen=True)
class SubmitResult:
    outcome: SubmitOutcome
    task_id: str = ""
    reason: str = ""
    message: str = ""
    retry_after: float | None = None
    http_status: int | None = None


class TaskStatus(StrEnum):
    QUEUED = "queued"
    PROCESSING = "processing"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    UNKNOWN = "unknown"  # any other value: not finished


TASK_STATUSES = {
    "TASK_STATUS_QUEUED": TaskStatus.QUEUED,
    "TASK_STATUS_PROCESSING": TaskStatus.PROCESSING,
    "TASK_STATUS_SUCCEED": TaskStatus.SUCCEEDED,
    "TASK_STATUS_FAILED": TaskStatus.FAILED,
}


@dataclass(frozen=True)
class ResultVideo:
    url: str
    ttl_seconds: int | None
    video_type: str


@dataclass(frozen=True)
class TaskResult:
    task_id: str
    status: TaskStatus
    raw_status: str
    reason: str
    progress_percent: int | None
    eta_seconds: int | None
    videos: tuple[ResultVideo, ...]
    seed: int | None

    @property
    def finished(self) -> bool:
        return self.status in (TaskStatus.SUCCEEDED, TaskStatus.FAILED)


class PollOutcome(StrEnum):
    OK = "ok"
    NOT_FOUND = "not_found"
    RETRY_LATER = "retry_later"
    ERROR = "error"  # the API refused us (key, account): polling again will not help


@dataclass(frozen=True)
class PollResult:
    outcome: PollOutcome
    task: TaskResult | None = None
    reason: str = ""
    message: str = ""
    retry_after: float | None = None
    http_status: int | None = None


class DownloadOutcome(StrEnum):
    OK = "ok"
    EXPIRED = "expired"  # the signed link stopped working: ask the API for a fresh one
    RETRY_LATER = "retry_later"
    INVALID = "invalid"  # what came back is not a usable video


@dataclass(frozen=True)
class DownloadResult:
    outcome: DownloadOutcome
    size: int = 0
    sha256: str = ""
    content_type: str = ""
    message: str = ""


# --- parsing answers -------------------------------------------------------------------


class MalformedAnswer(ValueError):
    pass


def parse_task_result(body) -> TaskResult:
    """Read a task-result body (or its JSON text), accepting every variant of the contract."""
    if isinstance(body, str | bytes):
        try:
            body = json.loads(body)
        except ValueError as error:
            raise MalformedAnswer(f"not JSON: {error}") from None
    task = body.get("task") if isinstance(body, Mapping) else None
    if not isinstance(task, Mapping) or not scalar_text(task.get("status")):
        raise MalformedAnswer("the answer holds no task with a status")
    raw_status = scalar_text(task["status"])
    status = TASK_STATUSES.get(raw_status.upper(), TaskStatus.UNKNOWN)
    task_id = scalar_text(task.get("task_id"))
    if status is TaskStatus.UNKNOWN:
        log.warning("Task %s has unknown status %r; treated as not finished", task_id, raw_status)
    extra = body.get("extra") if isinstance(body.get("extra"), Mapping) else {}
    eta = whole_number(task.get("eta"))
    progress = whole_number(task.get("progress_percent"))
    return TaskResult(
        task_id=task_id,
        status=status,
        raw_status=raw_status,
        reason=scalar_text(task.get("reason")),
        progress_percent=None if progress is None else min(100, max(0, progress)),
        eta_seconds=None if eta is None else max(0, eta),
        videos=result_videos(body.get("videos")),
        seed=whole_number(extra.get("seed")),
    )


def result_videos(entries) -> tuple[ResultVideo, ...]:
    if not isinstance(entries, list):
        return ()
    return tuple(
        ResultVideo(
            url=url,
            # The TTL comes as "3600", 3600 or "0" for a link that lives an hour: kept as given.
            ttl_seconds=whole_number(entry.get("video_url_ttl")),
            video_type=scalar_text(entry.get("video_type")),
        )
        for entry in entries
        if isinstance(entry, Mapping) and (url := scalar_text(entry.get("video_url")))
    )


def whole_number(value) -> int | None:
    """Numbers come as strings or numbers by source: "42", 42, 42.0 and "42.5" all read."""
    if isinstance(value, str):
        try:
            return int(value.strip())
        except ValueError:
            try:
                value = float(value)
            except ValueError:
                return None
    if is_whole(value):
        return value
    if isinstance(value, float) and math.isfinite(value):
        return math.floor(value)
    return None


def scalar_text(value) -> str:
    """A string, or a number as its string (a numeric task id); "" for anything else."""
    if isinstance(value, str):
        return value.strip()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if is_number(value):
        return str(value)
    return ""


def json_or_none(response: requests.Response):
    try:
        return response.json()
    except ValueError:
        return None


def error_body(response: requests.Response) -> tuple[str, str, bool]:
    """(reason, message, recognised): the API's error shape, or a proxy's `{"error": {...}}`."""
    data = json_or_none(response)
    if not isinstance(data, Mapping):
        return "", "", False
    if reason := scalar_text(data.get("reason")):
        return reason, scalar_text(data.get("message")), True
    error = data.get("error")
    if isinstance(error, Mapping) and ("message" in error or "code" in error):
        code = error.get("code")
        return (
            code.strip() if isinstance(code, str) else "",
            scalar_text(error.get("message")),
            True,
        )
    return "", "", False


def parse_retry_after(value: str | None, now: datetime | None = None) -> float | None:
    """Retry-After as seconds from now (>= 0): delta-seconds or an HTTP-date; None if unusable."""
    if not value or not value.strip():
        return None
    try:
        seconds = float(value)
    except ValueError:
        return seconds_until(value.strip(), now)
    return seconds if math.isfinite(seconds) and seconds >= 0 else None


def seconds_until(http_date: str, now: datetime | None) -> float | None:
    try:
        when = parsedate_to_datetime(http_date)
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    now = now or datetime.now(UTC)
    when = when if when.tzinfo else when.replace(tzinfo=UTC)
    now = now if now.tzinfo else now.replace(tzinfo=UTC)
    return max(0.0, (when - now).total_seconds())


def nothing_was_sent(error: Exception) -> bool:
    """True when the request never left: refused, DNS failure, connect timeout, bad URL."""
    if isinstance(error, NOTHING_SENT_ERRORS):
        return True
    cause = error.args[0] if error.args else None
    # NewConnectionError (refused, DNS) is a ConnectTimeoutError in urllib3 2.
    return isinstance(cause, urllib3.exceptions.MaxRetryError) and isinstance(
        cause.reason, urllib3.exceptions.ConnectTimeoutError
    )


def describe(error: Exception) -> str:
    cause = error.args[0] if error.args else error
    if isinstance(cause, urllib3.exceptions.MaxRetryError) and cause.reason is not None:
        cause = cause.reason
    if not isinstance(cause, BaseException):
        cause = error
    return f"{type(cause).__name__}: {cause}"


# --- the client ------------------------------------------------------------------------


class WanClient:
    def __init__(
        self,
        base_url: str,
        api_key: str,
        *,
        connect_timeout: float = 5.0,
        read_timeout: float = 30.0,
        session: requests.Session | None = None,
    ):
        self.base_url = base_url.rstrip("/")
        self._api_key = (api_key or "").strip()  # a key read from a file often ends in "\n"
        self.timeout = (connect_timeout, read_timeout)
        self.session = session or requests.Session()
        self.download_session = public_only_session(trusted_origin=self.base_url)

    def __repr__(self):
        return f"WanClient({self.base_url!r})"

    def submit(self, params: SubmitParams) -> SubmitResult:
        """POST one task. UNKNOWN means it may exist and be billed: never resend blindly."""
        try:
            body = build_submit_body(params)
        except InvalidParams as invalid:
            return SubmitResult(
                SubmitOutcome.REJECTED, reason="INVALID_PARAMS", message=str(invalid)
            )
        try:
            response = self.session.post(
                self.base_url + SUBMIT_PATH,
                json=body,
                headers=self.api_headers(),
                timeout=self.timeout,
                allow_redirects=False,  # a redirected POST turns into a GET and loses the key
            )
        except NETWORK_ERRORS as error:
            if nothing_was_sent(error):
                return SubmitResult(
                    SubmitOutcome.RETRY_LATER,
                    reason="CONNECTION_FAILED",
                    message=self.clean(describe(error)),
                )
            return self.unknown_submit(f"no answer after sending: {describe(error)}", "NO_ANSWER")
        return self.read_submit_answer(response)

    def read_submit_answer(self, response: requests.Response) -> SubmitResult:
        status = response.status_code
        if 200 <= status < 300:
            data = json_or_none(response)
            task_id = scalar_text(data.get("task_id")) if isinstance(data, Mapping) else ""
            if task_id:
                return SubmitResult(SubmitOutcome.ACCEPTED, task_id=task_id, http_status=status)
            return self.unknown_submit(f"HTTP {status} without a task id", http_status=status)
        reason, message, recognised = error_body(response)
        answer = dict(reason=reason, message=self.clean(message), http_status=status)
        if status in (408, 429):
            retry_after = parse_retry_after(response.headers.get("Retry-After"))
            return SubmitResult(SubmitOutcome.RETRY_LATER, retry_after=retry_after, **answer)
        if 300 <= status < 400:
            answer["message"] = f"HTTP {status} redirect; check the API base URL"
            return SubmitResult(SubmitOutcome.REJECTED, **answer)
        if 400 <= status < 500:
            return SubmitResult(SubmitOutcome.REJECTED, **answer)
        if status >= 500 and recognised:
            # The API (or its proxy) answered in its own words: it did not create the task.
            return SubmitResult(SubmitOutcome.RETRY_LATER, **answer)
        # A gateway answered; the API behind it may have created the task.
        return self.unknown_submit(f"HTTP {status} without an API error body", http_status=status)

    def unknown_submit(self, message, reason="", http_status=None) -> SubmitResult:
        message = self.clean(message)
        log.warning("Submit outcome unknown, the task may exist: %s", message)
        return SubmitResult(
            SubmitOutcome.UNKNOWN, reason=reason, message=message, http_status=http_status
        )

    def task_result(self, task_id: str) -> PollResult:
        try:
            response = self.session.get(
                self.base_url + RESULT_PATH,
                params={"task_id": task_id},
                headers=self.api_headers(),
                timeout=self.timeout,
                allow_redirects=False,
            )
        except NETWORK_ERRORS as error:
            reason = "CONNECTION_FAILED" if nothing_was_sent(error) else "NO_ANSWER"
            return PollResult(
                PollOutcome.RETRY_LATER, reason=reason, message=self.clean(describe(error))
            )
        return self.read_poll_answer(response, task_id)

    def read_poll_answer(self, response: requests.Response, task_id: str) -> PollResult:
        status = response.status_code
        if 200 <= status < 300:
            try:
                task = parse_task_result(json_or_none(response))
            except MalformedAnswer as error:
                message = f"HTTP {status} with an unusable body: {error}"
                return PollResult(PollOutcome.RETRY_LATER, message=message, http_status=status)
            task = task if task.task_id else replace(task, task_id=task_id)
            return PollResult(PollOutcome.OK, task=task, http_status=status)
        reason, message, _ = error_body(response)
        answer = dict(reason=reason, message=self.clean(message), http_status=status)
        if status == 404:
            return PollResult(PollOutcome.NOT_FOUND, **answer)
        if status in (408, 429):
            retry_after = parse_retry_after(response.headers.get("Retry-After"))
            return PollResult(PollOutcome.RETRY_LATER, retry_after=retry_after, **answer)
        if status >= 500:
            return PollResult(PollOutcome.RETRY_LATER, **answer)
        return PollResult(PollOutcome.ERROR, **answer)

    def download(
        self, url: str, dest: BinaryIO, *, max_bytes: int, chunk_size: int = 1 << 20
    ) -> DownloadResult:
        """Stream a signed video link into dest; OK only for a whole MP4 within max_bytes.

        The link comes from the API's answer, so it is not trusted: it is fetched only from
        public addresses (see PublicOnlyAdapter), through at most MAX_REDIRECTS redirects.
        """
        try:
            for _ in range(MAX_REDIRECTS + 1):
                if not is_web_url(url):
                    return invalid_video("the video link is not an http(s) URL", "")
                with self.download_session.get(
                    url,
                    stream=True,
                    timeout=self.timeout,
                    allow_redirects=False,  # followed below, each hop checked again
                    # A signed object-store link carries its own authority: never send the key.
                    headers={"Authorization": None, "Accept-Encoding": "identity"},
                ) as response:
                    if response.is_redirect:
                        url = urljoin(url, response.headers["Location"])
                        continue
                    refusal = judge_video_answer(response, max_bytes)
                    return refusal or stream_video(response, dest, max_bytes, chunk_size)
            return invalid_video(f"more than {MAX_REDIRECTS} redirects", "")
        except AddressNotAllowed as error:
            log.warning("Refused to fetch a video link: %s", error)
            return invalid_video(self.clean(str(error)), "")
        except NETWORK_ERRORS as error:
            message = self.clean(f"download failed: {describe(error)}")
            return DownloadResult(DownloadOutcome.RETRY_LATER, message=message)

    def api_headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self._api_key}", "Accept": "application/json"}

    def clean(self, text: str) -> str:
        """A message fit to store and show: no API key, no signed query string, short."""
        if self._api_key:
            for secret in (self._api_key, repr(self._api_key)[1:-1]):
                text = text.replace(secret, "[API key]")
        text = re.sub(r"\?[^\s'\"]+", "?[query]", text)  # signed links carry their signature there
        return text[:MESSAGE_MAX_CHARS]


def judge_video_answer(response: requests.Response, max_bytes: int) -> DownloadResult | None:
    """A result from the status and headers alone, before any of the body is read; else None."""
    status, content_type = response.status_code, response.headers.get("Content-Type", "")
    declared = whole_number(response.headers.get("Content-Length"))
    if 400 <= status < 500 and status not in (408, 429):
        return DownloadResult(DownloadOutcome.EXPIRED, message=f"the link answered HTTP {status}")
    if status != 200:
        return DownloadResult(
            DownloadOutcome.RETRY_LATER, message=f"the link answered HTTP {status}"
        )
    if is_not_video(content_type):
        return invalid_video(f"not a video (Content-Type {content_type})", content_type)
    if declared is not None and declared > max_bytes:
        return invalid_video(f"too large: {declared} bytes, at most {max_bytes}", content_type)
    return None


def stream_video(response: requests.Response, dest: BinaryIO, max_bytes, chunk_size):
    content_type = response.headers.get("Content-Type", "")
    digest, size, head = hashlib.sha256(), 0, b""
    for chunk in response.iter_content(chunk_size):
        size += len(chunk)
        if size > max_bytes:
            return invalid_video(f"too large: more than {max_bytes} bytes", content_type)
        if len(head) < 8:
            head += chunk[:8]
            if len(head) >= 8 and head[4:8] != MP4_SIGNATURE:
                break
        digest.update(chunk)
        dest.write(chunk)
    if head[4:8] != MP4_SIGNATURE:
        return invalid_video("not an MP4 video", content_type)
    declared = whole_number(response.headers.get("Content-Length"))
    identity = response.headers.get("Content-Encoding", "identity") == "identity"
    if declared is not None and identity and size < declared:
        message = f"truncated: {size} of {declared} bytes"
        return DownloadResult(DownloadOutcome.RETRY_LATER, message=message)
    dest.flush()
    return DownloadResult(DownloadOutcome.OK, size, digest.hexdigest(), content_type)


def invalid_video(message: str, content_type: str) -> DownloadResult:
    return DownloadResult(DownloadOutcome.INVALID, content_type=content_type, message=message)


def is_not_video(content_type: str) -> bool:
    """An explicit text, HTML, JSON or XML type: an error page, not a video."""
    mime = content_type.split(";")[0].strip().lower()
    return mime.startswith("text/") or mime.endswith(("/json", "+json", "/xml", "+xml"))
