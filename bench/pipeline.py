"""The pipeline against the simulator: many generations, two clusters, every API request seen.

Time is compressed: with --time-scale 10 a 60-second task (a typical 480p job) plays in 6 s,
and the studio's poll intervals and the naive client's 1-second loop shrink by the same factor,
so requests per generation are those of real time.
"""

import threading
import time
from concurrent.futures import ThreadPoolExecutor

import requests
from django.core.files.storage import default_storage

from generations.models import ApiToken, Generation, Status
from wansim.testing import make_picture

from .recorder import RecordingProxy
from .stack import SIM_KEY

REAL_TASK_SECONDS = 60.0  # a 480p task on the hosted API
REAL_QUEUE_SECONDS = 5.0
FINISHED = ("TASK_STATUS_SUCCEED", "TASK_STATUS_FAILED")
TERMINAL = (Status.SUCCEEDED, Status.FAILED, Status.CANCELED, Status.NEEDS_ATTENTION)


def run(stack, user, *, count, scale, rate_per_minute, clusters, workers, naive_tasks):
    sim_url = stack.start_simulator(
        queue_seconds=REAL_QUEUE_SECONDS / scale, process_seconds=REAL_TASK_SECONDS / scale
    )
    proxy = RecordingProxy(sim_url).start()
    env = dict(
        WAN_API_BASE_URL=proxy.url,
        WAN_API_RATE_PER_MINUTE=str(rate_per_minute),
        WAN_POLL_MIN_SECONDS=str(3.0 / scale),
        WAN_POLL_MAX_SECONDS=str(30.0 / scale),
        Q_WORKERS=str(workers),
    )
    try:
        for index in range(clusters):
            stack.start_cluster(f"cluster-{index}", **env)
        time.sleep(3)  # let the clusters start before the clock does
        started = time.monotonic()
        first_id = create_all(stack.web_url, user, count)
        picture = Generation.objects.get(pk=first_id).source_image
        mine = Generation.objects.filter(pk__gte=first_id)
        while mine.filter(status__in=TERMINAL).count() < count:
            time.sleep(0.5)
        elapsed = time.monotonic() - started
        succeeded = mine.filter(status=Status.SUCCEEDED)
        stored = sum(1 for name in succeeded.values_list("video", flat=True) if exists(name))
        naive = naive_requests(sim_url, picture.signed_url(), naive_tasks, 1.0 / scale)
    finally:
        for index in range(clusters):
            stack.stop(f"cluster-{index}")
        proxy.stop()
    api_requests = len(proxy.api_requests())
    played = REAL_TASK_SECONDS / scale
    posts = proxy.per_task("submit")
    return {
        "generations": count,
        "clusters x workers": f"{clusters} x {workers}",
        "time scale": f"{scale:g}x (a {REAL_TASK_SECONDS:.0f} s task plays in {played:g} s)",
        "time until all done": f"{elapsed:.1f} s ({count / elapsed * 60:.0f} per minute)",
        "API requests per generation": f"{api_requests / count:.2f} "
        f"(submit {proxy.count('submit') / count:.2f}, poll {proxy.count('poll') / count:.2f}, "
        f"download {proxy.count('video') / count:.2f})",
        "naive client (poll every second)": f"{naive:.2f} per generation ({naive_tasks} tasks)",
        "ours / naive": f"{api_requests / count / naive:.2f}",
        "peak API rate, any 60 s": f"{proxy.peak_per_minute(60.0, ('submit', 'poll')):.0f}/min "
        f"(limit {rate_per_minute}/min)",
        "peak API rate, any 1 s": f"{proxy.peak_per_minute(1.0, ('submit', 'poll')):.0f}/min",
        "POSTs": f"{sum(posts.values())} for {count} generations",
        "lost": count - stored,
    }


def create_all(web_url, user, count, threads=4):
    """Through the JSON API, as a script would: one upload, then its picture by id."""
    headers = {"Authorization": f"Token {ApiToken.issue(user).key}"}
    session = requests.Session()

    def create(index, files=None, **fields):
        data = {"prompt": f"bench pipeline {index}", **fields}
        answer = session.post(
            f"{web_url}/api/generations/", headers=headers, data=data, files=files, timeout=60
        )
        answer.raise_for_status()
        return answer.json()

    first = create(0, files={"image": ("bench.png", make_picture(832, 480), "image/png")})
    picture = first["source_image"]
    with ThreadPoolExecutor(threads) as pool:
        list(pool.map(lambda index: create(index, source_image=picture), range(1, count)))
    return first["id"]


def exists(name):
    return bool(name) and default_storage.exists(name)


def naive_requests(sim_url, image_url, tasks, interval):
    """The vendor SDK's wait loop: submit, poll every `interval` until finished, download."""
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
            sent += 1
            session.get(video["video_url"], timeout=60).raise_for_status()
        with lock:
            counts.append(sent)

    threads = [threading.Thread(target=one, args=(index,)) for index in range(tasks)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return sum(counts) / len(counts)
