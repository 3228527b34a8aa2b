"""The Wan API client against a real local HTTP server that answers from a script."""

import hashlib
import io
import json
import logging
import socket
import time
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import pytest

from generations import wan_api
from generations.wan_api import (
    DownloadOutcome,
    PollOutcome,
    SubmitOutcome,
    SubmitParams,
    TaskStatus,
    WanClient,
    build_submit_body,
    parse_retry_after,
)

from .support.scripted_http import (
    API_KEY,
    HTML,
    MP4,
    Reply,
    api_error,
    html_reply,
    json_reply,
    scripted_server,
    video_reply,
)

PARAMS = SubmitParams(prompt="A cat turns its head", image_url="https://example.com/cat.png")


@pytest.fixture(scope="module")
def server():
    with scripted_server() as running:
        yield running


@pytest.fixture
def api(server):
    server.replies.clear()
    server.received.clear()
    return server


@pytest.fixture
def wan_client(api):
    wan = WanClient(api.url, API_KEY, connect_timeout=1.0, read_timeout=0.3)
    yield wan
    wan.session.close()


@pytest.fixture
def closed_port():
    """A local port where nothing listens: connecting is refused."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def full_backlog_url():
    """A server whose accept queue is full: a new connection times out while connecting."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(0)
    port = listener.getsockname()[1]
    fillers = []
    for _ in range(3):
        filler = socket.socket()
        filler.setblocking(False)
        filler.connect_ex(("127.0.0.1", port))
        fillers.append(filler)
    time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    for sock in [*fillers, listener]:
        sock.close()


@pytest.fixture
def unresolvable_host(monkeypatch):
    """A host name whose lookup fails, as it does when DNS cannot answer."""
    real_getaddrinfo = socket.getaddrinfo

    def getaddrinfo(host, *args, **kwargs):
        if host == "api.unresolvable.invalid":
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        return real_getaddrinfo(host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    return "http://api.unresolvable.invalid"


# --- submit ----------------------------------------------------------------------------


def test_submit_posts_the_body_with_the_key(api, wan_client):
    api.script(json_reply(200, {"task_id": "t-1"}))
    wan_client.submit(PARAMS)
    [request] = api.received
    assert (request.method, request.path) == ("POST", wan_api.SUBMIT_PATH)
    assert request.headers["Authorization"] == f"Bearer {API_KEY}"
    assert json.loads(request.body) == build_submit_body(PARAMS)


def test_submit_accepted(api, wan_client):
    api.script(json_reply(200, {"task_id": "t-1"}))
    result = wan_client.submit(PARAMS)
    assert (result.outcome, result.task_id, result.http_status) == (
        SubmitOutcome.ACCEPTED,
        "t-1",
        200,
    )


def test_submit_accepts_a_numeric_task_id_as_its_string(api, wan_client):
    api.script(json_reply(200, {"task_id": 123456}))
    assert wan_client.submit(PARAMS).task_id == "123456"


@pytest.mark.parametrize("body", [{}, {"task_id": ""}, {"task_id": None}, {"task_id": {}}, []])
def test_submit_200_without_a_task_id_is_unknown(api, wan_client, body):
    api.script(json_reply(200, body))
    assert wan_client.submit(PARAMS).outcome == SubmitOutcome.UNKNOWN


def test_submit_200_with_a_non_json_body_is_unknown(api, wan_client):
    api.script(Reply(200, HTML, {"Content-Type": "text/html"}))
    assert wan_client.submit(PARAMS).outcome == SubmitOutcome.UNKNOWN


@pytest.mark.parametrize(
    ("status", "reason"),
    [
        (400, "INVALID_REQUEST_BODY"),
        (400, "ILLEGAL_PROMPT"),
        (400, "ILLEGAL_IMAGE_CONTENT"),
        (400, "IMAGE_SIZE_EXCEEDS_LIMIT"),
        (400, "INVALID_IMAGE_FORMAT"),
        (400, "BILLING_BALANCE_NOT_ENOUGH"),
        (400, "MISSING_API_KEY"),
        (401, "MISSING_API_KEY"),
        (401, "INVALID_API_KEY"),
        (403, "INVALID_API_KEY"),
        (401, "BILLING_AUTH_FAILED"),
        (403, "BILLING_AUTH_FAILED"),
        (401, "API_NOT_ALLOWED"),
        (403, "API_NOT_ALLOWED"),
        (422, "SOMETHING_NEW"),
    ],
)
def test_submit_refusals_are_rejected_with_reason(api, wan_client, status, reason):
    api.script(api_error(status, reason, "you cannot"))
    result = wan_client.submit(PARAMS)
    assert (result.outcome, result.reason, result.message) == (
        SubmitOutcome.REJECTED,
        reason,
        "you cannot",
    )
    assert result.http_status == status


def test_submit_4xx_html_is_rejected(api, wan_client):
    api.script(Reply(413, HTML, {"Content-Type": "text/html"}))
    result = wan_client.submit(PARAMS)
    assert (result.outcome, result.reason, result.http_status) == (SubmitOutcome.REJECTED, "", 413)


def test_submit_does_not_follow_redirects(api, wan_client):
    api.script(Reply(307, b"", {"Location": api.url + "/elsewhere"}))
    assert wan_client.submit(PARAMS).outcome == SubmitOutcome.REJECTED
    assert len(api.received) == 1


def test_submit_rate_limited_without_retry_after(api, wan_client):
    api.script(api_error(429, "RATE_LIMIT_EXCEEDED"))
    result = wan_client.submit(PARAMS)
    assert (result.outcome, result.reason, result.retry_after) == (
        SubmitOutcome.RETRY_LATER,
        "RATE_LIMIT_EXCEEDED",
        None,
    )


def test_submit_rate_limited_honours_retry_after_seconds(api, wan_client):
    api.script(json_reply(429, {"reason": "RATE_LIMIT_EXCEEDED"}, **{"Retry-After": "17"}))
    assert wan_client.submit(PARAMS).retry_after == 17.0


def test_submit_rate_limited_honours_retry_after_date(api, wan_client):
    later = format_datetime(datetime.now(UTC) + timedelta(seconds=120), usegmt=True)
    api.script(json_reply(429, {"reason": "RATE_LIMIT_EXCEEDED"}, **{"Retry-After": later}))
    assert 110 <= wan_client.submit(PARAMS).retry_after <= 120


@pytest.mark.parametrize(
    ("status", "reason"),
    [
        (500, "CREATE_TASK_FAILED"),
        (500, "BILLING_FAILED"),
        (502, "CREATE_TASK_FAILED"),
        (503, "SERVICE_OVERLOADED"),
        (504, "CREATE_TASK_FAILED"),
    ],
)
def test_submit_5xx_with_the_apis_error_body_is_retry_later(api, wan_client, status, reason):
    api.script(api_error(status, reason))
    result = wan_client.submit(PARAMS)
    assert (result.outcome, result.reason) == (SubmitOutcome.RETRY_LATER, reason)


def test_submit_5xx_with_a_proxy_error_body_is_retry_later(api, wan_client):
    api.script(json_reply(503, {"error": {"message": "upstream overloaded", "code": 503}}))
    result = wan_client.submit(PARAMS)
    assert (result.outcome, result.message) == (SubmitOutcome.RETRY_LATER, "upstream overloaded")


@pytest.mark.parametrize(
    "reply",
    [
        html_reply(502),
        html_reply(504),
        Reply(500, b"Internal Server Error", {"Content-Type": "text/plain"}),
        json_reply(500, {"message": "no reason given"}),
    ],
)
def test_submit_5xx_without_an_api_body_is_unknown(api, wan_client, reply):
    api.script(reply)
    result = wan_client.submit(PARAMS)
    assert (result.outcome, result.http_status) == (SubmitOutcome.UNKNOWN, reply.status)


def test_submit_connection_refused_is_retry_later(closed_port):
    result = WanClient(f"http://127.0.0.1:{closed_port}", API_KEY).submit(PARAMS)
    assert (result.outcome, result.reason) == (SubmitOutcome.RETRY_LATER, "CONNECTION_FAILED")


def test_submit_dns_failure_is_retry_later(unresolvable_host):
    result = WanClient(unresolvable_host, API_KEY).submit(PARAMS)
    assert (result.outcome, result.reason) == (SubmitOutcome.RETRY_LATER, "CONNECTION_FAILED")


def test_submit_connect_timeout_is_retry_later(full_backlog_url):
    wan_client = WanClient(full_backlog_url, API_KEY, connect_timeout=0.2, read_timeout=0.2)
    result = wan_client.submit(PARAMS)
    assert (result.outcome, result.reason) == (SubmitOutcome.RETRY_LATER, "CONNECTION_FAILED")


@pytest.mark.parametrize(
    "reply",
    [
        Reply(action="close"),
        Reply(action="reset"),
        Reply(200, b'{"task_id": "t-1"}', action="sleep", delay=0.8),
        Reply(200, b'{"task_id": "t-1"}', {"Content-Type": "application/json"}, "truncate"),
    ],
    ids=["remote-disconnected", "connection-reset", "read-timeout", "truncated-answer"],
)
def test_submit_lost_answer_is_unknown(api, wan_client, reply):
    api.script(reply)
    result = wan_client.submit(PARAMS)
    assert result.outcome == SubmitOutcome.UNKNOWN
    assert len(api.received) == 1


def test_submit_invalid_params_are_rejected_without_a_request(api, wan_client):
    result = wan_client.submit(replace(PARAMS, steps=0))
    assert (result.outcome, result.reason) == (SubmitOutcome.REJECTED, "INVALID_PARAMS")
    assert api.received == []


def test_api_key_is_never_in_messages_or_logs(api, wan_client, closed_port, caplog):
    caplog.set_level(logging.DEBUG)
    api.script(api_error(401, "INVALID_API_KEY", f"key {API_KEY} is not valid"), html_reply(502))
    results = [wan_client.submit(PARAMS), wan_client.submit(PARAMS)]
    results.append(WanClient(f"http://127.0.0.1:{closed_port}", API_KEY).submit(PARAMS))
    assert results[0].reason == "INVALID_API_KEY"
    assert all(API_KEY not in repr(result) for result in results)
    assert API_KEY not in caplog.text
    assert API_KEY not in repr(wan_client)


def test_key_read_with_a_trailing_newline_is_trimmed(api):
    api.script(json_reply(200, {"task_id": "t-1"}))
    assert WanClient(api.url, API_KEY + "\n").submit(PARAMS).outcome == SubmitOutcome.ACCEPTED
    assert api.received[0].headers["Authorization"] == f"Bearer {API_KEY}"


# --- poll ------------------------------------------------------------------------------

PROCESSING = {
    "task": {
        "task_id": "t-1",
        "status": "TASK_STATUS_PROCESSING",
        "eta": 42,
        "progress_percent": 37,
    }
}


def test_poll_asks_for_the_task_with_the_key(api, wan_client):
    api.script(json_reply(200, PROCESSING))
    wan_client.task_result("t-1")
    [request] = api.received
    assert (request.method, request.path) == ("GET", f"{wan_api.RESULT_PATH}?task_id=t-1")
    assert request.headers["Authorization"] == f"Bearer {API_KEY}"


def test_poll_ok_carries_the_parsed_task(api, wan_client):
    api.script(json_reply(200, PROCESSING))
    result = wan_client.task_result("t-1")
    assert result.outcome == PollOutcome.OK
    assert (result.task.status, result.task.progress_percent, result.task.eta_seconds) == (
        TaskStatus.PROCESSING,
        37,
        42,
    )


def test_poll_fills_a_missing_task_id(api, wan_client):
    api.script(json_reply(200, {"task": {"status": "TASK_STATUS_QUEUED"}}))
    assert wan_client.task_result("t-9").task.task_id == "t-9"


@pytest.mark.parametrize("reply", [api_error(404, "TASK_NOT_FOUND"), html_reply(404)])
def test_poll_404_is_not_found(api, wan_client, reply):
    api.script(reply)
    assert wan_client.task_result("t-1").outcome == PollOutcome.NOT_FOUND


@pytest.mark.parametrize(
    ("status", "reason"), [(401, "INVALID_API_KEY"), (403, "API_NOT_ALLOWED"), (401, "")]
)
def test_poll_refused_key_is_an_error(api, wan_client, status, reason):
    api.script(api_error(status, reason) if reason else html_reply(status))
    result = wan_client.task_result("t-1")
    assert (result.outcome, result.reason, result.http_status) == (
        PollOutcome.ERROR,
        reason,
        status,
    )


def test_poll_rate_limited_honours_retry_after(api, wan_client):
    api.script(json_reply(429, {"reason": "RATE_LIMIT_EXCEEDED"}, **{"Retry-After": "3"}))
    result = wan_client.task_result("t-1")
    assert (result.outcome, result.retry_after) == (PollOutcome.RETRY_LATER, 3.0)


@pytest.mark.parametrize(
    "reply",
    [
        api_error(500, "GET_RESULT_FAILED"),
        html_reply(502),
        json_reply(503, {"error": {"message": "overloaded", "code": "overloaded"}}),
        Reply(504, b""),
        Reply(200, HTML, {"Content-Type": "text/html"}),
        Reply(200, b'{"task": {"status": ', {"Content-Type": "application/json"}),
        json_reply(200, {"videos": []}),
        Reply(200, json.dumps(PROCESSING).encode(), action="truncate"),
        Reply(200, json.dumps(PROCESSING).encode(), action="sleep", delay=0.8),
        Reply(action="close"),
        Reply(action="reset"),
    ],
    ids=[
        "500-api",
        "502-html",
        "503-proxy",
        "504-empty",
        "200-html",
        "200-invalid-json",
        "200-no-task",
        "truncated",
        "read-timeout",
        "remote-disconnected",
        "connection-reset",
    ],
)
def test_poll_transient_trouble_is_retry_later(api, wan_client, reply):
    api.script(reply)
    assert wan_client.task_result("t-1").outcome == PollOutcome.RETRY_LATER


def test_poll_connection_refused_is_retry_later(closed_port):
    result = WanClient(f"http://127.0.0.1:{closed_port}", API_KEY).task_result("t-1")
    assert (result.outcome, result.reason) == (PollOutcome.RETRY_LATER, "CONNECTION_FAILED")


# --- Retry-After -----------------------------------------------------------------------

NOW = datetime(2025, 1, 2, 3, 4, 5, tzinfo=UTC)


@pytest.mark.parametrize(
    ("value", "seconds"),
    [
        (None, None),
        ("", None),
        ("120", 120.0),
        (" 5 ", 5.0),
        ("0", 0.0),
        ("1.5", 1.5),
        ("-3", None),
        ("nan", None),
        ("soon", None),
        (format_datetime(NOW + timedelta(seconds=90), usegmt=True), 90.0),
        (format_datetime(NOW - timedelta(seconds=90), usegmt=True), 0.0),
    ],
)
def test_parse_retry_after(value, seconds):
    assert parse_retry_after(value, now=NOW) == seconds


# --- download --------------------------------------------------------------------------


def test_download_streams_the_video_to_dest(api, wan_client):
    api.script(video_reply())
    dest = io.BytesIO()
    result = wan_client.download(api.url + "/v.mp4?sig=abc", dest, max_bytes=1 << 20)
    assert result == wan_api.DownloadResult(
        DownloadOutcome.OK, len(MP4), hashlib.sha256(MP4).hexdigest(), "video/mp4"
    )
    assert dest.getvalue() == MP4


def test_download_sends_no_authorization(api, wan_client):
    api.script(video_reply())
    wan_client.download(api.url + "/v.mp4", io.BytesIO(), max_bytes=1 << 20)
    assert "Authorization" not in api.received[0].headers


class ChunkRecorder(io.BytesIO):
    def __init__(self):
        super().__init__()
        self.sizes = []

    def write(self, chunk):
        self.sizes.append(len(chunk))
        return super().write(chunk)


def test_download_writes_in_chunks_and_checks_the_signature_across_them(api, wan_client):
    api.script(video_reply())
    dest = ChunkRecorder()
    result = wan_client.download(api.url + "/v.mp4", dest, max_bytes=1 << 20, chunk_size=3)
    assert result.outcome == DownloadOutcome.OK
    assert max(dest.sizes) == 3 and dest.getvalue() == MP4


@pytest.mark.parametrize("status", [403, 404, 410])
def test_download_dead_link_is_expired(api, wan_client, status):
    api.script(
        Reply(
            status, b"<Error><Code>AccessDenied</Code></Error>", {"Content-Type": "application/xml"}
        )
    )
    assert wan_client.download(api.url + "/v.mp4", io.BytesIO(), max_bytes=1 << 20).outcome == (
        DownloadOutcome.EXPIRED
    )


@pytest.mark.parametrize(
    "reply",
    [
        html_reply(500),
        html_reply(503),
        Reply(200, MP4, {"Content-Type": "video/mp4"}, action="truncate"),
        Reply(200, MP4, {"Content-Type": "video/mp4"}, action="sleep", delay=0.8),
        Reply(action="close"),
        Reply(action="reset"),
    ],
    ids=["500", "503", "truncated", "read-timeout", "remote-disconnected", "connection-reset"],
)
def test_download_trouble_is_retry_later(api, wan_client, reply):
    api.script(reply)
    result = wan_client.download(api.url + "/v.mp4", io.BytesIO(), max_bytes=1 << 20)
    assert result.outcome == DownloadOutcome.RETRY_LATER


def test_download_connection_refused_is_retry_later_and_hides_the_signature(closed_port):
    url = f"http://127.0.0.1:{closed_port}/v.mp4?X-Amz-Signature=secret-signature"
    wan_client = WanClient(f"http://127.0.0.1:{closed_port}", API_KEY)
    result = wan_client.download(url, io.BytesIO(), max_bytes=100)
    assert result.outcome == DownloadOutcome.RETRY_LATER
    assert "secret-signature" not in result.message


def test_download_too_large_by_content_length_reads_nothing(api, wan_client):
    api.script(video_reply())
    dest = io.BytesIO()
    result = wan_client.download(api.url + "/v.mp4", dest, max_bytes=100)
    assert (result.outcome, dest.getvalue()) == (DownloadOutcome.INVALID, b"")
    assert "too large" in result.message


def test_download_too_large_while_streaming(api, wan_client):
    api.script(video_reply(**{"Content-Length": None}))  # no length: the body ends when it closes
    result = wan_client.download(api.url + "/v.mp4", io.BytesIO(), max_bytes=100, chunk_size=64)
    assert result.outcome == DownloadOutcome.INVALID
    assert "too large" in result.message


@pytest.mark.parametrize("body", [b"\x00\x00\x00\x18moovjunkjunk" * 4, b"", b"\x00\x00"])
def test_download_of_something_not_mp4_is_invalid(api, wan_client, body):
    api.script(Reply(200, body, {"Content-Type": "application/octet-stream"}))
    result = wan_client.download(api.url + "/v.mp4", io.BytesIO(), max_bytes=1 << 20)
    assert (result.outcome, result.message) == (DownloadOutcome.INVALID, "not an MP4 video")


@pytest.mark.parametrize("content_type", ["text/html; charset=utf-8", "application/json"])
def test_download_of_a_non_video_content_type_is_invalid(api, wan_client, content_type):
    api.script(Reply(200, MP4, {"Content-Type": content_type}))
    result = wan_client.download(api.url + "/v.mp4", io.BytesIO(), max_bytes=1 << 20)
    assert result.outcome == DownloadOutcome.INVALID
