"""A recording proxy in front of the API (or its simulator): what was asked, for which task, when.

Clusters talk to the proxy as if it were the API; the video links the API hands out then point
at the proxy too, so every submit, poll and download is seen. Loopback only.
"""

import http.client
import threading
import time
from collections import Counter, defaultdict
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "proxy-connection", "upgrade"}


@dataclass(frozen=True)
class Request:
    at: float  # time.monotonic() when it arrived
    kind: str  # submit, poll, video or control
    task_id: str
    status: int


class RecordingProxy:
    def __init__(self, upstream):
        self.upstream = urlsplit(upstream)
        self.requests = []
        self._lock = threading.Lock()
        handler = type("Handler", (_Handler,), {"proxy": self})
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self):
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def start(self):
        self._thread.start()
        return self

    def stop(self):
        self._server.shutdown()
        self._server.server_close()

    def record(self, request):
        with self._lock:
            self.requests.append(request)

    def api_requests(self):
        """Every request that counts against the API: submits, polls and video downloads."""
        with self._lock:
            return [request for request in self.requests if request.kind != "control"]

    def count(self, kind):
        return sum(1 for request in self.api_requests() if request.kind == kind)

    def per_task(self, kind):
        return Counter(request.task_id for request in self.api_requests() if request.kind == kind)

    def times_by_task(self, kind):
        times = defaultdict(list)
        for request in self.api_requests():
            if request.kind == kind:
                times[request.task_id].append(request.at)
        return {task_id: sorted(moments) for task_id, moments in times.items()}

    def peak_per_minute(self, window=60.0, kinds=("submit", "poll", "video")):
        """The most requests of these kinds in any sliding window, scaled to a minute."""
        moments = sorted(request.at for request in self.api_requests() if request.kind in kinds)
        peak, first = 0, 0
        for last, moment in enumerate(moments):
            while moments[first] < moment - window:
                first += 1
            peak = max(peak, last - first + 1)
        return peak * 60.0 / window


def classify(path):
    url = urlsplit(path)
    if url.path.endswith("/v3/async/wan-i2v"):
        return "submit", ""
    if url.path.endswith("/v3/async/task-result"):
        return "poll", (parse_qs(url.query).get("task_id") or [""])[0]
    if url.path.endswith(".mp4"):
        return "video", url.path.rsplit("/", 1)[-1].removesuffix(".mp4")
    return "control", ""


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    proxy: RecordingProxy

    def do_GET(self):
        self.forward("GET")

    def do_POST(self):
        self.forward("POST")

    def forward(self, method):
        arrived = time.monotonic()
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else None
        headers = {
            name: value for name, value in self.headers.items() if name.lower() not in HOP_BY_HOP
        }
        upstream = http.client.HTTPConnection(
            self.proxy.upstream.hostname, self.proxy.upstream.port, timeout=120
        )
        try:
            upstream.request(method, self.path, body=body, headers=headers)
            answer = upstream.getresponse()
            data = answer.read()
        except (OSError, http.client.HTTPException):
            self.close_connection = True  # the API hung up: so does the proxy
            kind, task_id = classify(self.path)
            self.proxy.record(Request(arrived, kind, task_id, 0))
            return
        finally:
            upstream.close()
        kind, task_id = classify(self.path)
        self.proxy.record(Request(arrived, kind, task_id, answer.status))
        self.send_response(answer.status)
        for name, value in answer.getheaders():
            if name.lower() not in HOP_BY_HOP and name.lower() != "content-length":
                self.send_header(name, value)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format, *args):
        pass
