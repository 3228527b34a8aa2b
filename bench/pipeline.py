"""The pipeline against the simulator at the real rate limit: a team's generations, every API
request seen, with webhooks on and off, beside the naive client.

Time is compressed: with --time-scale 10 a 60-second task (a typical 480p job) plays in 6 s,
and the API's rate limit, the studio's expected task time and poll intervals, and the naive
client's 1-second loop are scaled by the same factor, so requests per generation and
generations per minute are those of real time. Latencies are measured on the wall clock: the
parts that do not scale (the dispatcher's look at due rows, the queue, the download) count in
full.
"""

import statistics
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import requests
from django.contrib.auth import get_user_model
from django.core.files.storage import default_storage

from generations.models import ApiToken, Generation, Status
from generations.roles import MEMBER, assign_role
from wansim.testing import make_picture

from .recorder import RecordingProxy
from .stack import SIM_KEY

# The hosted service's 480p task (the contract's section 5): about a minute in all.
REAL_QUEUE_SECONDS = 3.0
REAL_PROCESS_SECONDS = 57.0
REAL_TASK_SECONDS = REAL_QUEUE_SECONDS + REAL_PROCESS_SECONDS
PEOPLE = 4
FINISHED = ("TASK_STATUS_SUCCEED", "TASK_STATUS_FAILED")
TERMINAL = (Status.SUCCEEDED, Status.FAILED, Status.CANCELED, Status.NEEDS_ATTENTION)
MODES = {"on": "webhooks on", "off": "webhooks off"}


def run(stack, user, *, count, scale, rate_per_minute, clusters, workers, naive_tasks, webhooks):
    """`rate_per_minute` is the real API's limit; `webhooks` is "on", "off" or "both"."""
    sim_url = stack.start_simulator(
        queue_seconds=REAL_QUEUE_SECONDS / scale, process_seconds=REAL_PROCESS_SECONDS / scale
    )
    people = bench_people(PEOPLE)
    modes = ["on", "off"] if webhooks == "both" else [webhooks]
    columns = {}
    for mode in modes:
        columns[MODES[mode]] = run_mode(
            stack,
            sim_url,
            people,
            webhooks=mode == "on",
            count=count,
            scale=scale,
            rate_per_minute=rate_per_minute,
            clusters=clusters,
            workers=workers,
        )
    image_url = Generation.objects.order_by("-pk").first().source_image.signed_url()
    columns["naive client"] = naive_column(sim_url, image_url, naive_tasks, scale, rate_per_minute)
    return side_by_side(
        columns,
        title=f"{count} generations of {PEOPLE} people, 480p tasks of ~{REAL_TASK_SECONDS:.0f} s "
        f"(±15 %), API limit {rate_per_minute}/min, {clusters} clusters x {workers} workers, "
        f"time {scale:g}x compressed",
    )


def run_mode(stack, sim_url, people, *, webhooks, count, scale, rate_per_minute, **cluster):
    requests.post(f"{sim_url}/sim/reset", timeout=10).raise_for_status()
    proxy = RecordingProxy(sim_url).start()
    env = dict(
        WAN_API_BASE_URL=proxy.url,
        WAN_API_RATE_PER_MINUTE=str(round(rate_per_minute * scale)),
        WAN_TASK_SECONDS=str(REAL_TASK_SECONDS / scale),
        WAN_POLL_MIN_SECONDS=str(3.0 / scale),
        WAN_POLL_MAX_SECONDS=str(30.0 / scale),
        WAN_WEBHOOKS="1" if webhooks else "0",
        Q_WORKERS=str(cluster["workers"]),
    )
    names = [
        f"cluster-{'on' if webhooks else 'off'}-{index}" for index in range(cluster["clusters"])
    ]
    try:
        for name in names:
            stack.start_cluster(name, **env)
        time.sleep(3)  # let the clusters start before the clock does
        ids = create_all(stack.web_url, people, count)
        mine = Generation.objects.filter(pk__in=ids)
        while mine.filter(status__in=TERMINAL).count() < count:
            time.sleep(0.5)
        done_at_api = requests.get(f"{sim_url}/sim/stats", timeout=30).json()["finished_at"]
    finally:
        for name in names:
            stack.stop(name)
        proxy.stop()
    return measure(proxy, mine, done_at_api, count=count, scale=scale, rate=rate_per_minute)


def measure(proxy, generations, done_at_api, *, count, scale, rate):
    submits, polls = proxy.count("submit"), proxy.count("poll")
    per_generation = (submits + polls) / count
    first_created = min(generations.values_list("created_at", flat=True))
    finishes = sorted(generations.values_list("finished_at", flat=True))
    real_minutes = (finishes[-1] - first_created).total_seconds() * scale / 60
    per_minute = count / real_minutes
    # Once the first video is out, how fast the rest follow: the pipe is full.
    flowing = (count - 1) / ((finishes[-1] - finishes[0]).total_seconds() * scale / 60)
    cap = rate / per_generation
    succeeded = generations.filter(status=Status.SUCCEEDED)
    latencies = sorted(
        finished_at.timestamp() - done_at_api[task_id]
        for task_id, finished_at in succeeded.values_list("api_task_id", "finished_at")
        if task_id in done_at_api
    )
    # The busiest real minute, counted as the API counts: requests that arrived in it.
    busiest = round(proxy.peak_per_minute(60.0 / scale, ("submit", "poll")) / scale)
    assert busiest <= rate, f"the API limit was exceeded: {busiest} requests in one minute"
    stored = sum(1 for name in succeeded.values_list("video", flat=True) if exists(name))
    return {
        "API requests per generation": f"{per_generation:.2f}",
        "  submits / polls": f"{submits / count:.2f} / {polls / count:.2f}",
        "  downloads (apart)": f"{proxy.count('video') / count:.2f}",
        "cap: limit / requests per gen.": f"{cap:.1f}/min",
        "finished per minute (real)": f"{flowing:.1f}/min",
        "  of the cap": f"{flowing / cap:.0%}",
        "  first request to last video": f"{per_minute:.1f}/min ({per_minute / cap:.0%})",
        "done at API → playable p50": f"{percentile(latencies, 50):.2f} s",
        "done at API → playable p95": f"{percentile(latencies, 95):.2f} s",
        "busiest real minute (limit)": f"{busiest} ({rate}) ok",
        "POSTs / lost videos": f"{sum(proxy.per_task('submit').values())} / {count - stored}",
    }


def naive_column(sim_url, image_url, tasks, scale, rate):
    per_generation = naive_requests(sim_url, image_url, tasks, 1.0 / scale)
    return {
        "API requests per generation": f"{per_generation:.2f}",
        "cap: limit / requests per gen.": f"{rate / per_generation:.1f}/min",
    }


def side_by_side(columns, title):
    """{row: "value | value | value"} for bench's pairs(), one column per client."""
    names = list(columns)
    rows = list(dict.fromkeys(row for column in columns.values() for row in column))
    width = max(len(name) for name in names) + 2
    table = {"": title, " ": "".join(name.rjust(width) for name in names)}
    for row in rows:
        table[row] = "".join(columns[name].get(row, "-").rjust(width) for name in names)
    return table


def percentile(values, share):
    if not values:
        return float("nan")
    if len(values) == 1:
        return values[0]
    return statistics.quantiles(values, n=100, method="inclusive")[share - 1]


def bench_people(count):
    """count members of the team, without budgets, who make the bench's generations."""
    people = []
    for index in range(count):
        person, created = get_user_model().objects.get_or_create(username=f"pipeline-{index}")
        if created:
            assign_role(person, MEMBER)
        people.append(person)
    return people


def create_all(web_url, people, count):
    """Through the JSON API, as their scripts would: each person uploads a picture, then sends
    their share of the generations, all four at once. Returns the new ids."""
    session = requests.Session()

    def create(headers, index, files=None, **fields):
        data = {"prompt": f"bench pipeline {index}", **fields}
        answer = session.post(
            f"{web_url}/api/generations/", headers=headers, data=data, files=files, timeout=60
        )
        answer.raise_for_status()
        return answer.json()

    def one_person(person_index):
        headers = {"Authorization": f"Token {ApiToken.issue(people[person_index]).key}"}
        mine = range(person_index, count, len(people))
        picture = make_picture(832, 480)
        first = create(headers, mine[0], files={"image": ("bench.png", picture, "image/png")})
        rest = [create(headers, index, source_image=first["source_image"]) for index in mine[1:]]
        return [first["id"], *(row["id"] for row in rest)]

    with ThreadPoolExecutor(len(people)) as pool:
        return [pk for ids in pool.map(one_person, range(len(people))) for pk in ids]


def exists(name):
    return bool(name) and default_storage.exists(name)


def naive_requests(sim_url, image_url, tasks, interval):
    """The vendor SDK's wait loop: submit, poll every `interval` until finished, download.
    Downloads are counted apart, as for the studio."""
    counts, lock = [], threading.Lock()
    auth = {"Authorization": f"Bearer {SIM_KEY}"}

    def one(index):
        session, sent = requests.Session(), 1
        body = {"prompt": f"naive client {index}", "image_url": image_url}
        task_id = session.post(
            f"{sim_url}/v3/async/wan-i2v", json=body, headers=auth, timeout=30
        ).json()["task_id"]
        while True:
            sent += 1
            answer = session.get(
                f"{sim_url}/v3/async/task-result",
                params={"task_id": task_id},
                headers=auth,
                timeout=30,
            ).json()
            if answer["task"]["status"] in FINISHED:
                break
            time.sleep(interval)
        for video in answer["videos"]:
            session.get(video["video_url"], timeout=60).raise_for_status()
        with lock:
            counts.append(sent)

    threads = [threading.Thread(target=one, args=(index,)) for index in range(tasks)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return sum(counts) / len(counts)
