"""Failure reasons explained: every code of the API contract and every reason the pipeline
writes reads as a plain sentence saying what happened and what to do, raw text kept behind."""

import http.client
import io
import re
from datetime import timedelta
from pathlib import Path

import pytest
import requests
import urllib3
from django.urls import reverse
from django.utils import timezone
from django.utils.html import escape

from generations import failures, pipeline, wan_api
from generations.models import Status
from wansim.faults import DEFAULT_FAIL_REASON

from .support.api_stand_ins import ScriptedClient

CONTRACT = Path(__file__).resolve().parents[2] / "shared" / "API-CONTRACT.md"
REFUSED = wan_api.SubmitOutcome.REJECTED


def contract_error_table():
    """(HTTP column, reason column) of each row of the contract's "Errors" table."""
    if not CONTRACT.exists():
        return []
    section = CONTRACT.read_text().split("## 3. Errors", 1)[-1].split("\n## ", 1)[0]
    cells = [line.strip().strip("|").split("|") for line in section.splitlines()]
    rows = [row for row in cells if len(row) == 3 and not set(row[0].strip()) <= set("-")]
    return [
        (http_column, reason) for http_column, reason, _ in rows[1:]
    ]  # the first row is the header


def contract_codes():
    codes = {}
    for _, reason in contract_error_table():
        codes.update(dict.fromkeys(re.findall(r"\b[A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+\b", reason)))
    return list(codes)


def contract_statuses():
    statuses = {}
    for http_column, _ in contract_error_table():
        found = re.findall(r"\b\d{3}\b", http_column)
        statuses.update(dict.fromkeys(int(status) for status in found))
    return list(statuses)


def is_specific(explanation):
    return explanation.summary != failures.UNKNOWN.summary and explanation.action


# --- the contract ------------------------------------------------------------------------


@pytest.mark.skipif(not CONTRACT.exists(), reason="../shared/API-CONTRACT.md is not here")
def test_the_contract_table_is_read():
    assert {"BILLING_BALANCE_NOT_ENOUGH", "TASK_NOT_FOUND", "GET_RESULT_FAILED"} <= set(
        contract_codes()
    )
    assert {400, 401, 404, 429, 504} <= set(contract_statuses())


@pytest.mark.parametrize("code", contract_codes())
def test_every_error_code_of_the_contract_has_its_own_sentence(code):
    answer = wan_api.SubmitResult(REFUSED, reason=code, message="Words of the API", http_status=400)

    explanation = failures.explain(pipeline.api_error_text(answer))

    assert code in failures.API_CODES
    assert explanation.summary == failures.API_CODES[code].summary


@pytest.mark.parametrize("status", contract_statuses())
def test_every_http_status_of_the_contract_has_a_sentence(status):
    answer = wan_api.SubmitResult(REFUSED, http_status=status)  # an answer without a code

    assert is_specific(failures.explain(pipeline.api_error_text(answer)))


def test_out_of_credit_says_who_acts():
    answer = wan_api.SubmitResult(REFUSED, reason="BILLING_BALANCE_NOT_ENOUGH", message="low")

    assert str(failures.explain(pipeline.api_error_text(answer))) == (
        "The API account is out of credit. An admin needs to top it up, then resume submissions."
    )


def test_a_proxy_code_in_lower_case_is_recognised():
    explanation = failures.explain("rate_limit_exceeded: slow down")

    assert explanation.summary == failures.API_CODES["RATE_LIMIT_EXCEEDED"].summary


def test_an_unnamed_picture_error_of_the_api_is_a_picture_problem():
    assert failures.explain("IMAGE_SIZE_TOO_LARGE: 9000x9000").summary == (
        failures.PICTURE_UNUSABLE.summary
    )


@pytest.mark.parametrize("text", ["", "   ", "Something nobody planned for", "pose refused"])
def test_unknown_text_gets_the_generic_sentence_never_an_empty_one(text):
    explanation = failures.explain(text)

    assert explanation.summary == failures.UNKNOWN.summary
    assert explanation.action
    assert explanation.detail == text.strip()


def test_the_raw_text_is_the_detail():
    assert failures.explain("ILLEGAL_PROMPT: no\n").detail == "ILLEGAL_PROMPT: no"


# --- what the pipeline writes -----------------------------------------------------------


@pytest.fixture(autouse=True)
def no_wait_for_the_rate_limit(monkeypatch):
    monkeypatch.setattr(pipeline, "reserve_api_request", lambda max_wait: True)


def explained(generation):
    generation.refresh_from_db()
    assert generation.failure_reason
    return failures.explain(generation.failure_reason)


def answer(status, body=b"", content_type="application/json", headers=None):
    response = requests.Response()
    response.status_code = status
    response.raw = io.BytesIO(body)
    response.headers.update({"Content-Type": content_type, **(headers or {})})
    return response


def error_answer(status, reason, message="Words of the API"):
    body = f'{{"code": {status}, "reason": "{reason}", "message": "{message}"}}'.encode()
    return answer(status, body)


def wan_client(session=None):
    return wan_api.WanClient("https://api.example.com", "sk-test", session=session)


class DroppedSession:
    """The request went out; the server closed the connection without an answer."""

    def post(self, *args, **kwargs):
        closed = http.client.RemoteDisconnected("Remote end closed connection without response")
        raise requests.ConnectionError(urllib3.exceptions.ProtocolError("Aborted.", closed))

    get = post


def test_invalid_parameters(make_generation):
    generation = make_generation(steps=99)

    pipeline.submit_generation(generation.pk)

    assert explained(generation).summary == failures.API_CODES["INVALID_PARAMS"].summary


def test_a_refusal_of_the_prompt(make_generation):
    generation = make_generation(status=Status.SUBMITTING)

    refusal = wan_client().read_submit_answer(error_answer(400, "ILLEGAL_PROMPT"))
    pipeline.apply_submit_result(generation, refusal)

    assert generation.status == Status.FAILED
    assert explained(generation).summary == failures.API_CODES["ILLEGAL_PROMPT"].summary


def test_held_for_credit(make_generation):
    generation = make_generation(status=Status.SUBMITTING)

    refusal = wan_client().read_submit_answer(error_answer(400, "BILLING_BALANCE_NOT_ENOUGH"))
    pipeline.apply_submit_result(generation, refusal)

    assert generation.status == Status.QUEUED
    explanation = explained(generation)
    assert "out of credit" in explanation.summary
    assert "resume submissions" in explanation.action


def test_refused_for_now_tells_that_the_studio_retries(make_generation):
    generation = make_generation(status=Status.SUBMITTING, submit_attempts=1)

    busy = wan_client().read_submit_answer(error_answer(429, "RATE_LIMIT_EXCEEDED"))
    pipeline.apply_submit_result(generation, busy)

    assert generation.status == Status.QUEUED
    assert "tries again by itself" in explained(generation).summary


def test_refused_every_time(make_generation, settings):
    settings.WAN_SUBMIT_MAX_TRIES = 2
    generation = make_generation(status=Status.SUBMITTING, submit_attempts=2)

    busy = wan_client().read_submit_answer(error_answer(500, "CREATE_TASK_FAILED"))
    pipeline.apply_submit_result(generation, busy)

    assert explained(generation).summary == "The API turned the request away 2 times in a row."


def test_never_reached(make_generation, settings):
    settings.WAN_SUBMIT_MAX_TRIES = 2
    generation = make_generation(status=Status.SUBMITTING, submit_attempts=2)
    unreachable = wan_api.SubmitResult(
        wan_api.SubmitOutcome.RETRY_LATER,
        reason="CONNECTION_FAILED",
        message=wan_api.describe(requests.ConnectTimeout("connect timed out")),
    )

    pipeline.apply_submit_result(generation, unreachable)

    explanation = explained(generation)
    assert explanation.summary == "The studio could not reach the API in 2 tries."
    assert "WAN_API_BASE_URL" in explanation.action


def test_no_answer_after_sending(make_generation):
    generation = make_generation(status=Status.SUBMITTING)

    lost = wan_client(DroppedSession()).submit(pipeline.submit_params(generation))
    pipeline.apply_submit_result(generation, lost)

    assert generation.status == Status.NEEDS_ATTENTION
    assert "RemoteDisconnected" in generation.failure_reason
    explanation = explained(generation)
    assert explanation.summary.startswith("The connection broke after the request was sent")
    assert "Submit again" in explanation.action


def test_a_gateway_page_after_sending(make_generation):
    generation = make_generation(status=Status.SUBMITTING)

    page = answer(502, b"<html>Bad Gateway</html>", content_type="text/html")
    pipeline.apply_submit_result(generation, wan_client().read_submit_answer(page))

    assert explained(generation).summary.startswith("A gateway in front of the API")


def test_an_answer_without_a_task_id(make_generation):
    generation = make_generation(status=Status.SUBMITTING)

    pipeline.apply_submit_result(generation, wan_client().read_submit_answer(answer(200, b"{}")))

    assert explained(generation).summary.startswith("The API answered without a task id")


def test_an_interrupted_submit(make_generation):
    long_ago = timezone.now() - timedelta(hours=1)
    generation = make_generation(status=Status.SUBMITTING, status_changed_at=long_ago)

    pipeline.settle_interrupted_submit(generation)

    assert explained(generation).summary.startswith("The studio stopped while sending")


def test_a_task_the_api_no_longer_knows(make_generation, pipeline_api):
    generation = make_generation(
        status=Status.SUBMITTED, poll_failures=pipeline.MAX_POLL_TROUBLES["not_found"] - 1
    )
    not_found = wan_client().read_poll_answer(error_answer(404, "TASK_NOT_FOUND"), "t")
    pipeline_api(ScriptedClient(poll=[not_found]))

    pipeline.poll_generation(generation.pk)

    assert explained(generation).summary == failures.API_CODES["TASK_NOT_FOUND"].summary


def test_an_api_that_stopped_answering(make_generation, pipeline_api):
    generation = make_generation(
        status=Status.SUBMITTED, poll_failures=pipeline.MAX_CONSECUTIVE_POLL_FAILURES - 1
    )
    silence = wan_client(DroppedSession()).task_result("t")
    pipeline_api(ScriptedClient(poll=[silence]))

    pipeline.poll_generation(generation.pk)

    explanation = explained(generation)
    assert "NO_ANSWER" in explanation.detail
    assert explanation.summary.startswith("The API stopped answering")


def test_a_key_refused_while_polling(make_generation, pipeline_api):
    generation = make_generation(
        status=Status.SUBMITTED, poll_failures=pipeline.MAX_CONSECUTIVE_POLL_FAILURES - 1
    )
    refused = wan_client().read_poll_answer(error_answer(401, "INVALID_API_KEY"), "t")
    pipeline_api(ScriptedClient(poll=[refused]))

    pipeline.poll_generation(generation.pk)

    assert "WAN_API_KEY" in explained(generation).action


def finished_task(status, reason="", videos=()):
    body = {"task": {"task_id": "t", "status": status, "reason": reason}, "videos": list(videos)}
    return wan_api.PollResult(wan_api.PollOutcome.OK, task=wan_api.parse_task_result(body))


def test_a_task_failed_without_a_reason(make_generation):
    generation = make_generation(status=Status.SUBMITTED)

    pipeline.apply_task_result(generation, finished_task("TASK_STATUS_FAILED").task)

    assert explained(generation).summary.endswith("gave no reason.")


def test_a_task_the_safety_checker_refused(make_generation):
    generation = make_generation(status=Status.SUBMITTED)

    refused = finished_task("TASK_STATUS_FAILED", reason=DEFAULT_FAIL_REASON)
    pipeline.apply_task_result(generation, refused.task)

    assert explained(generation).summary == failures.SAFETY_REFUSAL.summary


def test_success_without_a_video(make_generation):
    generation = make_generation(
        status=Status.SUBMITTED, poll_failures=pipeline.MAX_POLL_TROUBLES["no_video"] - 1
    )

    pipeline.apply_task_result(generation, finished_task("TASK_STATUS_SUCCEED").task)

    assert explained(generation).summary == "The API said the video was made but sent none."


@pytest.fixture
def downloading(make_generation):
    """A download one trouble short of giving up."""
    return make_generation(
        status=Status.DOWNLOADING, poll_failures=pipeline.MAX_POLL_TROUBLES["expired"] - 1
    )


def test_an_expired_link(downloading):
    expired = wan_api.judge_video_answer(answer(403, b"AccessDenied"), max_bytes=10**6)

    pipeline.retry_download_later(downloading, expired)

    assert "link expired" in explained(downloading).summary


@pytest.mark.parametrize(
    "served, headers, meaning",
    [
        (b"<!doctype html><p>Sorry</p>", {"Content-Type": "video/mp4"}, "not a video"),
        (b"<html></html>", {"Content-Type": "text/html"}, "not a video"),
        (b"", {"Content-Type": "video/mp4", "Content-Length": "99999999"}, "larger than"),
    ],
)
def test_a_download_that_is_no_usable_video(downloading, served, headers, meaning):
    response = answer(200, served, content_type=headers.pop("Content-Type"), headers=headers)
    result = wan_api.judge_video_answer(response, max_bytes=10**6) or wan_api.stream_video(
        response, io.BytesIO(), 10**6, 1 << 16
    )

    pipeline.retry_download_later(downloading, result)

    assert meaning in explained(downloading).summary


@pytest.mark.parametrize("link", ["ftp://files.example.com/v.mp4", "http://127.0.0.1:9/v.mp4"])
def test_a_video_link_the_studio_does_not_follow(downloading, link):
    refused = wan_client().download(link, io.BytesIO(), max_bytes=10**6)

    pipeline.retry_download_later(downloading, refused)

    assert "does not download from" in explained(downloading).summary


def test_a_file_that_does_not_play(make_generation, tmp_path):
    path = tmp_path / "broken.mp4"
    path.write_bytes(b"\x00\x00\x00\x18ftypisom" + b"\x00" * 64)
    generation = make_generation(status=Status.DOWNLOADING)

    pipeline.store_video(generation, path, wan_api.DownloadResult(wan_api.DownloadOutcome.OK))

    assert explained(generation).summary == "The file the API sent is not a playable video."


# --- where people read them -------------------------------------------------------------

RAW = "NO_ANSWER: no answer after sending: ProtocolError: RemoteDisconnected(<closed>)"


def failed(generation, why=f"The API kept failing to answer: {RAW}"):
    generation.mark_failed(why)
    return failures.explain(why)


def test_the_detail_page_shows_the_sentence_and_the_raw_text_inside_details(
    member_client, make_generation
):
    generation = make_generation()
    explanation = failed(generation)

    html = member_client.get(generation.get_absolute_url()).content.decode()

    assert f"<strong>{escape(explanation.summary)}</strong> {escape(explanation.action)}" in html
    details = re.search(r"<details[^>]*>\s*<summary>Details</summary>(.*?)</details>", html, re.S)
    assert details and escape(explanation.detail) in details[1]
    assert "RemoteDisconnected" in explanation.detail


def test_the_live_queue_shows_the_sentence(member_client, make_generation):
    generation = make_generation()
    explanation = failed(generation)

    html = member_client.get(reverse("studio:queue"), HTTP_HX_REQUEST="true").content.decode()

    assert escape(explanation.summary) in html
    assert (
        f'<summary>Details</summary><p class="failure-detail">{escape(explanation.detail)}' in html
    )


def test_a_canceled_generation_shows_no_old_reason(member_client, make_generation):
    generation = make_generation(
        status=Status.CANCELED, failure_reason="Held: the API account is out of credit"
    )

    html = member_client.get(generation.get_absolute_url()).content.decode()

    assert "out of credit" not in html
