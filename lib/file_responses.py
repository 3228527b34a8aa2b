"""Serving stored media to logged-in users, with HTTP Range so videos can be seeked.

Every answer is private and must be revalidated (`no-cache`): a browser asks again each time,
so whoever loses the right to see a file (a flagged video) loses it on the very next request.
Stored files never change under their random names, so the name and the size make the ETag,
and asking again costs a 304 without the body.
"""

import hashlib
import posixpath
import re

from django.core.files.storage import default_storage
from django.http import FileResponse, Http404, HttpResponse
from django.utils.cache import get_conditional_response

RANGE_PATTERN = re.compile(r"^bytes=(\d*)-(\d*)$")
CHUNK = 64 * 1024
# What the studio stores. Anything else is handed over as a download, never shown inline,
# so a stray file can never run as a page of the studio's origin.
MEDIA_TYPES = {
    ".mp4": "video/mp4",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".png": "image/png",
    ".webp": "image/webp",
}


def stored_file_response(request, name, as_attachment=False, filename=None):
    handle = open_stored_file(name)
    size = handle.size
    etag = stored_file_etag(name, size)
    unchanged = get_conditional_response(request, etag=etag)  # If-None-Match: 304
    if unchanged is not None:
        handle.close()
        return finish(unchanged, etag)
    content_type = MEDIA_TYPES.get(posixpath.splitext(name)[1].lower())
    if content_type is None:
        content_type, as_attachment = "application/octet-stream", True
    requested = parse_range(request.headers.get("Range", ""), size)
    if request.headers.get("If-Range", etag) != etag:  # the part it holds is of another file
        requested = None
    if requested == "unsatisfiable":
        handle.close()
        response = HttpResponse(status=416)
        response["Content-Range"] = f"bytes */{size}"
        return finish(response, etag)
    if requested is None:
        response = FileResponse(
            handle, content_type=content_type, as_attachment=as_attachment, filename=filename or ""
        )
        response["Content-Length"] = str(size)
    else:
        start, end = requested
        handle.seek(start)
        response = FileResponse(
            limited_reader(handle, end - start + 1),
            status=206,
            content_type=content_type,
            as_attachment=as_attachment,
            filename=filename or "",
        )
        response["Content-Range"] = f"bytes {start}-{end}/{size}"
        response["Content-Length"] = str(end - start + 1)
    return finish(response, etag)


def open_stored_file(name):
    """The stored file, open for reading (one request to a bucket); 404 if there is none."""
    if not name or ".." in name.split("/"):
        raise Http404("No such file")
    try:
        return default_storage.open(name, "rb")
    except OSError:  # missing, or a folder
        raise Http404("No such file") from None


def stored_file_etag(name, size):
    digest = hashlib.blake2b(f"{name}:{size}".encode(), digest_size=16).hexdigest()
    return f'"{digest}"'


def finish(response, etag):
    response["ETag"] = etag
    response["Accept-Ranges"] = "bytes"
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, no-cache"
    return response


def parse_range(header, size):
    """(start, end) inclusive for one byte range, None for the whole file."""
    match = RANGE_PATTERN.match(header.strip())
    if not match:
        return None
    first, last = match.groups()
    if first == "" and last == "":
        return None
    if first == "":  # the last N bytes
        length = int(last)
        if length == 0:
            return "unsatisfiable"
        return max(0, size - length), size - 1
    start = int(first)
    end = min(int(last), size - 1) if last else size - 1
    if start >= size or end < start:
        return "unsatisfiable"
    return start, end


def limited_reader(handle, remaining):
    try:
        while remaining > 0:
            chunk = handle.read(min(CHUNK, remaining))
            if not chunk:
                break
            remaining -= len(chunk)
            yield chunk
    finally:
        handle.close()
