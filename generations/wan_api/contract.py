"""The contract of the hosted Wan 2.1 image-to-video API (Novita's "v3 async"), as data.

What a submit may carry and how it is checked, the body it becomes, the typed outcomes the
client returns, and how a task-result answer is read. No HTTP here (that is client.py), no
models, no settings.
"""

import ipaddress
import json
import logging
import math
import re
from collections.abc import Mapping
from dataclasses import MISSING, dataclass, fields
from enum import StrEnum
from urllib.parse import urlsplit

log = logging.getLogger(__package__)  # "generations.wan_api": one name for the whole client

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
    # extra.webhook.url: where the API POSTs the task's result when it ends ("" for none).
    webhook_url: str = ""


# The API's defaults, as the form shows them.
DEFAULTS = {
    field.name: field.default
    for field in fields(SubmitParams)
    if field.default is not MISSING and field.name not in ("loras", "webhook_url")
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
        ("webhook_url", webhook_url_error(params.webhook_url)),
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
    if params.webhook_url:
        body["extra"] = {"webhook": {"url": params.webhook_url}}
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


def webhook_url_error(value) -> str | None:
    if value == "" or is_web_url(value):
        return None
    return "Enter an http(s) URL, or nothing for no webhook."


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
