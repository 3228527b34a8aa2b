"""A real local HTTP server that answers from a script: the Wan API as the client meets it,
misbehaviour included (hang-ups, resets, truncated bodies, slow answers)."""

import http.server
import json
import socket
import struct
import threading
import time
from collections import deque
from contextlib import contextmanager
from dataclasses import dataclass, field

API_KEY = "sk-test-5f1c0ffee0ddba11"
MP4 = b"\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00" + bytes(range(256)) * 8
HTML = b"<html><body><h1>502 Bad Gateway</h1></body></html>"


@dataclass
class Reply:
    status: int = 200
    body: bytes = b""
    headers: dict = field(default_factory=dict)
    action: str = "answer"  # answer | close | reset | sleep | truncate
    delay: float = 0.0


@dataclass
class Received:
    method: str
    path: str
    headers: dict
    body: bytes


def json_reply(status, data, **headers):
    return Reply(status, json.dumps(data).encode(), {"Content-Type": "application/json", **headers})


def api_error(status, reason, message="refused"):
    return json_reply(
        status, {"code": status, "reason": reason, "message": message, "metadata": {}}
    )


def html_reply(status):
    return Reply(status, HTML, {"Content-Type": "text/html"})


def video_reply(body=MP4, **headers):
    return Reply(200, body, {"Content-Type": "video/mp4", **headers})


class ScriptedHandler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        self.answer()

    def do_POST(self):
        self.answer()

    def answer(self):
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        server = self.server
        server.received.append(Received(self.command, self.path, dict(self.headers), body))
        reply = server.replies.popleft() if server.replies else Reply(599, b"nothing scripted")
        if reply.action == "close":
            return  # read the request, then hang up without a word
        if reply.action == "reset":
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            self.rfile.close()
            self.wfile.close()
            self.connection.close()  # linger 0: the close sends a TCP reset
            return
        time.sleep(reply.delay)
        self.send_response(reply.status)
        headers = {"Content-Length": str(len(reply.body)), **reply.headers}
        for name, value in headers.items():
            if value is not None:
                self.send_header(name, value)
        self.end_headers()
        sent = reply.body[: len(reply.body) // 2] if reply.action == "truncate" else reply.body
        self.wfile.write(sent)

    def log_message(self, *args):
        pass


class ScriptedServer(http.server.ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self):
        super().__init__(("127.0.0.1", 0), ScriptedHandler)
        self.replies = deque()
        self.received = []

    @property
    def url(self):
        return f"http://127.0.0.1:{self.server_address[1]}"

    def script(self, *replies):
        self.replies.extend(replies)

    def handle_error(self, request, client_address):
        pass  # scripted misbehaviour breaks pipes on purpose


@contextmanager
def scripted_server():
    """A ScriptedServer answering on a loopback port until the block ends."""
    server = ScriptedServer()
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
        thread.join()
