"""A small wrk: threads with http.client on loopback, fixed duration, latencies kept.

Each request is the next one a page's supplier hands out (a path, a person's headers), so the
load is many people asking different URLs, never one URL over and over.
"""

import heapq
import http.client
import statistics
import threading
import time
from collections import Counter
from dataclasses import dataclass, field

SLOWEST = 3  # answers kept, with their URLs, to show where the time goes


@dataclass(frozen=True)
class Request:
    path: str
    headers: dict  # the person's session cookie or API token, HX-Request for partials
    person: object = None


@dataclass
class LoadResult:
    latencies: list = field(default_factory=list)  # seconds, one per good answer
    errors: Counter = field(default_factory=Counter)  # HTTP status (0: no answer) -> count
    seconds: float = 0.0
    slowest: list = field(default_factory=list)  # (seconds, path) of the slowest few answers

    def add(self, other):
        self.latencies += other.latencies
        self.errors += other.errors
        self.seconds += other.seconds
        self.slowest = heapq.nlargest(SLOWEST, self.slowest + other.slowest)

    def record(self, seconds, path):
        self.latencies.append(seconds)
        if len(self.slowest) < SLOWEST:
            heapq.heappush(self.slowest, (seconds, path))
        elif seconds > self.slowest[0][0]:
            heapq.heapreplace(self.slowest, (seconds, path))

    @property
    def per_second(self):
        return len(self.latencies) / self.seconds if self.seconds else 0.0

    def percentile(self, fraction):
        if not self.latencies:
            return float("nan")
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]

    @property
    def median(self):
        return statistics.median(self.latencies) if self.latencies else float("nan")


def hammer(port, next_request, seconds, concurrency, on_answer=None):
    """GET next_request() from `concurrency` threads for `seconds`; a 2xx (htmx's 286
    included) or a 304 (a conditional request's "nothing new") counts, and
    on_answer(request, body) then sees what came back."""
    stop_at = time.monotonic() + seconds
    results = [LoadResult() for _ in range(concurrency)]

    def worker(result):
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        while time.monotonic() < stop_at:
            request = next_request()
            started = time.perf_counter()
            try:
                connection.request("GET", request.path, headers=request.headers)
                answer = connection.getresponse()
                body = answer.read()
            except (OSError, http.client.HTTPException):
                result.errors[0] += 1
                connection.close()
                continue
            if 200 <= answer.status < 300 or answer.status == 304:
                result.record(time.perf_counter() - started, request.path)
                if on_answer:
                    on_answer(request, body)
            else:
                result.errors[answer.status] += 1
            if answer.getheader("Connection", "").lower() == "close":
                connection.close()  # gunicorn's sync workers close after each answer
        connection.close()

    threads = [threading.Thread(target=worker, args=(result,)) for result in results]
    began = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    total = LoadResult()
    for result in results:
        total.add(result)
    total.seconds = time.monotonic() - began
    return total
