"""Stored media: only for logged-in users, never sniffed, only known types shown inline,
videos seekable with HTTP Range; signed, expiring source links for the API's servers.
Who may see which file, and caching: test_media_access.py."""

import pytest
from django.core import signing
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.test import Client

from generations.models import SOURCE_LINK_SALT, Generation

VIDEO = b"\x00\x00\x00\x18ftypisom"  # what the `finished` fixture stores: 12 bytes


@pytest.fixture
def viewer(client, user):
    client.force_login(user)
    return client


def video_path(generation):
    return f"/generations/{generation.pk}/video.mp4"


def body(response):
    return b"".join(response.streaming_content)


def test_videos_posters_and_pictures_need_a_login(finished):
    anonymous = Client()
    paths = [video_path(finished), finished.poster.url, finished.source_image.image.url]
    for path in paths:
        response = anonymous.get(path)
        assert response.status_code == 302, path
        assert response["Location"].startswith("/login/")


def test_a_video_is_served_as_mp4_never_sniffed_and_seekable(viewer, finished):
    response = viewer.get(video_path(finished))

    assert response.status_code == 200
    assert response["Content-Type"] == "video/mp4"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Accept-Ranges"] == "bytes"
    assert body(response) == VIDEO


@pytest.mark.parametrize("picture", ["poster", "source picture"])
def test_a_picture_is_served_as_jpeg_never_sniffed(viewer, finished, picture):
    field = finished.poster if picture == "poster" else finished.source_image.image
    response = viewer.get(field.url)
    assert response.status_code == 200
    assert response["Content-Type"] == "image/jpeg"
    assert response["X-Content-Type-Options"] == "nosniff"


@pytest.mark.parametrize(
    "header, content, content_range",
    [
        ("bytes=4-7", VIDEO[4:8], "bytes 4-7/12"),
        ("bytes=10-", VIDEO[10:], "bytes 10-11/12"),
        ("bytes=-4", VIDEO[-4:], "bytes 8-11/12"),
        ("bytes=6-999", VIDEO[6:], "bytes 6-11/12"),
    ],
)
def test_a_range_of_the_video_is_served(viewer, finished, header, content, content_range):
    response = viewer.get(video_path(finished), HTTP_RANGE=header)

    assert response.status_code == 206
    assert response["Content-Range"] == content_range
    assert response["Content-Length"] == str(len(content))
    assert body(response) == content


def test_a_range_past_the_end_is_416(viewer, finished):
    response = viewer.get(video_path(finished), HTTP_RANGE="bytes=12-")
    assert response.status_code == 416
    assert response["Content-Range"] == "bytes */12"


def test_a_file_of_another_type_is_a_download_never_a_page(viewer, finished):
    name = default_storage.save("posters/page.html", ContentFile(b"<script>alert(1)</script>"))
    Generation.objects.filter(pk=finished.pk).update(poster=name)

    response = viewer.get(f"/media/{name}")

    assert response["Content-Type"] == "application/octet-stream"
    assert response["Content-Disposition"].startswith("attachment")
    assert response["X-Content-Type-Options"] == "nosniff"


def test_a_path_out_of_the_media_folder_is_404(viewer, media_root):
    (media_root.parent / "secret.jpg").write_bytes(b"\xff\xd8\xff")
    assert viewer.get("/media/videos/../../secret.jpg").status_code == 404


def test_a_source_link_names_one_picture(source_image, media_root, user):
    from generations import media
    from generations.models import SourceImage

    from .conftest import picture_bytes

    other = SourceImage.objects.store(
        media.reencode_picture(ContentFile(picture_bytes(300, 300)), 10**7), "b.jpg", user
    )
    link = source_image.signed_url().removeprefix("http://127.0.0.1:8000")
    served = body(Client().get(link))

    assert served == source_image.image.open("rb").read()
    assert served != other.image.open("rb").read()
    # The other picture's id with this link's signature: refused.
    token = link.rstrip("/").rsplit("/", 1)[1]
    other_id = signing.dumps(other.pk, salt=SOURCE_LINK_SALT).split(":")[0]
    forged = ":".join([other_id, *token.split(":")[1:]])
    assert forged != token
    assert Client().get(link.replace(token, forged)).status_code == 403


def test_a_source_link_signed_for_another_purpose_is_403(source_image):
    token = signing.dumps(source_image.pk, salt="another-salt")
    assert Client().get(f"/public/source/{token}/").status_code == 403


def test_an_expired_source_link_is_403(source_image, settings):
    settings.SOURCE_LINK_MAX_AGE = -1
    token = signing.dumps(source_image.pk, salt=SOURCE_LINK_SALT)
    assert Client().get(f"/public/source/{token}/").status_code == 403
