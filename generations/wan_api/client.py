"""The HTTP client of the hosted Wan 2.1 API: submit, poll and download, over requests.

The caller passes the base URL, the key and the timeouts; no settings are read. Network
trouble never raises: every call returns a result (contract.py) whose outcome says what the
caller may safely do next.
"""

import hashlib
import http.client
import logging
import math
import re
from collections.abc import Mapping
from dataclasses import replace
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import BinaryIO
from urllib.parse import urljoin

import requests
import urllib3.exceptions

from lib.public_fetch import AddressNotAllowed, public_only_session

from .contract import (
    RESULT_PATH,
    SUBMIT_PATH,
    DownloadOutcome,
    DownloadResult,
    InvalidParams,
    MalformedAnswer,
    PollOutcome,
    PollResult,
    SubmitOutcome,
    SubmitParams,
    SubmitResult,
    build_submit_body,
    is_web_url,
    parse_task_result,
    scalar_text,
    whole_number,
)

log = logging.getLogger(__package__)  # "generations.wan_api": one name for the whole client

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


# --- reading HTTP answers --------------------------------------------------------------


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


# --- checking and streaming a video ----------------------------------------------------


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
