"""No query parameter answers 500: every URL pattern, asked with hostile values (too long, the
wrong type, odd unicode, repeated, empty) for the query parameters its page reads."""

from functools import partial
from urllib.parse import quote

import pytest
from django.contrib.contenttypes.models import ContentType
from django.core import signing
from django.urls import URLResolver, get_resolver, reverse

from generations.models import Batch, Generation, LoraPreset, PromptPreset
from generations.models.library import SOURCE_LINK_SALT
from studio.gallery import GalleryFilters

# What each page reads: its view's request.GET, its filter form, Django's admin changelist.
PAGE_PARAMETERS = {
    "login": ["next"],
    "studio:dashboard": ["reuse"],
    "api:healthz": ["check"],
    "studio:gallery": [*GalleryFilters.base_fields, "after"],
    "studio:video": ["download"],
    "studio:review-next": ["after"],
    "studio:library-pictures": ["show", "page"],
    "api:generations": ["limit"],
    "studio:compare": ["ids"],
    "admin:generations_generation_changelist": ["q", "o", "p", "lora", "created_at__year"],
    "admin:generations_lorapreset_changelist": ["q"],
    "admin:generations_promptpreset_changelist": ["q"],
}

# Sent to every page, in case one reads a parameter its list does not name.
GENERIC_PARAMETERS = [
    "q",
    "after",
    "before",
    "page",
    "limit",
    "ids",
    "status",
    "owner",
    "lora",
    "from",
    "to",
    "sort",
    "reuse",
    "check",
    "next",
    "download",
]

# As they travel in a URL: percent-encoded UTF-8, or bytes that are no UTF-8 at all.
HOSTILE_VALUES = {
    "60,000 characters": "x" * 60_000,
    "1,100 words": quote(" ".join(f"w{n}" for n in range(1_100))),
    "a word for a number": "abc",
    "a negative number": "-1",
    "a float beyond the largest": "1e309",
    "not a number": "NaN",
    "an integer beyond 64 bits": "9" * 30,
    "a superscript digit": quote("²"),
    "emoji": quote("🎬👩🏽‍🎨"),
    "right-to-left text": quote("\u202eمرحبا"),
    "a NUL byte": "a%00b",
    "a lone surrogate": "%ED%A0%80",
    "nothing": "",
}

# healthz answers 503 when a check fails, as it should: no cluster runs in these tests.
EXPECTED_ANSWERS = {"api:healthz": 503}


def named_patterns(resolver=None, namespace=""):
    """{name as reverse() takes it: pattern} for every named URL pattern, included ones too."""
    patterns = {}
    for pattern in (resolver or get_resolver()).url_patterns:
        if isinstance(pattern, URLResolver):
            inner = f"{namespace}{pattern.namespace}:" if pattern.namespace else namespace
            patterns |= named_patterns(pattern, inner)
        elif pattern.name:
            patterns[f"{namespace}{pattern.name}"] = pattern
    return patterns


@pytest.fixture
def rows(finished, source_image, admin_user):
    """One real row of each kind a URL names."""
    batch = Batch.objects.create(owner=finished.owner)
    Generation.objects.filter(pk=finished.pk).update(batch=batch)
    return {
        "generation": finished,
        "batch": batch,
        "picture": source_image,
        "lora": LoraPreset.objects.create(name="Painting", path="Remade-AI/Painting"),
        "prompt": PromptPreset.objects.create(name="Dusk", prompt="dusk", created_by=admin_user),
    }


@pytest.fixture(autouse=True)
def refused_api_probe(settings):
    """healthz's probe of the API is refused at once instead of waiting for a timeout."""
    settings.WAN_API_BASE_URL = "http://127.0.0.1:9"


def sample_url(name, pattern, rows):
    """The URL `name` gives for the rows made for the test."""
    samples = {
        "pk": sample_pk(name, rows),
        "name": rows["generation"].video.name,
        "token": signing.dumps(rows["picture"].pk, salt=SOURCE_LINK_SALT),
        "app_label": "generations",
        "id": rows["generation"].owner_id,
        "content_type_id": ContentType.objects.get_for_model(Generation).pk,
        "object_id": admin_object_id(pattern, rows),
    }
    return reverse(name, kwargs={key: samples[key] for key in pattern.pattern.regex.groupindex})


def sample_pk(name, rows):
    for kind in ("picture", "lora", "prompt"):
        if name.startswith(f"studio:library-{kind}"):
            return rows[kind].pk
    return rows["batch"].pk if name == "studio:batch" else rows["generation"].pk


def admin_object_id(pattern, rows):
    """A row of the model an admin URL is for; a generation for "view on site"."""
    model_admin = getattr(pattern.callback, "model_admin", None)
    if model_admin is None:
        return rows["generation"].pk
    return model_admin.model._default_manager.values_list("pk", flat=True).first() or 1


def page_queries(parameter):
    """(what is sent, query string): the parameter alone with each hostile value, then twice.
    Alone, so that a value one parameter refuses cannot hide what another does with its own."""
    for label, value in HOSTILE_VALUES.items():
        yield f"{parameter} = {label}", f"{parameter}={value}"
    yield f"{parameter} twice", f"{parameter}=1&{parameter}=2"


def generic_query(index):
    """(what is sent, query string): every generic parameter twice, 1 and then a hostile value
    dealt from the index'th on, so that over the walk each parameter meets every value."""
    labels, values = list(HOSTILE_VALUES), list(HOSTILE_VALUES.values())
    dealt = {name: (index + n) % len(values) for n, name in enumerate(GENERIC_PARAMETERS)}
    return (
        "generic parameters: " + ", ".join(f"{name} = {labels[v]}" for name, v in dealt.items()),
        "&".join(f"{name}=1&{name}={values[v]}" for name, v in dealt.items()),
    )


def server_errors(browser, name, url, queries):
    """What each query made the page answer with a server error."""
    errors = []
    for sent, query in queries:
        response = browser.get(f"{url}?{query}")
        if response.status_code >= 500 and response.status_code != EXPECTED_ANSWERS.get(name):
            error = response.exc_info[1] if response.exc_info else response.status_code
            errors.append(f"{url} with {sent}: {error!r:.150}")
    return errors


@pytest.fixture
def reporting_client_for(client_for):
    """client_for, with an exception answered as the 500 it is (to report, not to raise)."""
    return partial(client_for, raise_request_exception=False)


def test_no_parameter_a_page_reads_answers_500(rows, reporting_client_for, admin_user):
    """An admin, who may open every page, sends each parameter it reads."""
    browser, patterns = reporting_client_for(admin_user), named_patterns()
    failures = []
    for name, parameters in PAGE_PARAMETERS.items():
        url = sample_url(name, patterns[name], rows)
        for parameter in parameters:
            failures += server_errors(browser, name, url, page_queries(parameter))
    assert not failures, "\n".join(failures)


@pytest.mark.parametrize("role", ["admin", "member"])
def test_no_url_answers_500_to_the_generic_parameters(
    rows, reporting_client_for, user, admin_user, role
):
    """Every URL pattern, GET-able or not, as each role (a member meets the refusals)."""
    browser = reporting_client_for(admin_user if role == "admin" else user)
    failures = []
    for index, (name, pattern) in enumerate(named_patterns().items()):
        url = sample_url(name, pattern, rows)
        failures += server_errors(browser, name, url, [generic_query(index)])
    assert not failures, "\n".join(failures)
