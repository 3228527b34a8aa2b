"""Fault markers: a prompt (or the runtime config) tells the simulator which failure to play.

Markers are case-insensitive and may sit anywhere in the prompt:

    [sim:fail]  [sim:fail=Some reason]   the task is accepted, then ends TASK_STATUS_FAILED
    [sim:reject]                          400 ILLEGAL_PROMPT at submit
    [sim:balance]                         400 BILLING_BALANCE_NOT_ENOUGH at submit
    [sim:429]  [sim:429x2]  [sim:429x1:retry-after=2]  [sim:429x1:retry-date=2]
    [sim:500]  [sim:500x1]                500 CREATE_TASK_FAILED at submit
    [sim:timeout]                         task created, the answer never comes (read timeout)
    [sim:drop]                            task created, connection closed without an answer
    [sim:slowaccept]                      task created, its answer comes after hang_seconds
    [sim:slow]                            processing takes 4x longer

Faults of a task's polls (task-result answers):

    [sim:poll502]      a gateway's 502 HTML page
    [sim:pollcut]      200 with the JSON cut off halfway
    [sim:poll404]      404 TASK_NOT_FOUND
    [sim:pollhang]     no answer for hang_seconds, then the connection closes
    [sim:oddstatus]    a status value the contract does not list (TASK_STATUS_RUNNING)
    [sim:flip]         numbers sent as strings and strings as numbers, in every answer
    [sim:novideo]      once succeeded: TASK_STATUS_SUCCEED with an empty `videos` list
    [sim:expired]      once succeeded: a video link that has already expired

Faults of the task's webhook (extra.webhook.url):

    [sim:hookdrop]     no callback at all
    [sim:hookdup]      the callback is sent twice
    [sim:hookdelay]    the callback comes webhook_delay seconds after the task ends
    [sim:hookearly]    the callback comes half-way through processing, and none at the end

Faults of the video link itself:

    [sim:cutvideo]     the full Content-Length is announced, half the body is sent
    [sim:notmp4]       200 video/mp4 whose body is an HTML page
    [sim:slowvideo]    the body trickles out over hang_seconds, in eight pieces

"xN" limits a fault to its first N occurrences: the first N submits carrying that exact
prompt, or the first N polls (answers after success, for novideo and expired) or downloads
of the task; later ones pass, which is how a client's retry is shown to succeed.
"retry-after=N" sends `Retry-After: N`; "retry-date=N" sends an HTTP-date N seconds ahead.
"""

import re
import threading
from dataclasses import dataclass

DEFAULT_FAIL_REASON = "The content was refused by the safety checker"
SUBMIT_FAULTS = ("429", "500", "balance", "reject", "timeout", "drop", "slowaccept")
TASK_FAULTS = ("fail", "slow")
POLL_FAULTS = ("poll502", "pollcut", "poll404", "pollhang", "oddstatus")
ANSWER_FAULTS = ("flip",)  # shape every answer, never counted
SUCCESS_FAULTS = ("novideo", "expired")  # only answers given once the task succeeded
VIDEO_FAULTS = ("cutvideo", "notmp4", "slowvideo")
# The marker of each webhook fault, by its name in SimConfig.webhook_fault.
WEBHOOK_FAULTS = {"hookdrop": "drop", "hookdup": "dup", "hookdelay": "delay", "hookearly": "early"}

_KINDS = (
    SUBMIT_FAULTS
    + TASK_FAULTS
    + POLL_FAULTS
    + ANSWER_FAULTS
    + SUCCESS_FAULTS
    + VIDEO_FAULTS
    + tuple(WEBHOOK_FAULTS)
)
_MARKER = re.compile(
    rf"\[sim:(?P<kind>{'|'.join(sorted(_KINDS, key=len, reverse=True))})"
    r"(?:=(?P<reason>[^\]]*))?"
    r"(?:x(?P<times>\d+))?"
    r"(?::retry-after=(?P<retry_after>\d+))?"
    r"(?::retry-date=(?P<retry_date>\d+))?\]",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class Fault:
    kind: str  # one of SUBMIT_FAULTS or TASK_FAULTS
    times: int | None = None  # only the first N submits; None means every one
    retry_after: int | None = None  # seconds for a Retry-After header
    retry_date: int | None = None  # seconds ahead, for a Retry-After header as an HTTP-date
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
        retry_date=int(match["retry_date"]) if match["retry_date"] else None,
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


def first_task_fault(
    prompt: str, task_id: str, kinds: tuple, counter: FaultCounter
) -> Fault | None:
    """The first of the prompt's markers of these kinds still firing for this task (counted)."""
    for index, fault in enumerate(parse_markers(prompt)):
        if fault.kind in kinds and counter.fires(("task", task_id, index), fault):
            return fault
    return None
