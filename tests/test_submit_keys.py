"""A submit happens once: the form's one-time key and the API's Idempotency-Key header answer a
repeated request with what the first made, and make (and bill) nothing new."""

import re
from datetime import timedelta

from django.utils import timezone

from generations.models import Generation, SubmitKey


def page_key(browser):
    page = browser.get("/").content.decode()
    return re.search(r'name="submission_key" value="([^"]+)"', page).group(1)


def test_each_studio_page_carries_a_new_key(member_client):
    assert page_key(member_client) != page_key(member_client)


def test_the_same_form_posted_twice_makes_one_generation(member_client, source_image):
    form = {
        "prompt": "x",
        "source_image": source_image.pk,
        "submission_key": page_key(member_client),
    }

    first = member_client.post("/", form)
    second = member_client.post("/", form, follow=True)

    assert Generation.objects.count() == 1
    assert second.redirect_chain[0][0] == first.url
    assert "already submitted once" in second.content.decode()


def test_a_repeated_batch_answers_with_the_same_batch(member_client, source_image):
    form = {
        "prompt": "one\ntwo",
        "one_prompt_per_line": "on",
        "source_image": source_image.pk,
        "submission_key": page_key(member_client),
    }
    first = member_client.post("/", form)
    second = member_client.post("/", form)

    assert first.url == second.url and "/batches/" in first.url
    assert Generation.objects.count() == 2


def test_the_api_answers_a_repeated_key_with_200_and_the_same_generation(api_client, source_image):
    request = {"prompt": "x", "source_image": source_image.pk}

    first = api_client.post("/api/generations/", request, HTTP_IDEMPOTENCY_KEY="k-1")
    again = api_client.post("/api/generations/", request, HTTP_IDEMPOTENCY_KEY="k-1")
    other = api_client.post("/api/generations/", request, HTTP_IDEMPOTENCY_KEY="k-2")

    assert (first.status_code, again.status_code, other.status_code) == (201, 200, 201)
    assert again.json()["id"] == first.json()["id"] != other.json()["id"]
    assert Generation.objects.count() == 2


def test_without_a_key_every_api_submit_is_new(api_client, source_image):
    for _ in range(2):
        api_client.post("/api/generations/", {"prompt": "x", "source_image": source_image.pk})
    assert Generation.objects.count() == 2


def test_a_key_is_per_person(api_client, api_client_for, other_user, source_image):
    theirs = api_client_for(other_user)
    request = {"prompt": "x", "source_image": source_image.pk}

    api_client.post("/api/generations/", request, HTTP_IDEMPOTENCY_KEY="shared")
    answer = theirs.post("/api/generations/", request, HTTP_IDEMPOTENCY_KEY="shared")

    assert answer.status_code == 201
    assert Generation.objects.count() == 2


def test_a_key_older_than_a_day_makes_a_new_generation(api_client, source_image):
    request = {"prompt": "x", "source_image": source_image.pk}
    api_client.post("/api/generations/", request, HTTP_IDEMPOTENCY_KEY="daily")
    SubmitKey.objects.update(created_at=timezone.now() - timedelta(hours=25))

    answer = api_client.post("/api/generations/", request, HTTP_IDEMPOTENCY_KEY="daily")

    assert answer.status_code == 201
    assert Generation.objects.count() == 2


def test_a_repeated_key_is_answered_even_at_the_budget_limit(api_client, user, source_image):
    from generations.models import Budget

    Budget.objects.create(user=user, monthly_limit="0.20")
    request = {"prompt": "x", "source_image": source_image.pk}
    first = api_client.post("/api/generations/", request, HTTP_IDEMPOTENCY_KEY="at-limit")

    again = api_client.post("/api/generations/", request, HTTP_IDEMPOTENCY_KEY="at-limit")

    assert again.status_code == 200 and again.json()["id"] == first.json()["id"]


def test_a_key_whose_generation_was_deleted_says_so(api_client, source_image):
    request = {"prompt": "x", "source_image": source_image.pk}
    api_client.post("/api/generations/", request, HTTP_IDEMPOTENCY_KEY="gone")
    Generation.objects.get().delete_with_files()

    answer = api_client.post("/api/generations/", request, HTTP_IDEMPOTENCY_KEY="gone")

    assert answer.status_code == 409
    assert "deleted" in answer.json()["detail"]  # 409: one shape for every refusal
    assert not Generation.objects.exists()


def test_an_overlong_key_is_a_field_error(api_client, source_image):
    answer = api_client.post(
        "/api/generations/",
        {"prompt": "x", "source_image": source_image.pk},
        HTTP_IDEMPOTENCY_KEY="k" * 300,
    )
    assert answer.status_code == 400
    assert "Idempotency-Key" in answer.json()["errors"]
    assert not Generation.objects.exists()
