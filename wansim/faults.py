"""Fault markers: a prompt (or the runtime config) tells the simulator which failure to play.

Markers are case-insensitive and may sit anywhere in the prompt:

    [sim:fail]  [sim:fail=Some reason]   the task is accepted, then ends TASK_STATUS_FAILED
    [sim:reject]                          400 ILLEGAL_PROMPT at submit
    [sim:balance]                         400 BILLING_BALANCE_NOT_ENOUGH at submit
    [sim:429]  [sim:429x2]  [sim:429x1:retry-after=2]
    [sim:500]  [sim:500x1]                500 CREATE_TASK_FAILED at submit
    [sim:timeout]                         task created, the answer never comes (read timeout)
    [sim:drop]                            task created, connection closed without an answer
    [sim:slow]                            processing takes 4x longer

"xN" limits a submit fault to the first N submits carrying that exact prompt; later ones pass,
which is how a client's retry is shown to succeed.
"""

import re
import threading
from dataclasses import dataclass

DEFAULT_FAIL_REASON = "The content was refused by the safety checker"
SUBMIT_FAULTS = ("429", "500", "balance", "reject", "timeout", "drop")
TASK_FAULTS = ("fail", "slow")

_MARKER = re.compile(
    r"\[sim:(?P<kind>429|500|balance|reject|timeout|drop|slow|fail)"
    r"(?:=(?P<reason>[^\]]*))?"
    r"(?:x(?P<times>\d+))?"
    r"(?::retry-after=(?P<retry_after>\d+))?\]",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class Fault:
    kind: str  # one of SUBMIT_FAULTS or TASK_FAULTS
    times: int | None = None  # only the first N submits; None means every one
    retry_after: int | None = None  # seconds for a Retry-After header
    reason: str = ""  # the failure reason of [sim:fail=...]


def parse_markers(prompt: str) -> list[Fault]:
    """Every marker in the prompt, in the order written."""
    return [_fault_from_match(match) for match in _MARKER.finditer(prompt)]


def parse_fault_spec(spec: str) -> Fault | None:
    """A fault written without brackets, as in POST /sim/config {"submit_fault": "429x2"}."""
    spec = spec.strip()
    if not spec:
        return None
    match = _MARKER.fullmatch(f"[sim:{spec}]")
    if match is None:
        raise ValueError(f"submit_fault: {spec!r} is not a fault such as 429, 500x1 or drop")
    return _fault_from_match(match)


def _fault_from_match(match: re.Match) -> Fault:
    kind = match["kind"].lower()
    reason = ""
    if kind == "fail":
        reason = (match["reason"] or "").strip() or DEFAULT_FAIL_REASON
    return Fault(
        kind=kind,
        times=int(match["times"]) if match["times"] else None,
        retry_after=int(match["retry_after"]) if match["retry_after"] else None,
        reason=reason,
    )


class FaultCounter:
    """Counts how often each limited fault ("429x2") has fired, per prompt and marker."""

    def __init__(self):
        self._lock = threading.Lock()
        self._fired: dict[tuple, int] = {}

    def fires(self, key: tuple, fault: Fault) -> bool:
        """Whether the fault applies to this submit; counts it when it does."""
        if fault.times is None:
            return True
        with self._lock:
            fired = self._fired.get(key, 0)
            if fired >= fault.times:
                return False
            self._fired[key] = fired + 1
            return True

    def reset(self) -> None:
        with self._lock:
            self._fired.clear()


def first_submit_fault(prompt: str, counter: FaultCounter) -> Fault | None:
    """The submit fault this prompt plays now: the first of its markers still firing."""
    for index, fault in enumerate(parse_markers(prompt)):
        if fault.kind in SUBMIT_FAULTS and counter.fires(("prompt", prompt, index), fault):
            return fault
    return None
