"""Helpers for tests that talk to the simulator: a stub web server and a poll-until helper.

The simulator downloads image_url and POSTs webhooks like the real service, so a test needs a
place to host its source pictures and receive webhooks: StubServer, on loopback.
"""

import io
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import requests
from PIL import Image, ImageDraw

FINISHED = ("TASK_STATUS_SUCCEED", "TASK_STATUS_FAILED")


def make_picture(width: int, height: int, fmt: str = "PNG") -> bytes:
    """A picture with stripes and a disc, so a camera move is visible in the frames."""
    picture = Image.new("RGB", (width, height), (20, 30, 90))
    draw = ImageDraw.Draw(picture)
    stripe = max(4, width // 20)
    for left in range(0, width, 2 * stripe):
        draw.rectangle([left, 0, left + stripe - 1, height], fill=(40 + left % 200, 120, 200))
    radius = min(width, height) // 4
    draw.ellipse(
        [width // 2 - radius, height // 2 - radius, width // 2 + radius, height // 2 + radius],
        fill=(250, 170, 30),
    )
    out = io.BytesIO()
    picture.save(out, fmt)
    return out.getvalue()


class StubServer:
    """Answers GET and POST from {path: (status, content_type, body)}; records every POST."""

    def __init__(self, routes: dict[str, tuple[int, str, bytes]]):
        self.routes = routes
        self.posts: list[tuple[str, dict]] = []  # (path, JSON body) in arrival order
        handler = type("StubHandler", (_StubHandler,), {"stub": self})
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(target=self._httpd.serve_forever, daemon=True)

    def start(self) -> "StubServer":
        self._thread.start()
        return self

    def url(self, path: str) -> str:
        host, port = self._httpd.server_address[:2]
        return f"http://{host}:{port}{path}"

    def stop(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()

    def __enter__(self) -> "StubServer":
        return self.start()

    def __exit__(self, *exc_info) -> None:
        self.stop()


class _StubHandler(BaseHTTPRequestHandler):
    stub: StubServer

    def do_GET(self):
        self._answer()

    def do_POST(self):
        raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        self.stub.posts.append((self.path, json.loads(raw or b"null")))
        self._answer()

    def _answer(self):
        default = (404, "text/plain", b"not found")
        status, content_type, body = self.stub.routes.get(self.path, default)
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format, *args):
        pass


def poll_until(
    base_url: str, api_key: str, task_id: str, statuses=FINISHED, timeout: float = 30
) -> list[dict]:
    """Poll task-result every 50 ms until the status is one of statuses; every answer, in order."""
    answers = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        response = requests.get(
            f"{base_url}/v3/async/task-result",
            params={"task_id": task_id},
            headers={"Authorization": f"Bearer {api_key}"},
            timeout=5,
        )
        response.raise_for_status()
        answers.append(response.json())
        if answers[-1]["task"]["status"] in statuses:
            return answers
        time.sleep(0.05)
    raise TimeoutError(f"task {task_id} still {answers[-1]['task']['status']} after {timeout}s")
