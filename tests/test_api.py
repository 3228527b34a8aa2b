"""The JSON API: one validation path with the page, errors by field name."""

import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from generations.models import Generation, GenerationLora, LoraPreset, ReviewState, Status

from .support.pictures import jpeg_upload, picture_bytes


def upload(width=640, height=480):
    return jpeg_upload("pic.jpg", picture_bytes(width, height))


def test_create_with_an_uploaded_picture(
    api_client, media_root, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks() as callbacks:
        response = api_client.post(
            "/api/generations/", data={"prompt": "a lighthouse", "image": upload()}
        )

    assert response.status_code == 201
    body = response.json()
    assert body["status"] == "queued"
    assert body["parameters"]["width"] == 832 and body["parameters"]["height"] == 480
    assert body["parameters"]["steps"] == 30
    assert body["parameters"]["enable_safety_checker"] is True
    assert len(callbacks) == 1  # the submit job, queued once the row is committed


def test_portrait_picture_picks_portrait_size(api_client, media_root):
    response = api_client.post(
        "/api/generations/",
        data={"prompt": "tall", "image": upload(480, 800), "clarity": "720p"},
    )

    params = response.json()["parameters"]
    assert (params["width"], params["height"]) == (720, 1280)


def test_reuse_an_existing_source_image(api_client, source_image):
    response = api_client.post(
        "/api/generations/", data={"prompt": "again", "source_image": source_image.pk}
    )

    assert response.status_code == 201
    assert response.json()["source_image"] == source_image.pk


def test_loras_by_preset_and_path(api_client, source_image):
    preset = LoraPreset.objects.create(
        name="Painting", path="Remade-AI/Painting", default_scale=0.8
    )
    loras = [{"preset": preset.name}, {"path": "Someone/Style", "scale": 2.5}]

    response = api_client.post(
        "/api/generations/",
        data={"prompt": "styled", "source_image": source_image.pk, "loras": json.dumps(loras)},
    )

    assert response.status_code == 201
    made = [{"path": "Remade-AI/Painting", "scale": 0.8}, {"path": "Someone/Style", "scale": 2.5}]
    assert response.json()["parameters"]["loras"] == made
    detail = f"/api/generations/{response.json()['id']}/"
    assert api_client.get(detail).json()["parameters"]["loras"] == made
    assert api_client.get("/api/generations/").json()["results"][0]["parameters"]["loras"] == made


@pytest.mark.parametrize(
    "field, value",
    [
        ("prompt", ""),
        ("prompt", "x" * 2001),
        ("negative_prompt", "x" * 2001),
        ("steps", "41"),
        ("steps", "0"),
        ("seed", "-2"),
        ("seed", "10000000000"),
        ("guidance_scale", "10.5"),
        ("flow_shift", "0.5"),
        ("width", "640"),
        ("loras", "not json"),
        ("loras", json.dumps([{"path": "a/b", "scale": 5}])),
        ("loras", json.dumps([{"path": "a/b"}] * 4)),
        ("loras", json.dumps([{"preset": "no such preset"}])),
    ],
)
def test_invalid_parameter_is_reported_under_its_field(api_client, source_image, field, value):
    data = {"prompt": "fine", "source_image": source_image.pk, "width": "832", "height": "480"}
    data[field] = value

    response = api_client.post("/api/generations/", data=data)

    assert response.status_code == 400
    assert field in response.json()["errors"], response.json()
    assert not Generation.objects.exists()


def test_missing_picture_is_reported(api_client, db):
    response = api_client.post("/api/generations/", data={"prompt": "no picture"})

    assert response.status_code == 400
    assert "image" in response.json()["errors"]


def test_a_file_that_is_not_a_picture_is_reported(api_client, media_root):
    fake = SimpleUploadedFile("cat.jpg", b"<html>not a picture</html>", content_type="image/jpeg")

    response = api_client.post("/api/generations/", data={"prompt": "x", "image": fake})

    assert response.status_code == 400
    assert "image" in response.json()["errors"]


def test_detail_has_the_documented_fields(api_client, make_generation):
    generation = make_generation()

    body = api_client.get(f"/api/generations/{generation.pk}/").json()

    for field in (
        "id",
        "status",
        "progress_percent",
        "eta",
        "failure_reason",
        "api_task_id",
        "seed",
        "parameters",
        "video_url",
        "poster_url",
        "created_at",
        "finished_at",
    ):
        assert field in body
    assert body["status"] == Status.QUEUED


def test_list_is_newest_first(api_client, make_generation):
    first, second = make_generation(prompt="one"), make_generation(prompt="two")

    ids = [row["id"] for row in api_client.get("/api/generations/").json()["results"]]

    assert ids == [second.pk, first.pk]


def test_wrong_token_is_401(client, db):
    response = client.get("/api/generations/", HTTP_AUTHORIZATION="Token nope")

    assert (response.status_code, response.json()) == (
        401,
        {"detail": "The API token is not valid."},
    )


def test_no_credentials_is_401_json(client, db):
    response = client.get("/api/generations/")

    assert response.status_code == 401
    assert response.json() == {"detail": "Log in or send 'Authorization: Token <key>'."}


def test_a_role_that_does_not_allow_it_is_403_json(api_client_for, make_user):
    response = api_client_for(make_user("guest", role=None)).get("/api/generations/")

    assert (response.status_code, response.json()) == (
        403,
        {"detail": "Your role does not allow this."},
    )


def test_an_unknown_generation_is_404_json_not_the_studio_page(api_client, db):
    response = api_client.get("/api/generations/999999/")

    assert response.status_code == 404
    assert response["Content-Type"] == "application/json"
    assert response.json() == {"detail": "There is no generation #999999 that you may see."}


def test_someone_elses_hidden_generation_is_the_same_404(api_client_for, other_user, finished):
    Generation.objects.filter(pk=finished.pk).update(review_state=ReviewState.FLAGGED)

    response = api_client_for(other_user).get(f"/api/generations/{finished.pk}/")

    assert response.json() == {"detail": f"There is no generation #{finished.pk} that you may see."}


def test_a_key_whose_generations_were_deleted_is_409_with_a_detail(api_client, source_image):
    data = {"prompt": "x", "source_image": source_image.pk}
    api_client.post("/api/generations/", data, HTTP_IDEMPOTENCY_KEY="k-gone")
    Generation.objects.all().delete()

    response = api_client.post("/api/generations/", data, HTTP_IDEMPOTENCY_KEY="k-gone")

    assert response.status_code == 409
    assert "Idempotency-Key" in response.json()["detail"]
    assert set(response.json()) == {"detail"}


@pytest.fixture
def make_listed(make_generation):
    """make_listed(count, owners): count finished generations of several owners, with 0 to 2
    LoRAs, a stored video and a poster."""

    def make(count, owners):
        for index in range(count):
            generation = make_generation(
                owners[index % len(owners)],
                status=Status.SUCCEEDED,
                prompt=f"p {index}",
                video=f"videos/{index}.mp4",
                poster=f"posters/{index}.jpg",
            )
            for position in range(index % 3):
                GenerationLora.objects.create(
                    generation=generation, position=position, path=f"a/b{position}", scale=1.0
                )

    return make


def test_the_list_reads_as_many_queries_for_two_hundred_rows_as_for_one(
    api_client, make_listed, user, other_user, django_assert_num_queries
):
    make_listed(1, [user, other_user])
    with CaptureQueriesContext(connection) as one_row:
        api_client.get("/api/generations/?limit=200")

    make_listed(199, [user, other_user])
    with django_assert_num_queries(len(one_row)):
        results = api_client.get("/api/generations/?limit=200").json()["results"]
    assert len(results) == 200
    assert {row["owner"] for row in results} == {user.username, other_user.username}
    assert sorted({len(row["parameters"]["loras"]) for row in results}) == [0, 1, 2]


def test_links_in_an_answer_are_absolute(api_client, make_listed, user):
    make_listed(1, [user])
    generation = Generation.objects.get()

    body = api_client.get(f"/api/generations/{generation.pk}/").json()

    assert body["video_url"] == "http://testserver" + reverse("studio:video", args=[generation.pk])
    assert body["poster_url"] == "http://testserver/media/posters/0.jpg"
