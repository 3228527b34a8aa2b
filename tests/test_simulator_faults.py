"""The simulator's poll and video-link faults, each played over real HTTP."""

import json
import time
from email.utils import parsedate_to_datetime

import pytest
import requests

from wansim.faults import parse_markers
from wansim.tasks import SUCCEED

from .support.simulator import body, poll, submit


@pytest.fixture
def sim(sim):
    """The module's simulator, holding a hung request for one second only."""
    sim.configure(hang_seconds=1.0)
    return sim


def start(sim, picture_host, prompt):
    response = submit(sim, body(picture_host, prompt=prompt))
    assert response.status_code == 200, response.text
    return response.json()["task_id"]


def succeeded(sim, picture_host, prompt):
    task_id = start(sim, picture_host, prompt)
    deadline = time.monotonic() + 30
    while sim.tasks.get(task_id).status != SUCCEED:
        assert time.monotonic() < deadline, "the task did not succeed"
        time.sleep(0.05)
    return task_id


def played(sim):
    return [entry["fault"] for entry in requests.get(f"{sim.base_url}/sim/stats").json()["faults"]]


def test_new_markers_parse_with_their_counts():
    faults = parse_markers("[sim:poll502x2] [sim:expired] [sim:notmp4x1] [sim:429x1:retry-date=3]")
    assert [(f.kind, f.times) for f in faults] == [
        ("poll502", 2),
        ("expired", None),
        ("notmp4", 1),
        ("429", 1),
    ]
    assert faults[3].retry_date == 3


def test_poll502_answers_a_gateway_html_page_the_first_n_times(sim, picture_host):
    task_id = start(sim, picture_host, "waves [sim:poll502x2]")

    answers = [poll(sim, task_id) for _ in range(3)]

    assert [answer.status_code for answer in answers] == [502, 502, 200]
    assert answers[0].headers["Content-Type"] == "text/html"
    assert b"Bad Gateway" in answers[0].content
    assert played(sim) == ["poll502", "poll502"]


def test_pollcut_answers_json_cut_in_half(sim, picture_host):
    task_id = start(sim, picture_host, "waves [sim:pollcutx1]")

    cut, whole = poll(sim, task_id), poll(sim, task_id)

    assert cut.status_code == 200
    assert cut.headers["Content-Type"] == "application/json"
    with pytest.raises(ValueError):
        json.loads(cut.content)
    assert whole.json()["task"]["task_id"] == task_id


def test_poll404_says_task_not_found_for_a_task_that_exists(sim, picture_host):
    task_id = start(sim, picture_host, "waves [sim:poll404x1]")

    first, second = poll(sim, task_id), poll(sim, task_id)

    assert (first.status_code, first.json()["reason"]) == (404, "TASK_NOT_FOUND")
    assert second.status_code == 200


def test_pollhang_holds_the_answer_then_closes(sim, picture_host):
    task_id = start(sim, picture_host, "waves [sim:pollhangx1]")
    began = time.monotonic()

    with pytest.raises(requests.ConnectionError):
        poll(sim, task_id)

    assert time.monotonic() - began >= 0.9  # hang_seconds
    assert poll(sim, task_id).status_code == 200


def test_oddstatus_sends_a_status_the_contract_does_not_list(sim, picture_host):
    task_id = succeeded(sim, picture_host, "waves [sim:oddstatusx1]")

    statuses = [poll(sim, task_id).json()["task"]["status"] for _ in range(2)]

    assert statuses == ["TASK_STATUS_RUNNING", SUCCEED]


def test_flip_sends_numbers_as_strings_and_strings_as_numbers(sim, picture_host):
    task_id = start(sim, picture_host, "waves [sim:flip]")
    pending = poll(sim, task_id).json()
    assert isinstance(pending["task"]["eta"], str) and pending["task"]["eta"].isdigit()
    assert isinstance(pending["task"]["progress_percent"], str)
    while sim.tasks.get(task_id).status != SUCCEED:
        time.sleep(0.05)

    done = poll(sim, task_id).json()

    assert done["videos"][0]["video_url_ttl"] == 3600
    assert isinstance(done["extra"]["seed"], int)
    assert isinstance(done["extra"]["debug_info"]["submit_time_ms"], int)


def test_novideo_reports_success_with_an_empty_list_first(sim, picture_host):
    task_id = succeeded(sim, picture_host, "waves [sim:novideox1]")

    first, second = poll(sim, task_id).json(), poll(sim, task_id).json()

    assert (first["task"]["status"], first["videos"]) == (SUCCEED, [])
    assert len(second["videos"]) == 1


def test_expired_hands_out_a_dead_link_then_a_fresh_one(sim, picture_host):
    task_id = succeeded(sim, picture_host, "waves [sim:expiredx1]")

    dead = poll(sim, task_id).json()["videos"][0]["video_url"]
    fresh = poll(sim, task_id).json()["videos"][0]["video_url"]

    assert requests.get(dead).status_code == 403
    assert requests.get(fresh).status_code == 200


def test_expired_without_a_count_never_gives_a_working_link(sim, picture_host):
    task_id = succeeded(sim, picture_host, "waves [sim:expired]")
    for _ in range(3):
        link = poll(sim, task_id).json()["videos"][0]["video_url"]
        assert requests.get(link).status_code == 403


def video_link(sim, task_id):
    return poll(sim, task_id).json()["videos"][0]["video_url"]


def test_cutvideo_announces_the_whole_length_and_sends_half(sim, picture_host):
    task_id = succeeded(sim, picture_host, "waves [sim:cutvideox1]")
    link = video_link(sim, task_id)

    with pytest.raises(requests.exceptions.ChunkedEncodingError):
        requests.get(link)
    whole = requests.get(link)

    assert int(whole.headers["Content-Length"]) == len(whole.content)
    assert whole.content[4:8] == b"ftyp"


def test_notmp4_serves_html_labelled_as_video(sim, picture_host):
    task_id = succeeded(sim, picture_host, "waves [sim:notmp4x1]")
    link = video_link(sim, task_id)

    fake, real = requests.get(link), requests.get(link)

    assert fake.headers["Content-Type"] == "video/mp4"
    assert fake.content.startswith(b"<!doctype html>")
    assert real.content[4:8] == b"ftyp"


def test_slowvideo_trickles_the_whole_file(sim, picture_host):
    task_id = succeeded(sim, picture_host, "waves [sim:slowvideox1]")
    began = time.monotonic()

    response = requests.get(video_link(sim, task_id))

    assert time.monotonic() - began >= 0.9  # hang_seconds
    assert len(response.content) == int(response.headers["Content-Length"])


def test_retry_date_sends_retry_after_as_an_http_date(sim, picture_host):
    response = submit(sim, body(picture_host, prompt="waves [sim:429x1:retry-date=5]"))

    assert response.status_code == 429
    when = parsedate_to_datetime(response.headers["Retry-After"])
    assert 3 <= when.timestamp() - time.time() <= 6


def test_stats_count_polls_and_downloads_per_task(sim, picture_host):
    task_id = succeeded(sim, picture_host, "waves")
    requests.get(video_link(sim, task_id))
    poll(sim, task_id)

    stats = requests.get(f"{sim.base_url}/sim/stats").json()

    assert stats["task_polls"] == {task_id: 2}
    assert stats["task_downloads"] == {task_id: 1}


def test_poll_faults_cannot_be_set_as_a_submit_fault(sim):
    response = requests.post(f"{sim.base_url}/sim/config", json={"submit_fault": "poll502"})
    assert response.status_code == 400


def test_slowaccept_creates_the_task_and_answers_late(sim, picture_host):
    began = time.monotonic()

    response = submit(sim, body(picture_host, prompt="waves [sim:slowaccept]"))

    assert time.monotonic() - began >= 0.9  # hang_seconds
    assert response.status_code == 200
    assert sim.tasks.get(response.json()["task_id"]) is not None
