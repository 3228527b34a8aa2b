"""Stored media and who may fetch it: only people logged in who may see the generation
(flagged means hidden, files included, from the very next request; reviewers and admins see
flagged work of others, on every page and in media alike); never sniffed, only known types
shown inline, videos seekable with HTTP Range; private and asked again each time, so no browser
keeps a file it may no longer see; signed, expiring source links for the API's servers; the
same rules for media in a bucket."""

import pytest
from django.contrib.auth.models import Permission
from django.core import signing
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.test import Client
from django.utils import timezone

from generations.models import SOURCE_LINK_SALT, Generation, ReviewState, Status

from .support import stored


def file_paths(generation):
    return {
        "video": f"/media/{generation.video.name}",
        "poster": f"/media/{generation.poster.name}",
        "player": f"/generations/{generation.pk}/video.mp4",
    }


def body(response):
    return b"".join(response.streaming_content)


# --- how a file is served -------------------------------------------------------------------


def test_videos_posters_and_pictures_need_a_login(finished):
    anonymous = Client()
    paths = [file_paths(finished)["player"], finished.poster.url, finished.source_image.image.url]
    for path in paths:
        response = anonymous.get(path)
        assert response.status_code == 302, path
        assert response["Location"].startswith("/login/")


def test_a_video_is_served_as_mp4_never_sniffed_and_seekable(member_client, finished):
    response = member_client.get(file_paths(finished)["player"])

    assert response.status_code == 200
    assert response["Content-Type"] == "video/mp4"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Accept-Ranges"] == "bytes"
    assert body(response) == stored.VIDEO


@pytest.mark.parametrize("picture", ["poster", "source picture"])
def test_a_picture_is_served_as_jpeg_never_sniffed(member_client, finished, picture):
    field = finished.poster if picture == "poster" else finished.source_image.image
    response = member_client.get(field.url)
    assert response.status_code == 200
    assert response["Content-Type"] == "image/jpeg"
    assert response["X-Content-Type-Options"] == "nosniff"


@pytest.mark.parametrize(
    "header, content, content_range",
    [
        ("bytes=4-7", stored.VIDEO[4:8], "bytes 4-7/12"),
        ("bytes=10-", stored.VIDEO[10:], "bytes 10-11/12"),
        ("bytes=-4", stored.VIDEO[-4:], "bytes 8-11/12"),
        ("bytes=6-999", stored.VIDEO[6:], "bytes 6-11/12"),
    ],
)
def test_a_range_of_the_video_is_served(member_client, finished, header, content, content_range):
    response = member_client.get(file_paths(finished)["player"], HTTP_RANGE=header)

    assert response.status_code == 206
    assert response["Content-Range"] == content_range
    assert response["Content-Length"] == str(len(content))
    assert body(response) == content


def test_a_range_past_the_end_is_416(member_client, finished):
    response = member_client.get(file_paths(finished)["player"], HTTP_RANGE="bytes=12-")
    assert response.status_code == 416
    assert response["Content-Range"] == "bytes */12"


def test_a_file_of_another_type_is_a_download_never_a_page(member_client, finished):
    name = default_storage.save("posters/page.html", ContentFile(b"<script>alert(1)</script>"))
    Generation.objects.filter(pk=finished.pk).update(poster=name)

    response = member_client.get(f"/media/{name}")

    assert response["Content-Type"] == "application/octet-stream"
    assert response["Content-Disposition"].startswith("attachment")
    assert response["X-Content-Type-Options"] == "nosniff"


def test_a_path_out_of_the_media_folder_is_404(member_client, media_root):
    (media_root.parent / "secret.jpg").write_bytes(b"\xff\xd8\xff")
    assert member_client.get("/media/videos/../../secret.jpg").status_code == 404


def test_a_source_link_names_one_picture(source_image, make_source_image):
    other = make_source_image(300, 300, name="b.jpg")
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


# --- who may fetch what ---------------------------------------------------------------------


@pytest.fixture
def flagged(finished, reviewer):
    """The member maya's finished video, flagged by the reviewer rui."""
    finished.review(reviewer, ReviewState.FLAGGED, "not for use")
    return finished


@pytest.fixture
def people(user, other_user, reviewer, admin_user):
    return {"owner": user, "teammate": other_user, "reviewer": reviewer, "admin": admin_user}


@pytest.mark.parametrize("which", ["video", "poster", "player"])
def test_a_teammate_cannot_fetch_the_files_of_a_flagged_video(
    client_for, flagged, other_user, which
):
    assert client_for(other_user).get(file_paths(flagged)[which]).status_code == 404


@pytest.mark.parametrize("who", ["owner", "reviewer", "admin"])
@pytest.mark.parametrize("which", ["video", "poster", "player"])
def test_the_owner_reviewers_and_admins_fetch_the_files_of_a_flagged_video(
    client_for, flagged, people, who, which
):
    assert client_for(people[who]).get(file_paths(flagged)[which]).status_code == 200


def test_a_teammate_loses_the_files_on_the_first_request_after_the_flag(
    client_for, finished, reviewer, other_user
):
    teammate = client_for(other_user)
    poster = file_paths(finished)["poster"]
    etag = teammate.get(poster)["ETag"]

    finished.review(reviewer, ReviewState.FLAGGED)

    assert teammate.get(poster, HTTP_IF_NONE_MATCH=etag).status_code == 404


def test_a_stored_file_no_row_holds_is_404(member_client, media_root):
    name = default_storage.save("videos/stray.mp4", ContentFile(stored.VIDEO))
    assert member_client.get(f"/media/{name}").status_code == 404


def test_the_source_picture_of_a_flagged_video_stays_visible_to_the_team(
    client_for, flagged, other_user
):
    teammate = client_for(other_user)

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
    member_client, finished, which, headers, status
):
    response = member_client.get(file_paths(finished)[which], **headers)

    assert response.status_code == status
    assert response["Cache-Control"] == "private, no-cache"
    assert response["ETag"]


@pytest.mark.parametrize("which", ["video", "poster", "player"])
def test_asking_again_with_the_etag_is_a_304_without_the_file(member_client, finished, which):
    path = file_paths(finished)[which]
    etag = member_client.get(path)["ETag"]

    again = member_client.get(path, HTTP_IF_NONE_MATCH=etag)

    assert again.status_code == 304
    assert again.content == b""
    assert (again["ETag"], again["Cache-Control"]) == (etag, "private, no-cache")


def test_another_files_etag_gets_the_file(member_client, finished):
    poster_etag = member_client.get(file_paths(finished)["poster"])["ETag"]

    response = member_client.get(file_paths(finished)["video"], HTTP_IF_NONE_MATCH=poster_etag)

    assert response.status_code == 200
    assert body(response) == stored.VIDEO


def test_a_range_of_another_version_gets_the_whole_file(member_client, finished):
    response = member_client.get(
        file_paths(finished)["player"], HTTP_RANGE="bytes=0-3", HTTP_IF_RANGE='"not-this-file"'
    )

    assert response.status_code == 200
    assert body(response) == stored.VIDEO


# --- every page agrees: reviewers and admins see flagged work of others ---------------------


def test_a_reviewer_sees_a_flagged_video_on_every_page(
    reviewer_client, api_client_for, flagged, reviewer
):
    Generation.objects.filter(pk=flagged.pk).update(finished_at=timezone.now())
    browser = reviewer_client

    assert browser.get(f"/generations/{flagged.pk}/").status_code == 200
    assert browser.get(f"/review/{flagged.pk}/").status_code == 200
    assert flagged.pk in [row.pk for row in browser.get("/gallery/").context["rows"]]
    team_queue = browser.get("/generations/rows/?scope=team").content.decode()
    assert f'data-id="{flagged.pk}"' in team_queue
    api = api_client_for(reviewer).get(f"/api/generations/{flagged.pk}/")
    assert api.json()["review_state"] == "flagged"


def test_reviewing_without_the_right_to_see_flagged_work_does_not_show_it(
    client_for, flagged, other_user
):
    other_user.user_permissions.add(
        Permission.objects.get(codename="review_generation", content_type__app_label="generations")
    )
    teammate = client_for(other_user)

    assert teammate.get(f"/review/{flagged.pk}/").status_code == 404
    decided = teammate.post(f"/review/{flagged.pk}/decide/", {"state": "approved"})
    assert decided.status_code == 404


# --- media in a bucket: the same rules ------------------------------------------------------


@pytest.mark.usefixtures("bucket")
def test_from_a_bucket_a_flagged_poster_is_hidden_and_revalidated(
    make_generation, member_client, client_for, other_user, reviewer
):
    poster = default_storage.save("posters/p.jpg", ContentFile(b"\xff\xd8poster"))
    generation = make_generation(status=Status.SUCCEEDED, poster=poster)
    owner, teammate = member_client, client_for(other_user)
    etag = teammate.get(f"/media/{poster}")["ETag"]

    generation.review(reviewer, ReviewState.FLAGGED)

    assert teammate.get(f"/media/{poster}", HTTP_IF_NONE_MATCH=etag).status_code == 404
    assert owner.get(f"/media/{poster}", HTTP_IF_NONE_MATCH=etag).status_code == 304
    part = owner.get(f"/media/{poster}", HTTP_RANGE="bytes=2-")
    assert (part.status_code, b"".join(part.streaming_content)) == (206, b"poster")
