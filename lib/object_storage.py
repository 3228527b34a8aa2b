"""Media in an S3-compatible bucket (S3_BUCKET): presigned links and ranged, streamed reads.

django-storages' own S3File copies a whole object into memory before the first byte is read,
which a video player's Range requests would repeat for every seek. Reading here asks the bucket
for the byte range that is wanted and streams it, so a web worker's memory stays flat.
"""

import io

from botocore.exceptions import ClientError
from storages.backends.s3 import S3Storage
from storages.utils import clean_name

READ_CHUNK = 64 * 1024


class MediaBucketStorage(S3Storage):
    """S3Storage whose files open for reading as ranged streams; url() gives presigned links."""

    def _open(self, name, mode="rb"):
        if "w" in mode or "a" in mode or "+" in mode:
            return super()._open(name, mode)
        key = self._normalize_name(clean_name(name))
        try:
            head = self.connection.meta.client.head_object(Bucket=self.bucket_name, Key=key)
        except ClientError as error:
            if error.response["ResponseMetadata"]["HTTPStatusCode"] == 404:
                raise FileNotFoundError(f"File does not exist: {name}") from None
            raise
        return RangedObjectReader(self, key, name, head["ContentLength"])


class RangedObjectReader(io.RawIOBase):
    """A read-only, seekable file over one bucket object; each read streams from the bucket.

    Seeking is free: the next read asks for the range from the new position onward.
    """

    def __init__(self, storage, key, name, size):
        super().__init__()
        self._storage = storage
        self._key = key
        self.name = name
        self.size = size
        self._position = 0
        self._body = None  # the open GET, positioned at self._position

    def readable(self):
        return True

    def seekable(self):
        return True

    def tell(self):
        return self._position

    def seek(self, offset, whence=io.SEEK_SET):
        base = {io.SEEK_SET: 0, io.SEEK_CUR: self._position, io.SEEK_END: self.size}[whence]
        position = max(0, base + offset)
        if position != self._position:
            self._drop_body()
            self._position = position
        return self._position

    def read(self, size=-1):
        if self._position >= self.size or size == 0:
            return b""
        if self._body is None:
            answer = self._storage.connection.meta.client.get_object(
                Bucket=self._storage.bucket_name, Key=self._key, Range=f"bytes={self._position}-"
            )
            self._body = answer["Body"]
        data = self._body.read(None if size is None or size < 0 else size)
        self._position += len(data)
        return data

    def readinto(self, buffer):
        data = self.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)

    def chunks(self, chunk_size=READ_CHUNK):
        self.seek(0)
        while chunk := self.read(chunk_size):
            yield chunk

    def close(self):
        self._drop_body()
        super().close()

    def _drop_body(self):
        if self._body is not None:
            self._body.close()
            self._body = None
