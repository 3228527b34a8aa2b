"""The simulator's settings: command line, environment (WANSIM_*) and runtime overrides."""

import dataclasses
import os
from dataclasses import dataclass

# Fields POST /sim/config may change while running; host, port and data_dir are fixed at start.
RUNTIME_FIELDS = (
    "api_key",
    "queue_seconds",
    "process_seconds",
    "spread",
    "video_ttl",
    "submit_fault",
    "fail_rate",
    "rate_limit_per_minute",
    "fetch_timeout",
    "hang_seconds",
    "webhook_fault",
    "webhook_delay",
)
# What webhook_fault may be: every callback is dropped, sent twice, sent webhook_delay seconds
# late, or sent early (half-way through processing, instead of when the task ends).
WEBHOOK_FAULT_CHOICES = ("", "drop", "dup", "delay", "early")


@dataclass
class SimConfig:
    host: str = "127.0.0.1"
    port: int = 8001  # 0 picks a free port
    api_key: str = "sim-key"
    data_dir: str | None = None  # None: a temporary directory, removed on stop
    # The hosted service's timings (the contract's section 5): about a minute at 480p.
    queue_seconds: float = 3.0
    process_seconds: float = 57.0  # at 480p; 720p takes 2.5x, fast_mode half, [sim:slow] 4x
    spread: float = 0.15  # each task's processing time is off by up to this share, either way
    video_ttl: int = 3600  # seconds a signed video link stays valid
    # A fault applied to every submit, written like a prompt marker without brackets:
    # "429", "429x2:retry-after=3", "500", "balance", "reject", "timeout", "drop"; "" for none.
    submit_fault: str = ""
    fail_rate: float = 0.0  # share of accepted tasks the "safety checker" refuses, 0..1
    rate_limit_per_minute: int = 0  # submits allowed in any sliding minute; 0 is unlimited
    fetch_timeout: float = 10.0  # seconds to download image_url, as the real service gives up
    hang_seconds: float = 60.0  # how long [sim:timeout] holds the connection before closing it
    webhook_fault: str = ""  # one of WEBHOOK_FAULT_CHOICES, for every task's callback
    webhook_delay: float = 10.0  # how late a "delay" callback comes
    log_requests: bool = False

    @classmethod
    def from_env(cls, environ=os.environ) -> "SimConfig":
        """Defaults overridden by WANSIM_<FIELD> variables, e.g. WANSIM_PORT=8002."""
        overrides = {}
        for field in dataclasses.fields(cls):
            raw = environ.get(f"WANSIM_{field.name.upper()}")
            if raw is not None:
                overrides[field.name] = raw
        return cls().updated(overrides)

    def updated(self, overrides: dict) -> "SimConfig":
        """A copy with overrides applied, each coerced to the field's type; ValueError if bad."""
        types = {field.name: field.type for field in dataclasses.fields(self)}
        changes = {}
        for name, value in overrides.items():
            if name not in types:
                raise ValueError(f"{name}: not a simulator setting")
            changes[name] = _coerce(name, types[name], value)
        if not 0 <= changes.get("fail_rate", self.fail_rate) <= 1:
            raise ValueError("fail_rate: must be between 0 and 1")
        if not 0 <= changes.get("spread", self.spread) < 1:
            raise ValueError("spread: must be at least 0 and below 1")
        if changes.get("webhook_fault", self.webhook_fault) not in WEBHOOK_FAULT_CHOICES:
            choices = ", ".join(repr(choice) for choice in WEBHOOK_FAULT_CHOICES)
            raise ValueError(f"webhook_fault: must be one of {choices}")
        return dataclasses.replace(self, **changes)

    def as_dict(self) -> dict:
        return dataclasses.asdict(self)


def _coerce(name: str, kind, value):
    if value is None and kind not in (bool, int, float, str):
        return None  # only data_dir is optional
    try:
        if kind is bool:
            if isinstance(value, str):
                return value.strip().lower() in ("1", "true", "yes", "on")
            return bool(value)
        if kind in (int, float):
            number = kind(value)
            if number < 0:
                raise ValueError
            return number
        return str(value)
    except (TypeError, ValueError):
        raise ValueError(f"{name}: {value!r} is not a valid setting") from None
