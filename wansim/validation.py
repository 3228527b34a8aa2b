"""Validation of a submit body against the contract's field table (section 1 of API-CONTRACT)."""

import math
from dataclasses import dataclass
from urllib.parse import urlsplit

# Each width has exactly one height: 480p portrait/landscape and 720p portrait/landscape.
SIZE_PAIRS = {480: 832, 832: 480, 720: 1280, 1280: 720}
DEFAULT_SIZE = (832, 480)
MAX_TEXT = 2000
MAX_LORAS = 3


class InvalidRequest(ValueError):
    """The body breaks a rule; the message names the field (400 INVALID_REQUEST_BODY)."""


@dataclass(frozen=True)
class SubmitRequest:
    prompt: str
    image_url: str
    negative_prompt: str = ""
    width: int = DEFAULT_SIZE[0]
    height: int = DEFAULT_SIZE[1]
    loras: tuple = ()
    seed: int = -1
    steps: int = 30
    guidance_scale: float = 5.0
    flow_shift: float = 5.0
    enable_safety_checker: bool = True
    fast_mode: bool = False
    webhook_url: str = ""  # extra.webhook.url: where the result is POSTed when the task ends

    @property
    def clarity(self) -> str:
        return "720p" if 1280 in (self.width, self.height) else "480p"


def parse_submit(body) -> SubmitRequest:
    """The request the body describes, defaults filled in; InvalidRequest if a rule is broken."""
    if not isinstance(body, dict):
        raise InvalidRequest("request body must be a JSON object")
    width, height = _size(body)
    fields = {
        "prompt": _text(body, "prompt", required=True),
        "image_url": _image_url(body),
        "negative_prompt": _text(body, "negative_prompt"),
        "width": width,
        "height": height,
        "loras": _loras(body),
        "seed": _integer(body, "seed", -1, 9_999_999_999),
        "steps": _integer(body, "steps", 1, 40),
        "guidance_scale": _number(body, "guidance_scale", 0, 10),
        "flow_shift": _number(body, "flow_shift", 1, 10),
        "enable_safety_checker": _boolean(body, "enable_safety_checker"),
        "fast_mode": _boolean(body, "fast_mode"),
        "webhook_url": _webhook_url(body),
    }
    # A field that is absent (or null, as protobuf JSON treats it) keeps the dataclass default.
    return SubmitRequest(**{name: value for name, value in fields.items() if value is not None})


def _text(body: dict, name: str, required: bool = False) -> str | None:
    value = body.get(name)
    if value is None:
        if required:
            raise InvalidRequest(f"{name}: is required")
        return None
    if not isinstance(value, str):
        raise InvalidRequest(f"{name}: must be a string")
    if required and not value:
        raise InvalidRequest(f"{name}: must not be empty")
    if len(value) > MAX_TEXT:
        raise InvalidRequest(f"{name}: must be at most {MAX_TEXT} characters (got {len(value)})")
    return value


def _image_url(body: dict) -> str:
    value = _text(body, "image_url", required=True)
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise InvalidRequest("image_url: must be an http(s) URL the service can fetch")
    return value


def _webhook_url(body: dict) -> str | None:
    extra = body.get("extra")
    if extra is None:
        return None
    if not isinstance(extra, dict):
        raise InvalidRequest("extra: must be an object")
    webhook = extra.get("webhook")
    if webhook is None:
        return None
    if not isinstance(webhook, dict):
        raise InvalidRequest("extra.webhook: must be an object with a url")
    url = webhook.get("url")
    if not isinstance(url, str) or urlsplit(url).scheme not in ("http", "https"):
        raise InvalidRequest("extra.webhook.url: must be an http(s) URL")
    return url


def _size(body: dict) -> tuple[int, int]:
    width = _integer(body, "width", None, None)
    height = _integer(body, "height", None, None)
    if width is None or height is None:
        return DEFAULT_SIZE  # the contract: one side missing forces both to 832x480
    if width not in SIZE_PAIRS:
        allowed = ", ".join(str(size) for size in sorted(SIZE_PAIRS))
        raise InvalidRequest(f"width: must be one of {allowed}")
    if height != SIZE_PAIRS[width]:
        raise InvalidRequest(f"height: must be {SIZE_PAIRS[width]} when width is {width}")
    return width, height


def _loras(body: dict) -> tuple | None:
    value = body.get("loras")
    if value is None:
        return None
    if not isinstance(value, list):
        raise InvalidRequest("loras: must be a list")
    if len(value) > MAX_LORAS:
        raise InvalidRequest(f"loras: at most {MAX_LORAS} items (got {len(value)})")
    loras = []
    for index, item in enumerate(value):
        name = f"loras[{index}]"
        if not isinstance(item, dict):
            raise InvalidRequest(f"{name}: must be an object with path and scale")
        path = item.get("path")
        if not isinstance(path, str) or not path.strip():
            raise InvalidRequest(f"{name}.path: must be a non-empty string")
        scale = _number(item, "scale", 0, 4, label=f"{name}.scale")
        if scale is None:
            raise InvalidRequest(f"{name}.scale: is required")
        loras.append((path, scale))
    return tuple(loras)


def _integer(body: dict, name: str, low: int | None, high: int | None) -> int | None:
    value = body.get(name)
    if value is None:
        return None
    # bool is an int in Python, but true is not a number in JSON.
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidRequest(f"{name}: must be an integer")
    if low is not None and not low <= value <= high:
        raise InvalidRequest(f"{name}: must be between {low} and {high} (got {value})")
    return value


def _number(
    body: dict, name: str, low: float, high: float, label: str | None = None
) -> float | None:
    label = label or name
    value = body.get(name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise InvalidRequest(f"{label}: must be a number")
    if not low <= value <= high:
        raise InvalidRequest(f"{label}: must be between {low} and {high} (got {value})")
    return float(value)


def _boolean(body: dict, name: str) -> bool | None:
    value = body.get(name)
    if value is not None and not isinstance(value, bool):
        raise InvalidRequest(f"{name}: must be true or false")
    return value
