"""Who may fetch a stored file, and how long a browser may keep it: flagged means hidden,
files included, from the very next request. Reviewers and admins see flagged work of others,
on every page and in media alike."""

import pytest
from django.contrib.auth.models import Permission
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.test import Client
from django.utils import timezone

from generations.models import ApiToken, Generation, ReviewState

from .test_s3_storage import bucket, moto  # noqa: F401  (fixtures: media in a bucket)

VIDEO = b"\x00\x00\x00\x18ftypisom"  # what the `finished` fixture stores: 12 bytes


def signed_in(person):
    browser = Client()
    browser.force_login(person)
    return browser


def file_paths(generation):
    return {
        "video": f"/media/{generation.video.name}",
        "poster": f"/media/{generation.poster.name}",
        "player": f"/generations/{generation.pk}/video.mp4",
    }


@pytest.fixture
def flagged(finished, reviewer):
    """The member maya's finished video, flagged by the reviewer rui."""
    finished.review(reviewer, ReviewState.FLAGGED, "not for use")
    return finished


@pytest.fixture
def people(user, other_user, reviewer, admin_user):
    return {"owner": user, "teammate": other_user, "reviewer": reviewer, "admin": admin_user}


# --- who may fetch what ---------------------------------------------------------------------


@pytest.mark.parametrize("which", ["video", "poster", "player"])
def test_a_teammate_cannot_fetch_the_files_of_a_flagged_video(flagged, other_user, which):
    assert signed_in(other_user).get(file_paths(flagged)[which]).status_code == 404


@pytest.mark.parametrize("who", ["owner", "reviewer", "admin"])
@pytest.mark.parametrize("which", ["video", "poster", "player"])
def test_the_owner_reviewers_and_admins_fetch_the_files_of_a_flagged_video(
    flagged, people, who, which
):
    assert signed_in(people[who]).get(file_paths(flagged)[which]).status_code == 200


def test_a_teammate_loses_the_files_on_the_first_request_after_the_flag(
    finished, reviewer, other_user
):
    teammate = signed_in(other_user)
    poster = file_paths(finished)["poster"]
    etag = teammate.get(poster)["ETag"]

    finished.review(reviewer, ReviewState.FLAGGED)

    assert teammate.get(poster, HTTP_IF_NONE_MATCH=etag).status_code == 404


def test_a_stored_file_no_row_holds_is_404(user, media_root):
    name = default_storage.save("videos/stray.mp4", ContentFile(VIDEO))
    assert signed_in(user).get(f"/media/{name}").status_code == 404


def test_the_source_picture_of_a_flagged_video_stays_visible_to_the_team(flagged, other_user):
    teammate = signed_in(other_user)

    assert teammate.get(file_paths(flagged)["poster"]).status_code == 404
    assert teammate.get(flagged.source_image.image.url).status_code == 200


# --- no browser keeps a file it may no longer see ------------------------------------------


@pytest.mark.parametrize(
    "which, headers, status",
    [
        ("video", {}, 200),
        ("player", {}, 200),
        ("player", {"HTTP_RANGE": "bytes=0-3"}, 206),
        ("player", {"HTTP_RANGE": "bytes=99-"}, 416),
        ("poster", {}, 200),
    ],
)
def test_every_media_answer_is_private_and_asked_again_each_time(
    finished, user, which, headers, status
):
    response = signed_in(user).get(file_paths(finished)[which], **headers)

    assert response.status_code == status
    assert response["Cache-Control"] == "private, no-cache"
    assert response["ETag"]


@pytest.mark.parametrize("which", ["video", "poster", "player"])
def test_asking_again_with_the_etag_is_a_304_without_the_file(finished, user, which):
    browser, path = signed_in(user), file_paths(finished)[which]
    etag = browser.get(path)["ETag"]

    again = browser.get(path, HTTP_IF_NONE_MATCH=etag)

    assert again.status_code == 304
    assert again.content == b""
    assert (again["ETag"], again["Cache-Control"]) == (etag, "private, no-cache")


def test_another_files_etag_gets_the_file(finished, user):
    browser, path = signed_in(user), file_paths(finished)["video"]
    poster_etag = browser.get(file_paths(finished)["poster"])["ETag"]

    response = browser.get(path, HTTP_IF_NONE_MATCH=poster_etag)

    assert response.status_code == 200
    assert b"".join(response.streaming_content) == VIDEO


def test_a_range_of_another_version_gets_the_whole_file(finished, user):
    response = signed_in(user).get(
        file_paths(finished)["player"], HTTP_RANGE="bytes=0-3", HTTP_IF_RANGE='"not-this-file"'
    )

    assert response.status_code == 200
    assert b"".join(response.streaming_content) == VIDEO


# --- every page agrees: reviewers and admins see flagged work of others ---------------------


def test_a_reviewer_sees_a_flagged_video_on_every_page(flagged, reviewer):
    Generation.objects.filter(pk=flagged.pk).update(finished_at=timezone.now())
    browser = signed_in(reviewer)
    token = ApiToken.issue(reviewer).key

    assert browser.get(f"/generations/{flagged.pk}/").status_code == 200
    assert browser.get(f"/review/{flagged.pk}/").status_code == 200
    assert flagged.pk in [row.pk for row in browser.get("/gallery/").context["rows"]]
    assert f'data-id="{flagged.pk}"' in browser.get("/generations/rows/").content.decode()
    api = Client(HTTP_AUTHORIZATION=f"Token {token}").get(f"/api/generations/{flagged.pk}/")
    assert api.json()["review_state"] == "flagged"


def test_reviewing_without_the_right_to_see_flagged_work_does_not_show_it(flagged, other_user):
    other_user.user_permissions.add(
        Permission.objects.get(codename="review_generation", content_type__app_label="generations")
    )
    teammate = signed_in(other_user)

    assert teammate.get(f"/review/{flagged.pk}/").status_code == 404
    decided = teammate.post(f"/review/{flagged.pk}/decide/", {"state": "approved"})
    assert decided.status_code == 404


# --- media in a bucket: the same rules ------------------------------------------------------


@pytest.mark.usefixtures("bucket")
def test_from_a_bucket_a_flagged_poster_is_hidden_and_revalidated(
    source_image, user, other_user, reviewer
):
    poster = default_storage.save("posters/p.jpg", ContentFile(b"\xff\xd8poster"))
    generation = Generation.objects.create_queued(owner=user, source_image=source_image, prompt="p")
    Generation.objects.filter(pk=generation.pk).update(status="succeeded", poster=poster)
    owner, teammate = signed_in(user), signed_in(other_user)
    etag = teammate.get(f"/media/{poster}")["ETag"]

    generation.refresh_from_db()
    generation.review(reviewer, ReviewState.FLAGGED)

    assert teammate.get(f"/media/{poster}", HTTP_IF_NONE_MATCH=etag).status_code == 404
    assert owner.get(f"/media/{poster}", HTTP_IF_NONE_MATCH=etag).status_code == 304
    part = owner.get(f"/media/{poster}", HTTP_RANGE="bytes=2-")
    assert (part.status_code, b"".join(part.streaming_content)) == (206, b"poster")
