"""Failure reasons in words a person can act on: what happened, and what to do next.

The pipeline stores the raw reason (an API error code, a network error, a check the video
failed); explain() recognises it and answers in plain sentences, keeping the raw text as the
detail. It reads only the text, so it explains every row ever stored.
"""

import hashlib
import re
from dataclasses import dataclass


@dataclass(frozen=True)
class Cause:
    summary: str  # what happened
    action: str  # what to do about it


@dataclass(frozen=True)
class Explanation:
    summary: str
    action: str
    detail: str  # the raw failure reason, as stored

    def __str__(self):
        return f"{self.summary} {self.action}"

    @property
    def key(self):
        """Short and stable for one raw text: an element id that outlives a live refresh."""
        return hashlib.blake2s(self.detail.encode(), digest_size=4).hexdigest()


def explain(failure_reason: str) -> Explanation:
    """What a stored failure reason means for a person, with the raw text as its detail."""
    text = (failure_reason or "").strip()
    cause = pipeline_cause(text) or api_cause(text) or UNKNOWN
    return Explanation(cause.summary, cause.action, text)


UNKNOWN = Cause(
    "The generation stopped for a reason the studio does not recognise.",
    "Read the details, then Retry; if it fails again, show the details to an admin.",
)

# --- the API's own words (../shared/API-CONTRACT.md, "Errors") ---------------------------

LATER = "Retry in a few minutes; if it keeps happening, an admin should check the API's status."
NEW_TASK = "Retry makes a new task, which is billed again"

WRONG_KEY = Cause(
    "The API did not accept the studio's API key.",
    "An admin needs to set a valid WAN_API_KEY and restart the studio, then Retry.",
)
UNREACHABLE = Cause(
    "The studio could not reach the API.",
    "Nothing was sent or billed. An admin should check the network and WAN_API_BASE_URL, "
    "then Retry.",
)
NO_ANSWER = Cause("The connection to the API broke before it answered.", LATER)
GATEWAY_ERROR = Cause(
    "A gateway in front of the API could not reach it (overloaded or down).", LATER
)
PICTURE_UNUSABLE = Cause(
    "The API could not use the picture: its size or format is not accepted.",
    "Nothing was billed. Use a JPEG or PNG of ordinary size and submit again.",
)
SAFETY_REFUSAL = Cause(
    "The API's safety checker refused the content.",
    "Change the prompt or the picture and submit again.",
)
REDIRECTED = Cause(
    "The API address answered with a redirect instead of the API.",
    "An admin needs to correct WAN_API_BASE_URL, then Retry.",
)

# Every error reason of the contract, and the client's own for network trouble (wan_api.py).
API_CODES = {
    "INVALID_REQUEST_BODY": Cause(
        "The API did not accept the request's settings.",
        "Nothing was billed. Reuse the settings, correct them and submit again; if they look "
        "right, tell an admin.",
    ),
    "INVALID_PARAMS": Cause(
        "Some settings are outside what the API accepts.",
        "Nothing was billed. Reuse the settings, correct the fields named in the details and "
        "submit again.",
    ),
    "ILLEGAL_PROMPT": Cause(
        "The API refused the prompt's content.",
        "Nothing was billed. Reword the prompt and submit again.",
    ),
    "ILLEGAL_IMAGE_CONTENT": Cause(
        "The API refused the picture's content.",
        "Nothing was billed. Choose another picture and submit again.",
    ),
    "IMAGE_FETCH_FAILED": Cause(
        "The API could not download or read the picture.",
        "An admin should check that PUBLIC_BASE_URL is an address the API's servers can "
        "reach; if it is, try another picture.",
    ),
    "BILLING_BALANCE_NOT_ENOUGH": Cause(
        "The API account is out of credit.",
        "An admin needs to top it up, then resume submissions.",
    ),
    "MISSING_API_KEY": Cause(
        "The studio sent no API key.",
        "An admin needs to set WAN_API_KEY and restart the studio, then Retry.",
    ),
    "INVALID_API_KEY": WRONG_KEY,
    "BILLING_AUTH_FAILED": Cause(
        "The API could not verify the account's billing.",
        "An admin needs to check the API account's billing settings, then Retry.",
    ),
    "API_NOT_ALLOWED": Cause(
        "The API account is not allowed to use this model.",
        "An admin needs to enable Wan 2.1 image-to-video for the account or use another key, "
        "then Retry.",
    ),
    "TASK_NOT_FOUND": Cause(
        "The API no longer knows this task: it expired or was never created.",
        f"{NEW_TASK}.",
    ),
    "RATE_LIMIT_EXCEEDED": Cause(
        "The API was busy: the account's limit of requests per minute was reached.",
        "Nothing was billed. Retry in a few minutes.",
    ),
    "CREATE_TASK_FAILED": Cause(
        "The API failed to create the task.",
        "Nothing was billed. Retry in a few minutes.",
    ),
    "BILLING_FAILED": Cause(
        "The API failed to bill the task, so it did not make it.",
        "Retry in a few minutes; if it happens again, an admin should check the API account.",
    ),
    "GET_RESULT_FAILED": Cause(
        "The API failed to report on the task.",
        f"{NEW_TASK}; if many fail like this, an admin should check the API's status.",
    ),
    "CONNECTION_FAILED": UNREACHABLE,
    "NO_ANSWER": NO_ANSWER,
}
# When an answer carried no error code, its HTTP status says what it can.
HTTP_STATUSES = {
    400: API_CODES["INVALID_REQUEST_BODY"],
    401: WRONG_KEY,
    403: Cause(
        "The API refused the studio's key or account.",
        "An admin needs to check WAN_API_KEY and the API account, then Retry.",
    ),
    404: Cause(  # a bare 404 comes from a submit: polls that find no task say so themselves
        "The API address has no such endpoint.",
        "An admin needs to correct WAN_API_BASE_URL, then Retry.",
    ),
    408: NO_ANSWER,
    429: API_CODES["RATE_LIMIT_EXCEEDED"],
    500: Cause("The API had an internal error.", LATER),
    502: GATEWAY_ERROR,
    503: GATEWAY_ERROR,
    504: GATEWAY_ERROR,
}
# Causes no new task fixes until an admin changes the key or the account.
ACCOUNT_CODES = ("MISSING_API_KEY", "INVALID_API_KEY", "BILLING_AUTH_FAILED", "API_NOT_ALLOWED")
ACCOUNT_TROUBLE = [API_CODES[code] for code in ACCOUNT_CODES] + [
    HTTP_STATUSES[401],
    HTTP_STATUSES[403],
]

CODE = re.compile(r"\b[A-Za-z][A-Za-z0-9]*(?:_[A-Za-z0-9]+)+\b")
HTTP_STATUS = re.compile(r"\bHTTP (\d{3})\b")


def api_cause(text):
    """The cause named by the first API error code in text, else by its HTTP status."""
    for token in CODE.findall(text):
        if token.upper() in API_CODES:  # proxies may spell a code in lower case
            return API_CODES[token.upper()]
        if token.isupper() and "IMAGE" in token:  # the contract's unnamed size/format errors
            return PICTURE_UNUSABLE
    if re.search(r"safety|nsfw", text, re.IGNORECASE):  # a task's reason, in free text
        return SAFETY_REFUSAL
    if re.search(r"HTTP 3\d\d redirect", text):
        return REDIRECTED
    if status := HTTP_STATUS.search(text):
        code = int(status[1])
        return HTTP_STATUSES.get(code) or HTTP_STATUSES.get(code // 100 * 100)
    if text.lower() == "no answer":  # pipeline.api_error_text of an empty answer
        return NO_ANSWER
    return None


# --- what the pipeline writes (generations/pipeline.py) ----------------------------------

UNKNOWN_OUTCOME = (
    "An admin should look for this task in the API account's usage: if it is not there, "
    "choose Submit again; if it is, leave it, as submitting again is billed twice."
)


def refused_for_now(match):
    if api_cause(match["last"]) is UNREACHABLE:
        happened = "The studio could not reach the API for now; it tries again by itself."
    else:
        happened = "The API turned the request away for now; the studio tries again by itself."
    return Cause(happened, "Nothing to do: nothing has been billed.")


def refused_repeatedly(match):
    if api_cause(match["last"]) is UNREACHABLE:
        return Cause(
            f"The studio could not reach the API in {match['tries']} tries.", UNREACHABLE.action
        )
    return Cause(
        f"The API turned the request away {match['tries']} times in a row.",
        f"Nothing was billed. {LATER}",
    )


def outcome_unknown(match):
    inner = match.groupdict().get("inner") or ""
    if "without a task id" in inner:
        happened = "The API answered without a task id"
    elif "without an API error body" in inner:
        happened = "A gateway in front of the API answered with an error page"
    elif inner:
        happened = "The connection broke after the request was sent"
    else:
        happened = "The studio stopped while sending the request"
    return Cause(
        f"{happened}, so it is unknown whether the API made (and billed) this task.",
        UNKNOWN_OUTCOME,
    )


def stopped_answering(match):
    if api_cause(match["last"]) in ACCOUNT_TROUBLE:
        return Cause(
            "The API stopped accepting the studio's key or account while this task was made.",
            f"An admin needs to fix WAN_API_KEY or the account first. {NEW_TASK}.",
        )
    return Cause(
        "The API stopped answering about this task while it was being made.",
        f"{NEW_TASK}; if many fail like this, an admin should check the API's status.",
    )


def unusable_result(match):
    why = match["why"]
    if why.startswith("too large"):
        return Cause(
            "The video the API made is larger than the studio accepts.",
            f"An admin can raise WAN_MAX_VIDEO_BYTES. {NEW_TASK}.",
        )
    if why.startswith(("not an MP4", "not a video")):
        happened = "The API's video link served something that is not a video (an error page)."
    else:  # not http(s), too many redirects, or a private address
        happened = "The API's video link pointed somewhere the studio does not download from."
    return Cause(happened, f"{NEW_TASK}; if it happens again, tell an admin.")


def fixed(summary, action):
    return lambda match: Cause(summary, action)


PIPELINE_TEXTS = [
    (r"Invalid parameters: ", lambda match: API_CODES["INVALID_PARAMS"]),
    (
        r"Held: the API account is out of credit",
        fixed(
            "Waiting: the API account is out of credit.",
            "An admin needs to top it up, then resume submissions; this one is sent then.",
        ),
    ),
    (r"Refused before acceptance \((?P<last>.*)\); retrying in", refused_for_now),
    (r"The API refused (?P<tries>\d+) times; last: (?P<last>.*)", refused_repeatedly),
    (r"The API may or may not have created this task \((?P<inner>.*)\)\.", outcome_unknown),
    (r"The submit was interrupted", outcome_unknown),
    (r"The API no longer knows this task", lambda match: API_CODES["TASK_NOT_FOUND"]),
    (r"The API kept failing to answer: (?P<last>.*)", stopped_answering),
    (
        r"The API reported the task failed",
        fixed(
            "The API could not make this video and gave no reason.",
            "Retry; if it fails again, change the picture or the prompt.",
        ),
    ),
    (
        r"The API reported success without a video",
        fixed(
            "The API said the video was made but sent none.",
            f"{NEW_TASK}; if it happens again, tell an admin.",
        ),
    ),
    (
        r"Result expired",
        fixed(
            "The video was made, but its link expired before the studio could download it.",
            f"{NEW_TASK}; if it happens again, an admin should check that the workers run.",
        ),
    ),
    (r"The result could not be used: (?P<why>.*)", unusable_result),
    (
        r"The result is not a playable video",
        fixed(
            "The file the API sent is not a playable video.",
            f"{NEW_TASK}; if it happens again, tell an admin.",
        ),
    ),
]
PIPELINE_TEXTS = [(re.compile(pattern, re.DOTALL), cause) for pattern, cause in PIPELINE_TEXTS]


def pipeline_cause(text):
    for pattern, cause in PIPELINE_TEXTS:
        if match := pattern.match(text):
            return cause(match)
    return None
