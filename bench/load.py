"""A small wrk: threads with http.client on loopback, fixed duration, latencies kept."""

import http.client
import statistics
import threading
import time
from dataclasses import dataclass, field


@dataclass
class LoadResult:
    latencies: list = field(default_factory=list)  # seconds, one per good answer
    errors: int = 0
    seconds: float = 0.0

    def add(self, other):
        self.latencies += other.latencies
        self.errors += other.errors
        self.seconds += other.seconds

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


def hammer(port, path, headers, seconds, concurrency):
    """GET path from `concurrency` threads for `seconds`; a 2xx (or htmx's 286) counts."""
    stop_at = time.monotonic() + seconds
    results = [LoadResult() for _ in range(concurrency)]

    def worker(result):
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        while time.monotonic() < stop_at:
            started = time.perf_counter()
            try:
                connection.request("GET", path, headers=headers)
                answer = connection.getresponse()
                answer.read()
            except (OSError, http.client.HTTPException):
                result.errors += 1
                connection.close()
                continue
            if 200 <= answer.status < 300:
                result.latencies.append(time.perf_counter() - started)
            else:
                result.errors += 1
            if answer.getheader("Connection", "").lower() == "close":
                connection.close()  # gunicorn's sync workers close after each answer
        connection.close()

    threads = [threading.Thread(target=worker, args=(result,)) for result in results]
    began = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    total = LoadResult(seconds=time.monotonic() - began)
    for result in results:
        total.latencies += result.latencies
        total.errors += result.errors
    return total
