"""The library of source pictures: browse, upload (re-encoded, deduped), rename, retire."""

import pytest

from generations.models import Generation, ReviewState, SourceImage

from .support.pictures import jpeg_upload, picture_bytes

PICTURES = "/library/pictures/"


# --- browsing ----------------------------------------------------------------------------


def test_logged_out_people_are_sent_to_log_in(client, db):
    response = client.get(PICTURES)
    assert response.status_code == 302
    assert response["Location"].startswith("/login/")


def test_library_opens_on_the_pictures(member_client):
    response = member_client.get("/library/")
    assert response.status_code == 302
    assert response["Location"] == PICTURES


@pytest.mark.parametrize("role", ["member", "reviewer", "admin"])
def test_every_role_browses_the_pictures(client_for, make_user, source_image, role):
    response = client_for(make_user(f"someone-{role}", role)).get(PICTURES)
    assert response.status_code == 200
    assert source_image.image.url in response.content.decode()


def test_an_account_without_a_role_may_not_browse(client_for, make_user, source_image):
    assert client_for(make_user("nobody", role=None)).get(PICTURES).status_code == 403


def test_a_card_shows_size_uploader_and_usage(member_client, make_generation, source_image):
    for _ in range(3):
        make_generation()

    html = member_client.get(PICTURES).content.decode()

    assert f"{source_image.width}×{source_image.height}" in html
    assert "maya" in html
    assert "Used by 3 generations" in html


def test_usage_count_is_per_picture(
    member_client, make_generation, make_source_image, source_image
):
    other = make_source_image(800, 600, colour=(10, 200, 90), name="meadow.jpg")
    make_generation()

    response = member_client.get(PICTURES)

    cards = {picture.pk: uses for picture, uses, _ in response.context["cards"]}
    assert cards == {source_image.pk: 1, other.pk: 0}


def test_usage_count_leaves_out_what_the_person_may_not_see(
    client_for, admin_client, make_generation, other_user
):
    make_generation()
    make_generation(review_state=ReviewState.FLAGGED)

    assert "Used by 1 generation<" in client_for(other_user).get(PICTURES).content.decode()
    assert "Used by 2 generations" in admin_client.get(PICTURES).content.decode()


def test_retired_pictures_are_listed_apart(member_client, source_image):
    SourceImage.objects.filter(pk=source_image.pk).update(is_retired=True)

    assert source_image.image.url not in member_client.get(PICTURES).content.decode()
    assert source_image.image.url in member_client.get(PICTURES + "?show=retired").content.decode()


# --- uploading ---------------------------------------------------------------------------


def test_a_member_uploads_a_picture(member_client, user, media_root):
    response = member_client.post(
        PICTURES, {"image": jpeg_upload("boats.png", picture_bytes(fmt="PNG"))}
    )

    assert response.status_code == 302
    picture = SourceImage.objects.get()
    assert picture.original_name == "boats.png"
    assert picture.uploaded_by == user
    assert picture.image.name.endswith(".jpg")  # re-encoded


def test_an_upload_can_be_given_a_name(member_client, media_root):
    member_client.post(PICTURES, {"image": jpeg_upload(), "name": "  Harbour at dusk "})
    assert SourceImage.objects.get().original_name == "Harbour at dusk"


def test_the_same_picture_twice_is_kept_once(member_client, media_root):
    member_client.post(PICTURES, {"image": jpeg_upload()})
    response = member_client.post(PICTURES, {"image": jpeg_upload("copy.jpg")}, follow=True)

    assert SourceImage.objects.count() == 1
    assert "already had this picture" in response.content.decode()


def test_uploading_a_retired_picture_brings_it_back(member_client, source_image):
    SourceImage.objects.filter(pk=source_image.pk).update(is_retired=True)

    member_client.post(PICTURES, {"image": jpeg_upload()})

    source_image.refresh_from_db()
    assert not source_image.is_retired


def test_no_file_is_an_error_next_to_the_field(member_client, media_root):
    response = member_client.post(PICTURES, {"name": "kept name"})

    assert response.status_code == 400
    html = response.content.decode()
    assert 'id="id_image-error"' in html
    assert 'value="kept name"' in html


def test_a_file_that_is_not_a_picture_is_an_error(member_client, media_root):
    response = member_client.post(PICTURES, {"image": jpeg_upload("notes.jpg", b"<svg></svg>")})

    assert response.status_code == 400
    assert "not a picture we can read" in response.content.decode()
    assert not SourceImage.objects.exists()


def test_a_picture_too_small_for_a_video_is_an_error(member_client, media_root):
    response = member_client.post(PICTURES, {"image": jpeg_upload(content=picture_bytes(100, 100))})

    assert response.status_code == 400
    assert "at least 256 pixels" in response.content.decode()


def test_a_picture_over_the_size_limit_is_an_error(member_client, media_root, settings):
    settings.UPLOAD_MAX_BYTES = 1000

    response = member_client.post(PICTURES, {"image": jpeg_upload()})

    assert response.status_code == 400
    assert "the limit is" in response.content.decode()


def test_a_name_too_long_is_an_error(member_client, media_root):
    response = member_client.post(PICTURES, {"image": jpeg_upload(), "name": "x" * 256})

    assert response.status_code == 400
    assert 'id="id_name-error"' in response.content.decode()
    assert not SourceImage.objects.exists()


def test_without_the_add_permission_upload_is_refused(client_for, make_user):
    from django.contrib.auth.models import Permission

    person = make_user("viewer", role=None)
    person.user_permissions.add(Permission.objects.get(codename="view_sourceimage"))
    browser = client_for(person)

    assert browser.get(PICTURES).status_code == 200
    assert b'enctype="multipart/form-data"' not in browser.get(PICTURES).content
    assert browser.post(PICTURES, {"image": jpeg_upload()}).status_code == 403


# --- renaming ----------------------------------------------------------------------------


def test_the_uploader_renames_a_picture(member_client, source_image):
    url = f"/library/pictures/{source_image.pk}/"
    assert member_client.get(url).status_code == 200

    response = member_client.post(url, {"original_name": "Harbour, morning"})

    assert response.status_code == 302
    source_image.refresh_from_db()
    assert source_image.original_name == "Harbour, morning"


def test_a_name_too_long_is_refused_on_rename(member_client, source_image):
    response = member_client.post(
        f"/library/pictures/{source_image.pk}/", {"original_name": "x" * 300}
    )

    assert response.status_code == 400
    assert 'id="id_original_name-error"' in response.content.decode()


def test_a_teammate_may_not_rename_anothers_picture(client_for, source_image, other_user):
    teammate = client_for(other_user)
    url = f"/library/pictures/{source_image.pk}/"
    assert teammate.get(url).status_code == 403
    assert teammate.post(url, {"original_name": "mine now"}).status_code == 403


def test_an_admin_renames_anyones_picture(admin_client, source_image):
    response = admin_client.post(f"/library/pictures/{source_image.pk}/", {"original_name": "tidy"})
    assert response.status_code == 302


def test_renaming_a_missing_picture_is_not_found(member_client, db):
    assert member_client.get("/library/pictures/999/").status_code == 404


# --- retiring ----------------------------------------------------------------------------


def test_the_uploader_retires_a_picture(member_client, source_image):
    response = member_client.post(f"/library/pictures/{source_image.pk}/retire/")

    assert response.status_code == 302
    source_image.refresh_from_db()
    assert source_image.is_retired


def test_a_retired_picture_leaves_the_studio_picker(member_client, source_image):
    assert source_image in member_client.get("/").context["library"]

    member_client.post(f"/library/pictures/{source_image.pk}/retire/")

    assert source_image not in member_client.get("/").context["library"]


def test_a_retired_picture_cannot_be_picked_for_a_new_generation(member_client, source_image):
    SourceImage.objects.filter(pk=source_image.pk).update(is_retired=True)

    response = member_client.post("/", {"prompt": "boats", "source_image": source_image.pk})

    assert response.status_code == 400
    assert 'id="id_source_image-error"' in response.content.decode()
    assert not Generation.objects.exists()


def test_retiring_keeps_the_generations_made_from_it(member_client, source_image, finished):
    member_client.post(f"/library/pictures/{source_image.pk}/retire/")

    finished.refresh_from_db()
    assert finished.source_image == source_image
    assert member_client.get(f"/generations/{finished.pk}/").status_code == 200


def test_retiring_returns_to_the_page_it_came_from(member_client, source_image):
    response = member_client.post(
        f"/library/pictures/{source_image.pk}/retire/", {"next": PICTURES + "?page=2"}
    )
    assert response["Location"] == PICTURES + "?page=2"


def test_retiring_never_redirects_to_another_site(member_client, source_image):
    response = member_client.post(
        f"/library/pictures/{source_image.pk}/retire/", {"next": "https://evil.example/"}
    )
    assert response["Location"] == PICTURES


def test_a_retired_picture_is_brought_back(member_client, source_image):
    SourceImage.objects.filter(pk=source_image.pk).update(is_retired=True)

    member_client.post(f"/library/pictures/{source_image.pk}/restore/")

    source_image.refresh_from_db()
    assert not source_image.is_retired


def test_a_teammate_may_not_retire_anothers_picture(client_for, source_image, other_user):
    teammate = client_for(other_user)

    assert teammate.post(f"/library/pictures/{source_image.pk}/retire/").status_code == 403
    source_image.refresh_from_db()
    assert not source_image.is_retired


def test_a_teammate_sees_no_retire_button_on_anothers_picture(client_for, source_image, other_user):
    assert "/retire/" not in client_for(other_user).get(PICTURES).content.decode()


def test_an_admin_retires_anyones_picture(admin_client, source_image):
    assert admin_client.post(f"/library/pictures/{source_image.pk}/retire/").status_code == 302
    source_image.refresh_from_db()
    assert source_image.is_retired


def test_retiring_needs_a_post(member_client, source_image):
    assert member_client.get(f"/library/pictures/{source_image.pk}/retire/").status_code == 405


def test_a_logged_out_retire_changes_nothing(client, source_image):
    response = client.post(f"/library/pictures/{source_image.pk}/retire/")

    assert response.status_code == 302
    assert response["Location"].startswith("/login/")
    source_image.refresh_from_db()
    assert not source_image.is_retired
