"""A submit happens once: the form's one-time key and the API's Idempotency-Key header answer a
repeated request with what the first made, and make (and bill) nothing new."""

import re
from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from generations.models import ApiToken, Generation, SubmitKey


@pytest.fixture
def browser(user):
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def api(user):
    return Client(HTTP_AUTHORIZATION=f"Token {ApiToken.issue(user).key}")


def page_key(browser):
    page = browser.get("/").content.decode()
    return re.search(r'name="submission_key" value="([^"]+)"', page).group(1)


def test_each_studio_page_carries_a_new_key(browser):
    assert page_key(browser) != page_key(browser)


def test_the_same_form_posted_twice_makes_one_generation(browser, source_image):
    form = {"prompt": "x", "source_image": source_image.pk, "submission_key": page_key(browser)}

    first = browser.post("/", form)
    second = browser.post("/", form, follow=True)

    assert Generation.objects.count() == 1
    assert second.redirect_chain[0][0] == first.url
    assert "already submitted once" in second.content.decode()


def test_a_repeated_batch_answers_with_the_same_batch(browser, source_image):
    form = {
        "prompt": "one\ntwo",
        "one_prompt_per_line": "on",
        "source_image": source_image.pk,
        "submission_key": page_key(browser),
    }
    first = browser.post("/", form)
    second = browser.post("/", form)

    assert first.url == second.url and "/batches/" in first.url
    assert Generation.objects.count() == 2


def test_the_api_answers_a_repeated_key_with_200_and_the_same_generation(api, source_image):
    request = {"prompt": "x", "source_image": source_image.pk}

    first = api.post("/api/generations/", request, HTTP_IDEMPOTENCY_KEY="k-1")
    again = api.post("/api/generations/", request, HTTP_IDEMPOTENCY_KEY="k-1")
    other = api.post("/api/generations/", request, HTTP_IDEMPOTENCY_KEY="k-2")

    assert (first.status_code, again.status_code, other.status_code) == (201, 200, 201)
    assert again.json()["id"] == first.json()["id"] != other.json()["id"]
    assert Generation.objects.count() == 2


def test_without_a_key_every_api_submit_is_new(api, source_image):
    for _ in range(2):
        api.post("/api/generations/", {"prompt": "x", "source_image": source_image.pk})
    assert Generation.objects.count() == 2


def test_a_key_is_per_person(api, other_user, source_image):
    theirs = Client(HTTP_AUTHORIZATION=f"Token {ApiToken.issue(other_user).key}")
    request = {"prompt": "x", "source_image": source_image.pk}

    api.post("/api/generations/", request, HTTP_IDEMPOTENCY_KEY="shared")
    answer = theirs.post("/api/generations/", request, HTTP_IDEMPOTENCY_KEY="shared")

    assert answer.status_code == 201
    assert Generation.objects.count() == 2


def test_a_key_older_than_a_day_makes_a_new_generation(api, source_image):
    request = {"prompt": "x", "source_image": source_image.pk}
    api.post("/api/generations/", request, HTTP_IDEMPOTENCY_KEY="daily")
    SubmitKey.objects.update(created_at=timezone.now() - timedelta(hours=25))

    answer = api.post("/api/generations/", request, HTTP_IDEMPOTENCY_KEY="daily")

    assert answer.status_code == 201
    assert Generation.objects.count() == 2


def test_a_repeated_key_is_answered_even_at_the_budget_limit(api, user, source_image):
    from generations.models import Budget

    Budget.objects.create(user=user, monthly_limit="0.20")
    request = {"prompt": "x", "source_image": source_image.pk}
    first = api.post("/api/generations/", request, HTTP_IDEMPOTENCY_KEY="at-limit")

    again = api.post("/api/generations/", request, HTTP_IDEMPOTENCY_KEY="at-limit")

    assert again.status_code == 200 and again.json()["id"] == first.json()["id"]


def test_a_key_whose_generation_was_deleted_says_so(api, source_image):
    request = {"prompt": "x", "source_image": source_image.pk}
    api.post("/api/generations/", request, HTTP_IDEMPOTENCY_KEY="gone")
    Generation.objects.get().delete_with_files()

    answer = api.post("/api/generations/", request, HTTP_IDEMPOTENCY_KEY="gone")

    assert answer.status_code == 409
    assert "deleted" in answer.json()["errors"]["Idempotency-Key"][0]
    assert not Generation.objects.exists()


def test_an_overlong_key_is_a_field_error(api, source_image):
    answer = api.post(
        "/api/generations/",
        {"prompt": "x", "source_image": source_image.pk},
        HTTP_IDEMPOTENCY_KEY="k" * 300,
    )
    assert answer.status_code == 400
    assert "Idempotency-Key" in answer.json()["errors"]
    assert not Generation.objects.exists()
