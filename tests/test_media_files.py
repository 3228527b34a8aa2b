"""Stored media: only for logged-in users, seekable; signed source links for the API."""

from django.core import signing
from django.test import Client

from generations.models import SOURCE_LINK_SALT


def test_media_needs_a_login(client, source_image):
    response = client.get(source_image.image.url)
    assert response.status_code == 302


def test_media_is_served_with_nosniff(client, user, source_image):
    client.force_login(user)
    response = client.get(source_image.image.url)
    assert response.status_code == 200
    assert response["Content-Type"] == "image/jpeg"
    assert response["X-Content-Type-Options"] == "nosniff"


def test_range_request_returns_the_requested_bytes(client, user, source_image):
    client.force_login(user)
    whole = source_image.image.read()

    response = client.get(source_image.image.url, HTTP_RANGE="bytes=10-19")

    assert response.status_code == 206
    assert b"".join(response.streaming_content) == whole[10:20]
    assert response["Content-Range"] == f"bytes 10-19/{len(whole)}"


def test_signed_source_link_works_without_login(source_image):
    path = source_image.signed_url().removeprefix("http://127.0.0.1:8000")
    response = Client().get(path)
    assert response.status_code == 200
    assert response["Content-Type"] == "image/jpeg"


def test_tampered_source_link_is_403(source_image):
    token = signing.dumps(source_image.pk + 1, salt="another-salt")
    response = Client().get(f"/public/source/{token}/")
    assert response.status_code == 403


def test_expired_source_link_is_403(source_image, settings):
    settings.SOURCE_LINK_MAX_AGE = -1
    token = signing.dumps(source_image.pk, salt=SOURCE_LINK_SALT)
    response = Client().get(f"/public/source/{token}/")
    assert response.status_code == 403
