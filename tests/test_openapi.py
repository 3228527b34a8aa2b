"""The JSON API's description (api/openapi/) kept honest: every URL of api/urls.py described
with the methods it accepts, real answers matching the schema of their status code, examples
matching their schemas, a valid OpenAPI 3.1 document, and the docs page for people."""

import hashlib
import re
import secrets

import pytest
from django.test import Client
from django.urls import URLResolver, get_resolver
from jsonschema import Draft202012Validator
from openapi_spec_validator import validate as validate_openapi
from referencing import Registry
from referencing.jsonschema import DRAFT202012

from api import health, openapi
from generations.models import Generation, Sequence, Status

from .support.clips import stored_clip
from .support.pictures import jpeg_upload, picture_bytes

BASE = "urn:wanstudio:openapi"
METHODS = ("get", "head", "post", "put", "patch", "delete")
# Patterns of api/urls.py that answer HTML for people, not JSON: the schema leaves them out.
PAGES = {"docs"}


@pytest.fixture(scope="module")
def document():
    return openapi.document()


def pointer(*parts):
    return "/".join(str(part).replace("~", "~0").replace("/", "~1") for part in parts)


def validator(document, *parts):
    """Validates against the schema at document's parts, its $refs resolved in document."""
    registry = Registry().with_resource(BASE, DRAFT202012.create_resource(document))
    return Draft202012Validator(
        {"$ref": f"{BASE}#/{pointer(*parts)}"},
        registry=registry,
        format_checker=Draft202012Validator.FORMAT_CHECKER,
    )


def resolve(document, item):
    while "$ref" in item:
        node = document
        for part in item["$ref"].removeprefix("#/").split("/"):
            node = node[part]
        item = node
    return item


def assert_documented(document, response, path, method, status):
    """response has status, and its status, media type and body are what path's method says."""
    assert response.status_code == status, response.content[:500]
    responses = document["paths"][path][method]["responses"]
    assert str(status) in responses, f"{method.upper()} {path} {status} is not described"
    answer = resolve(document, responses[str(status)])
    content = answer.get("content", {})
    if not content:
        assert response.content == b""
        return
    media = response["Content-Type"].split(";")[0]
    assert media in content, f"{media} is not described for {status}"
    if media == "application/json":
        body = response.json()
    elif media == "text/plain":
        body = response.content.decode()
    else:
        return  # a page for people
    schema_at = ("paths", path, method, "responses", str(status), "content", media, "schema")
    if "$ref" in responses[str(status)]:
        name = responses[str(status)]["$ref"].rsplit("/", 1)[1]
        schema_at = ("components", "responses", name, "content", media, "schema")
    validator(document, *schema_at).validate(body)


# --- the document ---------------------------------------------------------------------------


def test_the_document_is_valid_openapi_3_1(document):
    validate_openapi(document)
    assert document["openapi"].startswith("3.1")


def test_the_schema_is_served_to_anyone(client, db, document):
    response = client.get("/api/schema/")

    assert_documented(document, response, "/api/schema/", "get", 200)
    assert response.json() == document


def places_of_examples(node, at=()):
    """Where every media type object with an example sits in the document."""
    if isinstance(node, dict):
        if "example" in node and "schema" in node:
            yield at, node["example"]
        for key, value in node.items():
            yield from places_of_examples(value, (*at, key))


def test_every_example_matches_its_schema(document):
    found = list(places_of_examples(document))

    for at, example in found:
        validator(document, *at, "schema").validate(example)
    assert len(found) >= 10


# --- every URL, every method -----------------------------------------------------------------


def api_routes():
    """{OpenAPI path: URL name} of each pattern of api/urls.py, as the root URLconf mounts it."""

    def walk(patterns, prefix, namespace):
        for entry in patterns:
            route = prefix + str(entry.pattern)
            if isinstance(entry, URLResolver):
                yield from walk(entry.url_patterns, route, entry.namespace or namespace)
            elif namespace == "api":
                yield "/" + re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", route), entry.name

    return dict(walk(get_resolver().url_patterns, "", None))


def test_every_json_url_is_described_and_nothing_else(document):
    described = set(document["paths"])
    routes = {path for path, name in api_routes().items() if name not in PAGES}

    assert described == routes


def accepted_methods(client, path):
    """The methods path does not answer 405 to (ids that exist nowhere, a well-shaped token)."""
    url = path.format(pk=999999, token="x" * 43) + "?check=database"
    return {method for method in METHODS if getattr(client, method)(url).status_code != 405}


def test_each_path_lists_the_methods_its_view_accepts(api_client, document):
    for path, item in document["paths"].items():
        described = {method for method in METHODS if method in item}

        assert accepted_methods(api_client, path) == described, path


# --- generations ------------------------------------------------------------------------------


def test_generation_list(api_client, make_generation, finished, document):
    make_generation()

    response = api_client.get("/api/generations/?limit=5")

    assert_documented(document, response, "/api/generations/", "get", 200)


def test_generation_list_without_credentials(client, db, document):
    assert_documented(document, client.get("/api/generations/"), "/api/generations/", "get", 401)


def test_generation_list_with_a_bad_token(client, db, document):
    response = client.get("/api/generations/", HTTP_AUTHORIZATION="Token nope")

    assert_documented(document, response, "/api/generations/", "get", 401)


def test_generation_list_for_someone_without_a_role(api_client_for, make_user, document):
    response = api_client_for(make_user("guest", role=None)).get("/api/generations/")

    assert_documented(document, response, "/api/generations/", "get", 403)


def test_create_one(api_client, media_root, document):
    upload = jpeg_upload("pic.jpg", picture_bytes(640, 480))

    response = api_client.post("/api/generations/", {"prompt": "a lighthouse", "image": upload})

    assert_documented(document, response, "/api/generations/", "post", 201)


def test_create_a_batch_then_repeat_it_by_its_key(api_client, source_image, document):
    data = {"prompt": "one\ntwo", "one_prompt_per_line": "on", "source_image": source_image.pk}

    first = api_client.post("/api/generations/", data, HTTP_IDEMPOTENCY_KEY="k-1")
    again = api_client.post("/api/generations/", data, HTTP_IDEMPOTENCY_KEY="k-1")

    assert_documented(document, first, "/api/generations/", "post", 201)
    assert_documented(document, again, "/api/generations/", "post", 200)
    assert len(first.json()["generations"]) == 2


def test_create_refused(api_client, source_image, document):
    data = {"prompt": "x", "source_image": source_image.pk, "steps": "41"}

    response = api_client.post("/api/generations/", data)

    assert_documented(document, response, "/api/generations/", "post", 400)


def test_create_with_a_key_whose_generations_were_deleted(api_client, source_image, document):
    data = {"prompt": "x", "source_image": source_image.pk}
    api_client.post("/api/generations/", data, HTTP_IDEMPOTENCY_KEY="k-2")
    Generation.objects.all().delete()

    response = api_client.post("/api/generations/", data, HTTP_IDEMPOTENCY_KEY="k-2")

    assert_documented(document, response, "/api/generations/", "post", 409)


def test_generation_detail(api_client, finished, document):
    Generation.objects.filter(pk=finished.pk).update(
        video_duration=5.0, video_bytes=1000, video_sha256="a" * 64, reported_seed=7
    )

    response = api_client.get(f"/api/generations/{finished.pk}/")

    assert_documented(document, response, "/api/generations/{pk}/", "get", 200)


@pytest.mark.parametrize("status", [Status.PROCESSING, Status.FAILED])
def test_generation_detail_on_its_way(api_client, make_generation, document, status):
    generation = make_generation(
        status=status, progress_percent=40, eta_seconds=30, failure_reason="TIMEOUT"
    )

    response = api_client.get(f"/api/generations/{generation.pk}/")

    assert_documented(document, response, "/api/generations/{pk}/", "get", 200)


def test_generation_detail_not_found(api_client, db, document):
    response = api_client.get("/api/generations/999999/")

    assert_documented(document, response, "/api/generations/{pk}/", "get", 404)


def test_generation_detail_without_credentials(client, db, document):
    response = client.get("/api/generations/1/")

    assert_documented(document, response, "/api/generations/{pk}/", "get", 401)


# --- extend ----------------------------------------------------------------------------------


@pytest.fixture
def clip(make_generation, tmp_path):
    return stored_clip(make_generation, tmp_path)


def test_extend(api_client, clip, document):
    path = f"/api/generations/{clip.pk}/extend/"

    first = api_client.post(path, {"frame": "last"}, "application/json", HTTP_IDEMPOTENCY_KEY="e")
    again = api_client.post(path, {"frame": "last"}, "application/json", HTTP_IDEMPOTENCY_KEY="e")

    assert_documented(document, first, "/api/generations/{pk}/extend/", "post", 201)
    assert_documented(document, again, "/api/generations/{pk}/extend/", "post", 200)


def test_extend_refused(api_client, clip, document):
    response = api_client.post(
        f"/api/generations/{clip.pk}/extend/", {"frame": "middle"}, "application/json"
    )

    assert_documented(document, response, "/api/generations/{pk}/extend/", "post", 400)


def test_extend_not_found(api_client, db, document):
    response = api_client.post("/api/generations/999999/extend/")

    assert_documented(document, response, "/api/generations/{pk}/extend/", "post", 404)


def test_extend_without_credentials(client, db, document):
    response = client.post("/api/generations/1/extend/")

    assert_documented(document, response, "/api/generations/{pk}/extend/", "post", 401)


# --- sequences -------------------------------------------------------------------------------


@pytest.fixture
def sequence(api_client, finished):
    Generation.objects.filter(pk=finished.pk).update(video_duration=1.0)
    body = {"clips": [{"generation": finished.pk}], "title": "t"}
    return api_client.post("/api/sequences/", body, "application/json")


def test_create_a_sequence(sequence, document):
    assert_documented(document, sequence, "/api/sequences/", "post", 201)


def test_create_a_sequence_refused(api_client, db, document):
    response = api_client.post("/api/sequences/", {"clips": []}, "application/json")

    assert_documented(document, response, "/api/sequences/", "post", 400)


def test_sequence_list_and_detail(api_client, sequence, document):
    pk = sequence.json()["id"]

    listed = api_client.get("/api/sequences/")
    detail = api_client.get(f"/api/sequences/{pk}/")

    assert_documented(document, listed, "/api/sequences/", "get", 200)
    assert_documented(document, detail, "/api/sequences/{pk}/", "get", 200)


def test_sequence_detail_not_found(api_client, db, document):
    response = api_client.get("/api/sequences/999999/")

    assert_documented(document, response, "/api/sequences/{pk}/", "get", 404)


def test_sequences_without_credentials(client, db, document):
    assert_documented(document, client.get("/api/sequences/"), "/api/sequences/", "get", 401)
    assert_documented(document, client.get("/api/sequences/1/"), "/api/sequences/{pk}/", "get", 401)


def test_export(api_client, sequence, document):
    response = api_client.post(f"/api/sequences/{sequence.json()['id']}/export/")

    assert_documented(document, response, "/api/sequences/{pk}/export/", "post", 202)


def test_export_of_an_empty_sequence(api_client, user, document):
    empty = Sequence.objects.create(owner=user)

    response = api_client.post(f"/api/sequences/{empty.pk}/export/")

    assert_documented(document, response, "/api/sequences/{pk}/export/", "post", 400)


def test_export_by_someone_else(api_client_for, other_user, sequence, document):
    path = f"/api/sequences/{sequence.json()['id']}/export/"

    response = api_client_for(other_user).post(path)

    assert_documented(document, response, "/api/sequences/{pk}/export/", "post", 403)


def test_export_not_found_and_without_credentials(api_client, client, document):
    path = "/api/sequences/999999/export/"

    assert_documented(document, api_client.post(path), "/api/sequences/{pk}/export/", "post", 404)
    assert_documented(document, client.post(path), "/api/sequences/{pk}/export/", "post", 401)


# --- the callback receiver and health ------------------------------------------------------------


def test_a_callback_with_a_known_token(make_generation, document):
    token = secrets.token_urlsafe(32)
    generation = make_generation(status=Status.PROCESSING)
    Generation.objects.filter(pk=generation.pk).update(
        webhook_token_hash=hashlib.sha256(token.encode()).hexdigest()
    )
    example = document["paths"]["/api/webhooks/wan/{token}/"]["post"]["requestBody"]
    body = example["content"]["application/json"]["example"]

    response = Client(enforce_csrf_checks=True).post(
        f"/api/webhooks/wan/{token}/", body, "application/json"
    )

    assert_documented(document, response, "/api/webhooks/wan/{token}/", "post", 204)


def test_a_callback_with_an_unknown_token(client, db, document):
    response = client.post(f"/api/webhooks/wan/{secrets.token_urlsafe(32)}/")

    assert_documented(document, response, "/api/webhooks/wan/{token}/", "post", 404)


@pytest.mark.parametrize("method", ["get", "head"])
def test_health_for_anyone(client, db, document, method):
    response = getattr(client, method)("/healthz?check=database")

    assert_documented(document, response, "/healthz", method, 200)


def test_health_in_detail_for_a_token(api_client, document):
    response = api_client.get("/healthz?check=database&check=broker")

    assert_documented(document, response, "/healthz", "get", 200)


def test_health_failing(api_client, client, document, monkeypatch):
    def broken():
        raise health.CheckFailed("down")

    monkeypatch.setitem(health.CHECKS, "database", broken)

    assert_documented(document, client.get("/healthz?check=database"), "/healthz", "get", 503)
    assert_documented(document, api_client.get("/healthz?check=database"), "/healthz", "get", 503)


# --- the page for people ---------------------------------------------------------------------


@pytest.fixture
def docs_page(client, db):
    return client.get("/api/docs/")


def test_the_docs_page_is_open_to_anyone(docs_page):
    assert docs_page.status_code == 200
    assert docs_page["Content-Type"].startswith("text/html")


def test_the_docs_page_shows_every_operation(docs_page, document):
    html = docs_page.content.decode()

    for path, item in document["paths"].items():
        for method in METHODS:
            if method in item:
                assert f'id="{item[method]["operationId"]}"' in html
                assert f"<code>{path}</code>" in html
    for name in ("Generation", "Sequence", "Errors"):
        assert f'id="object-{name}"' in html


def test_the_docs_page_keeps_to_the_content_security_policy(docs_page):
    html = docs_page.content.decode()

    assert "style-src 'self'" in docs_page["Content-Security-Policy"]
    assert not re.search(r"<script(?![^>]*\ssrc=)", html), "an inline script"
    assert "<style" not in html and " style=" not in html
    assert "/static/api/docs.css" in html
    assert "https://" not in re.sub(r"<pre.*?</pre>", "", html, flags=re.S)  # nothing from a CDN
