"""The library of source pictures: browse, upload (re-encoded, deduped), rename, retire."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from generations.models import Generation, ReviewState, SourceImage

from .conftest import picture_bytes, user_with_role

PICTURES = "/library/pictures/"


def upload(name="harbour.jpg", content=None):
    return SimpleUploadedFile(name, content or picture_bytes(), content_type="image/jpeg")


def second_picture(user):
    """Another picture in the library (different pixels from the source_image fixture)."""
    from io import BytesIO

    from generations import media

    data = BytesIO(picture_bytes(800, 600, colour=(10, 200, 90)))
    encoded = media.reencode_picture(data, max_bytes=10_000_000)
    return SourceImage.objects.store(encoded, "meadow.jpg", user)


@pytest.fixture
def member(client, user):
    client.force_login(user)
    return client


@pytest.fixture
def admin(client, admin_user):
    client.force_login(admin_user)
    return client


# --- browsing ----------------------------------------------------------------------------


def test_logged_out_people_are_sent_to_log_in(client, db):
    response = client.get(PICTURES)
    assert response.status_code == 302
    assert response["Location"].startswith("/login/")


def test_library_opens_on_the_pictures(member):
    response = member.get("/library/")
    assert response.status_code == 302
    assert response["Location"] == PICTURES


@pytest.mark.parametrize("role", ["member", "reviewer", "admin"])
def test_every_role_browses_the_pictures(client, source_image, role):
    client.force_login(user_with_role(f"someone-{role}", role))
    response = client.get(PICTURES)
    assert response.status_code == 200
    assert source_image.image.url in response.content.decode()


def test_an_account_without_a_role_may_not_browse(client, source_image, django_user_model):
    person = django_user_model.objects.create_user("nobody", password="a-long-test-password")
    person.groups.clear()
    client.force_login(person)
    assert client.get(PICTURES).status_code == 403


def test_a_card_shows_size_uploader_and_usage(member, source_image, user):
    for _ in range(3):
        Generation.objects.create_queued(owner=user, source_image=source_image, prompt="p")

    html = member.get(PICTURES).content.decode()

    assert f"{source_image.width}×{source_image.height}" in html
    assert "maya" in html
    assert "Used by 3 generations" in html


def test_usage_count_is_per_picture(member, source_image, user):
    other = second_picture(user)
    Generation.objects.create_queued(owner=user, source_image=source_image, prompt="p")

    response = member.get(PICTURES)

    cards = {picture.pk: uses for picture, uses, _ in response.context["cards"]}
    assert cards == {source_image.pk: 1, other.pk: 0}


def test_usage_count_leaves_out_what_the_person_may_not_see(
    client, source_image, user, other_user, admin_user
):
    Generation.objects.create_queued(owner=user, source_image=source_image, prompt="p")
    flagged = Generation.objects.create_queued(owner=user, source_image=source_image, prompt="p")
    Generation.objects.filter(pk=flagged.pk).update(review_state=ReviewState.FLAGGED)

    client.force_login(other_user)
    assert "Used by 1 generation<" in client.get(PICTURES).content.decode()
    client.force_login(admin_user)
    assert "Used by 2 generations" in client.get(PICTURES).content.decode()


def test_retired_pictures_are_listed_apart(member, source_image):
    SourceImage.objects.filter(pk=source_image.pk).update(is_retired=True)

    assert source_image.image.url not in member.get(PICTURES).content.decode()
    assert source_image.image.url in member.get(PICTURES + "?show=retired").content.decode()


# --- uploading ---------------------------------------------------------------------------


def test_a_member_uploads_a_picture(member, user, media_root):
    response = member.post(PICTURES, {"image": upload("boats.png", picture_bytes(fmt="PNG"))})

    assert response.status_code == 302
    picture = SourceImage.objects.get()
    assert picture.original_name == "boats.png"
    assert picture.uploaded_by == user
    assert picture.image.name.endswith(".jpg")  # re-encoded


def test_an_upload_can_be_given_a_name(member, media_root):
    member.post(PICTURES, {"image": upload(), "name": "  Harbour at dusk "})
    assert SourceImage.objects.get().original_name == "Harbour at dusk"


def test_the_same_picture_twice_is_kept_once(member, media_root):
    member.post(PICTURES, {"image": upload()})
    response = member.post(PICTURES, {"image": upload("copy.jpg")}, follow=True)

    assert SourceImage.objects.count() == 1
    assert "already had this picture" in response.content.decode()


def test_uploading_a_retired_picture_brings_it_back(member, source_image):
    SourceImage.objects.filter(pk=source_image.pk).update(is_retired=True)

    member.post(PICTURES, {"image": upload()})

    source_image.refresh_from_db()
    assert not source_image.is_retired


def test_no_file_is_an_error_next_to_the_field(member, media_root):
    response = member.post(PICTURES, {"name": "kept name"})

    assert response.status_code == 400
    html = response.content.decode()
    assert 'id="id_image-error"' in html
    assert 'value="kept name"' in html


def test_a_file_that_is_not_a_picture_is_an_error(member, media_root):
    response = member.post(PICTURES, {"image": upload("notes.jpg", b"<svg></svg>")})

    assert response.status_code == 400
    assert "not a picture we can read" in response.content.decode()
    assert not SourceImage.objects.exists()


def test_a_picture_too_small_for_a_video_is_an_error(member, media_root):
    response = member.post(PICTURES, {"image": upload(content=picture_bytes(100, 100))})

    assert response.status_code == 400
    assert "at least 256 pixels" in response.content.decode()


def test_a_picture_over_the_size_limit_is_an_error(member, media_root, settings):
    settings.UPLOAD_MAX_BYTES = 1000

    response = member.post(PICTURES, {"image": upload()})

    assert response.status_code == 400
    assert "the limit is" in response.content.decode()


def test_a_name_too_long_is_an_error(member, media_root):
    response = member.post(PICTURES, {"image": upload(), "name": "x" * 256})

    assert response.status_code == 400
    assert 'id="id_name-error"' in response.content.decode()
    assert not SourceImage.objects.exists()


def test_without_the_add_permission_upload_is_refused(client, db, django_user_model):
    from django.contrib.auth.models import Permission

    person = django_user_model.objects.create_user("viewer", password="a-long-test-password")
    person.groups.clear()
    person.user_permissions.add(Permission.objects.get(codename="view_sourceimage"))
    client.force_login(person)

    assert client.get(PICTURES).status_code == 200
    assert b'enctype="multipart/form-data"' not in client.get(PICTURES).content
    assert client.post(PICTURES, {"image": upload()}).status_code == 403


# --- renaming ----------------------------------------------------------------------------


def test_the_uploader_renames_a_picture(member, source_image):
    url = f"/library/pictures/{source_image.pk}/"
    assert member.get(url).status_code == 200

    response = member.post(url, {"original_name": "Harbour, morning"})

    assert response.status_code == 302
    source_image.refresh_from_db()
    assert source_image.original_name == "Harbour, morning"


def test_a_name_too_long_is_refused_on_rename(member, source_image):
    response = member.post(f"/library/pictures/{source_image.pk}/", {"original_name": "x" * 300})

    assert response.status_code == 400
    assert 'id="id_original_name-error"' in response.content.decode()


def test_a_teammate_may_not_rename_anothers_picture(client, source_image, other_user):
    client.force_login(other_user)
    url = f"/library/pictures/{source_image.pk}/"
    assert client.get(url).status_code == 403
    assert client.post(url, {"original_name": "mine now"}).status_code == 403


def test_an_admin_renames_anyones_picture(admin, source_image):
    response = admin.post(f"/library/pictures/{source_image.pk}/", {"original_name": "tidy"})
    assert response.status_code == 302


def test_renaming_a_missing_picture_is_not_found(member, db):
    assert member.get("/library/pictures/999/").status_code == 404


# --- retiring ----------------------------------------------------------------------------


def test_the_uploader_retires_a_picture(member, source_image):
    response = member.post(f"/library/pictures/{source_image.pk}/retire/")

    assert response.status_code == 302
    source_image.refresh_from_db()
    assert source_image.is_retired


def test_a_retired_picture_leaves_the_studio_picker(member, source_image):
    assert source_image in member.get("/").context["library"]

    member.post(f"/library/pictures/{source_image.pk}/retire/")

    assert source_image not in member.get("/").context["library"]


def test_a_retired_picture_cannot_be_picked_for_a_new_generation(member, source_image):
    SourceImage.objects.filter(pk=source_image.pk).update(is_retired=True)

    response = member.post("/", {"prompt": "boats", "source_image": source_image.pk})

    assert response.status_code == 400
    assert 'id="id_source_image-error"' in response.content.decode()
    assert not Generation.objects.exists()


def test_retiring_keeps_the_generations_made_from_it(member, source_image, finished):
    member.post(f"/library/pictures/{source_image.pk}/retire/")

    finished.refresh_from_db()
    assert finished.source_image == source_image
    assert member.get(f"/generations/{finished.pk}/").status_code == 200


def test_retiring_returns_to_the_page_it_came_from(member, source_image):
    response = member.post(
        f"/library/pictures/{source_image.pk}/retire/", {"next": PICTURES + "?page=2"}
    )
    assert response["Location"] == PICTURES + "?page=2"


def test_retiring_never_redirects_to_another_site(member, source_image):
    response = member.post(
        f"/library/pictures/{source_image.pk}/retire/", {"next": "https://evil.example/"}
    )
    assert response["Location"] == PICTURES


def test_a_retired_picture_is_brought_back(member, source_image):
    SourceImage.objects.filter(pk=source_image.pk).update(is_retired=True)

    member.post(f"/library/pictures/{source_image.pk}/restore/")

    source_image.refresh_from_db()
    assert not source_image.is_retired


def test_a_teammate_may_not_retire_anothers_picture(client, source_image, other_user):
    client.force_login(other_user)

    assert client.post(f"/library/pictures/{source_image.pk}/retire/").status_code == 403
    source_image.refresh_from_db()
    assert not source_image.is_retired


def test_a_teammate_sees_no_retire_button_on_anothers_picture(client, source_image, other_user):
    client.force_login(other_user)
    assert "/retire/" not in client.get(PICTURES).content.decode()


def test_an_admin_retires_anyones_picture(admin, source_image):
    assert admin.post(f"/library/pictures/{source_image.pk}/retire/").status_code == 302
    source_image.refresh_from_db()
    assert source_image.is_retired


def test_retiring_needs_a_post(member, source_image):
    assert member.get(f"/library/pictures/{source_image.pk}/retire/").status_code == 405


def test_a_logged_out_retire_changes_nothing(client, source_image):
    response = client.post(f"/library/pictures/{source_image.pk}/retire/")

    assert response.status_code == 302
    assert response["Location"].startswith("/login/")
    source_image.refresh_from_db()
    assert not source_image.is_retired
