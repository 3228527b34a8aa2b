"""The backup folder's file store: every file kept once, under the sha256 of its content.

A studio's stored names never change content (each upload and video gets a new random name),
so a second backup into the same folder finds most files already there and copies only the
new ones; the manifest maps each stored name to its sha256.
"""

import hashlib
import os
import tempfile
from pathlib import Path

CHUNK = 1024 * 1024


class ObjectStore:
    def __init__(self, folder):
        self.root = Path(folder) / "objects"

    def path(self, sha256):
        return self.root / sha256[:2] / sha256

    def has(self, sha256):
        return self.path(sha256).is_file()

    def put(self, stream):
        """Copy a readable binary stream into the store; (sha256, size, copied?)."""
        self.root.mkdir(parents=True, exist_ok=True)
        digest = hashlib.sha256()
        size = 0
        with tempfile.NamedTemporaryFile(dir=self.root, prefix=".incoming-", delete=False) as out:
            try:
                while chunk := stream.read(CHUNK):
                    digest.update(chunk)
                    size += len(chunk)
                    out.write(chunk)
            except BaseException:
                out.close()
                os.unlink(out.name)
                raise
        return self._keep(Path(out.name), digest.hexdigest(), size)

    def put_file(self, path):
        """Move a file this backup wrote (a database snapshot) into the store."""
        sha256, size = file_digest(path)
        return self._keep(Path(path), sha256, size)

    def _keep(self, written, sha256, size):
        target = self.path(sha256)
        if target.is_file():
            written.unlink()
            return sha256, size, False
        target.parent.mkdir(parents=True, exist_ok=True)
        os.replace(written, target)
        return sha256, size, True

    def check(self, sha256):
        """None when the stored copy is whole, else what is wrong with it."""
        path = self.path(sha256)
        if not path.is_file():
            return "missing from the backup"
        if file_digest(path)[0] != sha256:
            return "damaged: its sha256 does not match the manifest"
        return None

    def prune(self, keep):
        """Delete what no manifest entry names any more (files deleted from the studio)."""
        removed = 0
        if not self.root.is_dir():
            return removed
        for path in self.root.glob("*/*"):
            if path.name not in keep:
                path.unlink()
                removed += 1
        for stray in self.root.glob(".incoming-*"):  # left by a backup that was killed
            stray.unlink()
        return removed


def file_digest(path):
    """(sha256, size) of a file."""
    with open(path, "rb") as handle:
        return stream_digest(handle)


def stream_sha256(stream):
    return stream_digest(stream)[0]


def stream_digest(stream):
    digest = hashlib.sha256()
    size = 0
    while chunk := stream.read(CHUNK):
        digest.update(chunk)
        size += len(chunk)
    return digest.hexdigest(), size
