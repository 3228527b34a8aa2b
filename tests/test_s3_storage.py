"""Media in an S3-compatible bucket: moto's server mode on loopback stands in for S3 (the
`moto` and `bucket` fixtures)."""

import io
import os

import av
import pytest
import requests
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage

from .live_studio import LiveStudio
from .support.pictures import picture_bytes


def test_source_picture_link_is_a_presigned_bucket_link(bucket, moto, source_image, settings):
    link = source_image.signed_url()

    assert link.startswith(f"{moto.endpoint}/{bucket}/sources/")
    assert f"X-Amz-Expires={settings.SOURCE_LINK_MAX_AGE}" in link
    assert "X-Amz-Signature=" in link


def test_anyone_may_fetch_a_source_link_without_keys(bucket, source_image):
    fetched = requests.get(source_image.signed_url(), timeout=10)

    assert fetched.status_code == 200
    assert fetched.content == source_image.image.read()


def test_pictures_go_to_the_bucket_not_to_local_media(bucket, moto, source_image, media_root):
    assert moto.keys(bucket) == [source_image.image.name]
    assert not media_root.exists() or not any(media_root.rglob("*.jpg"))


def test_stored_file_url_is_a_presigned_link_for_media_link_max_age(bucket):
    name = default_storage.save("posters/p.jpg", ContentFile(b"\xff\xd8poster"))

    url = default_storage.url(name)

    assert "X-Amz-Expires=600" in url
    assert requests.get(url, timeout=10).content == b"\xff\xd8poster"


def test_reading_a_stored_file_streams_the_range_asked_for(bucket):
    content = os.urandom(3 * 1024 * 1024)
    name = default_storage.save("videos/v.mp4", ContentFile(content))

    with default_storage.open(name) as handle:
        assert handle.size == len(content)
        handle.seek(2_000_000)
        assert handle.read(10) == content[2_000_000:2_000_010]
        handle.seek(5)
        assert handle.read(3) == content[5:8]


def test_opening_a_missing_object_says_so(bucket):
    with pytest.raises(FileNotFoundError):
        default_storage.open("videos/none.mp4")


def test_media_view_answers_a_range_request_from_the_bucket(bucket, member_client, make_generation):
    content = os.urandom(512 * 1024)
    name = default_storage.save("videos/v.mp4", ContentFile(content))
    make_generation(video=name)

    response = member_client.get(f"/media/{name}", HTTP_RANGE="bytes=1000-1999")

    assert response.status_code == 206
    assert response["Content-Range"] == f"bytes 1000-1999/{len(content)}"
    assert b"".join(response.streaming_content) == content[1000:2000]


def test_a_missing_object_is_a_404(bucket, member_client):
    assert member_client.get("/media/videos/none.mp4").status_code == 404


@pytest.mark.live
def test_studio_on_a_bucket_runs_a_generation_end_to_end(moto, tmp_path):
    bucket = moto.new_bucket()
    studio = LiveStudio(tmp_path / "studio", **moto.env(bucket)).start()
    try:
        prompt = "a lighthouse in fog, slow pan"
        created = studio.create(prompt, picture_bytes(800, 600))

        finished = studio.wait_for_terminal([created["id"]])[created["id"]]

        assert finished["status"] == "succeeded", finished["failure_reason"]
        [submit] = studio.accepted_posts_for(prompt)
        assert submit["image_url"].startswith(f"{moto.endpoint}/{bucket}/sources/")
        keys = moto.keys(bucket)
        assert [key.split("/")[0] for key in keys] == ["posters", "sources", "videos"]
        video = studio.api("GET", finished["video_url"].removeprefix(studio.base_url))
        assert video.status_code == 200 and len(video.content) == finished["video_bytes"]
        with av.open(io.BytesIO(video.content)) as container:
            assert container.streams.video[0].codec_context.name == "h264"
        assert requests.get(finished["poster_url"], timeout=10).content[:2] == b"\xff\xd8"
        assert not (tmp_path / "studio" / "media").exists()
        policy = requests.get(studio.base_url + "/login/", timeout=10).headers
        assert moto.endpoint in policy["Content-Security-Policy"]  # posters shown from the bucket
    finally:
        studio.stop()
