"""Signed, expiring video links, like a presigned object-store URL: no API key needed."""

import hmac
import secrets
from hashlib import sha256
from pathlib import Path
from urllib.parse import urlencode


def load_secret(data_dir: Path) -> bytes:
    """The signing key, kept in the data dir so links survive a restart of the simulator."""
    path = data_dir / "link-secret"
    if not path.exists():
        path.write_text(secrets.token_hex(32))
    return path.read_text().strip().encode()


def video_path(task_id: str) -> str:
    return f"/sim/videos/{task_id}.mp4"


def signed_video_path(secret: bytes, task_id: str, expires: int) -> str:
    query = urlencode({"expires": expires, "signature": _signature(secret, task_id, expires)})
    return f"{video_path(task_id)}?{query}"


def link_problem(secret: bytes, task_id: str, expires: str, signature: str, now: float) -> str:
    """Why the link must be refused ("" when it is good)."""
    if not expires.isdigit() or not signature:
        return "the link is not signed"
    if not hmac.compare_digest(_signature(secret, task_id, int(expires)), signature):
        return "the link's signature does not match"
    if int(expires) < now:
        return "the link has expired"
    return ""


def _signature(secret: bytes, task_id: str, expires: int) -> str:
    return hmac.new(secret, f"{task_id}:{expires}".encode(), sha256).hexdigest()
