"""Small thumbnails of posters for the gallery's tiles: made once, on the first request, stored
beside the poster under a name derived from it, and served only to whoever may see the poster."""

import io

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.test import Client
from django.urls import resolve
from PIL import Image

from generations import media
from generations.models import ReviewState, Status

from .support import stored
from .support.pictures import picture_bytes


def body(response):
    return b"".join(response.streaming_content)


@pytest.fixture
def with_poster(make_generation, media_root):
    """make_generation's succeeded generation with a real poster of width×height."""

    def make(width=1280, height=720, **fields):
        poster = default_storage.save(
            "posters/frame.jpg", ContentFile(picture_bytes(width, height, quality=92))
        )
        return make_generation(status=Status.SUCCEEDED, poster=poster, **fields)

    return make


def test_the_thumbnail_is_a_small_webp_of_the_poster(with_poster, member_client):
    generation = with_poster()

    response = member_client.get(generation.thumbnail_url)

    assert response.status_code == 200
    assert response["Content-Type"] == "image/webp"
    content = body(response)
    assert Image.open(io.BytesIO(content)).size == (360, 203)
    assert len(content) < generation.poster.size / 4


def test_a_portrait_poster_keeps_its_aspect(with_poster, member_client):
    generation = with_poster(width=480, height=832)

    content = body(member_client.get(generation.thumbnail_url))

    assert Image.open(io.BytesIO(content)).size == (208, 360)


def test_it_is_stored_beside_the_poster_under_a_derived_name(with_poster, member_client):
    generation = with_poster()

    member_client.get(generation.thumbnail_url)

    assert media.thumbnail_name(generation.poster.name) == "posters/frame.thumb360.webp"
    assert default_storage.exists("posters/frame.thumb360.webp")


def test_a_second_request_reads_the_stored_thumbnail(with_poster, member_client, monkeypatch):
    generation = with_poster()
    first = body(member_client.get(generation.thumbnail_url))
    made = []
    monkeypatch.setattr(media, "thumbnail_webp", lambda picture: made.append(picture) or b"")

    second = member_client.get(generation.thumbnail_url)

    assert made == []
    assert body(second) == first


def test_a_member_who_may_not_see_the_generation_cannot_fetch_its_thumbnail(
    with_poster, member_client, other_user
):
    flagged = with_poster(owner=other_user, review_state=ReviewState.FLAGGED)

    assert member_client.get(flagged.thumbnail_url).status_code == 404


def test_the_owner_of_flagged_work_still_sees_its_thumbnail(with_poster, client_for, other_user):
    flagged = with_poster(owner=other_user, review_state=ReviewState.FLAGGED)

    assert client_for(other_user).get(flagged.thumbnail_url).status_code == 200


def test_a_hidden_thumbnail_is_never_made(with_poster, member_client, other_user):
    flagged = with_poster(owner=other_user, review_state=ReviewState.FLAGGED)

    member_client.get(flagged.thumbnail_url)

    assert not default_storage.exists(media.thumbnail_name(flagged.poster.name))


def test_a_reviewer_sees_the_thumbnail_of_flagged_work(with_poster, reviewer_client, other_user):
    flagged = with_poster(owner=other_user, review_state=ReviewState.FLAGGED)

    assert reviewer_client.get(flagged.thumbnail_url).status_code == 200


def test_the_stored_thumbnail_is_not_served_by_its_own_name(with_poster, member_client):
    generation = with_poster()
    member_client.get(generation.thumbnail_url)

    response = member_client.get(f"/media/{media.thumbnail_name(generation.poster.name)}")

    assert response.status_code == 404  # no row holds it: only the checked route serves it


def test_thumbnails_need_a_login(with_poster):
    generation = with_poster()

    response = Client().get(generation.thumbnail_url)

    assert response.status_code == 302
    assert response["Location"].startswith("/login/")


@pytest.mark.parametrize(
    "name", ["posters/nobody.jpg", "videos/test.mp4", "../settings.py", "posters/frame.jpg/.."]
)
def test_names_that_are_not_a_visible_picture_are_not_found(finished, member_client, name):
    assert member_client.get(f"/thumbnails/{name}").status_code == 404


def test_a_poster_that_cannot_be_shrunk_is_sent_whole(finished, member_client):
    response = member_client.get(finished.thumbnail_url)  # the fixture's 3-byte "JPEG"

    assert response.status_code == 200
    assert response["Content-Type"] == "image/jpeg"
    assert body(response) == stored.POSTER


def test_a_missing_poster_is_not_found(with_poster, member_client):
    generation = with_poster()
    default_storage.delete(generation.poster.name)

    assert member_client.get(generation.thumbnail_url).status_code == 404


def test_the_thumbnail_url_is_the_thumbnail_route(with_poster, make_generation):
    generation = with_poster()

    assert resolve(generation.thumbnail_url).view_name == "studio:thumbnail"
    assert make_generation().thumbnail_url == ""
