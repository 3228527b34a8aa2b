"""Serving stored media to logged-in users, with HTTP Range so videos can be seeked."""

import posixpath
import re

from django.core.files.storage import default_storage
from django.http import FileResponse, Http404, HttpResponse

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
    if not name or ".." in name.split("/") or not default_storage.exists(name):
        raise Http404("No such file")
    size = default_storage.size(name)
    content_type = MEDIA_TYPES.get(posixpath.splitext(name)[1].lower())
    if content_type is None:
        content_type, as_attachment = "application/octet-stream", True
    requested = parse_range(request.headers.get("Range", ""), size)
    if requested == "unsatisfiable":
        response = HttpResponse(status=416)
        response["Content-Range"] = f"bytes */{size}"
        return finish(response)
    handle = default_storage.open(name, "rb")
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
    return finish(response)


def finish(response):
    response["Accept-Ranges"] = "bytes"
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, max-age=3600"
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
