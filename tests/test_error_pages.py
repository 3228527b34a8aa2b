"""With DEBUG off, every error a person can meet is the studio's own page, never Django's."""

from django.test import Client


def test_an_unknown_host_gets_the_styled_bad_request_page(settings, db):
    settings.DEBUG = False
    response = Client(HTTP_HOST="studio.example.com").get("/login/")
    assert response.status_code == 400
    assert "ALLOWED_HOSTS" in response.content.decode()
    assert "WanStudio" in response.content.decode()


def test_an_expired_form_says_nothing_was_saved(settings, db):
    settings.DEBUG = False
    response = Client(enforce_csrf_checks=True).post("/login/", {"username": "maya"})
    assert response.status_code == 403
    assert "Nothing was saved or submitted" in response.content.decode()
