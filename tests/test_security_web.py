"""Web security: CSP without inline script, CSRF on every form and htmx request, login
throttling, and the API key never shown."""

import re
from html.parser import HTMLParser

import pytest
from django.test import Client
from django.views.debug import SafeExceptionReporterFilter

from generations.models import Generation

from .support import PASSWORD

API_KEY = "sk-live-0f9e8d7c6b5a4f3e2d1c"


@pytest.fixture
def generation(make_generation):
    return make_generation(prompt="waves")


class InlineCode(HTMLParser):
    """Collects what a CSP without 'unsafe-inline' would block in a page."""

    def __init__(self):
        super().__init__()
        self.found = []
        self._in_script = False

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        if tag == "script":
            self._in_script = True
            if not attributes.get("src"):
                self.found.append("a <script> without src")
        if tag == "style":
            self.found.append("a <style> element")
        for name, value in attrs:
            if name.startswith("on"):
                self.found.append(f"an inline handler {name}= on <{tag}>")
            if name == "style":
                self.found.append(f"a style= attribute on <{tag}>")
            if name in ("href", "src", "action") and (value or "").startswith("javascript:"):
                self.found.append(f"a javascript: URL on <{tag}>")
            if name.startswith("hx-on"):
                self.found.append(f"{name}= (htmx evaluates it as script)")

    def handle_endtag(self, tag):
        if tag == "script":
            self._in_script = False

    def handle_data(self, data):
        if self._in_script and data.strip():
            self.found.append(f"inline script code: {data.strip()[:60]}")


def inline_code(html):
    parser = InlineCode()
    parser.feed(html)
    return parser.found


def studio_pages(generation):
    return ["/", f"/generations/{generation.pk}/"]


def admin_pages(generation):
    return [
        "/admin/",
        "/admin/generations/generation/",
        f"/admin/generations/generation/{generation.pk}/change/",
        "/admin/generations/sourceimage/",
    ]


# --- Content-Security-Policy ------------------------------------------------------------


def policy(response):
    return dict(
        (part.split(" ", 1) + [""])[:2]
        for part in (p.strip() for p in response["Content-Security-Policy"].split(";"))
        if part
    )


def test_pages_carry_a_policy_without_inline_script_or_eval(member_client, generation):
    for path in ["/login/", *studio_pages(generation)]:
        directives = policy(member_client.get(path))
        assert directives["script-src"] == "'self'", path
        assert directives["style-src"] == "'self'", path
        assert directives["object-src"] == "'none'"
        assert directives["frame-ancestors"] == "'none'"
        assert "unsafe" not in " ".join(directives.values())


def test_the_login_page_has_no_inline_code(client, db):
    response = client.get("/login/")
    assert inline_code(response.content.decode()) == []


def test_studio_pages_have_no_inline_code(member_client, generation):
    for path in studio_pages(generation):
        response = member_client.get(path)
        assert response.status_code == 200, path
        assert inline_code(response.content.decode()) == [], path


def test_htmx_partials_have_no_inline_code(member_client, generation):
    for path in [f"/generations/{generation.pk}/", "/generations/rows/"]:
        response = member_client.get(path, HTTP_HX_REQUEST="true")
        assert inline_code(response.content.decode()) == [], path


def test_admin_pages_have_no_inline_script(client_for, superuser, generation):
    root = client_for(superuser)
    for path in admin_pages(generation):
        response = root.get(path)
        assert response.status_code == 200, path
        scripts = [found for found in inline_code(response.content.decode()) if "script" in found]
        assert scripts == [], path


def test_htmx_is_told_not_to_inject_styles_or_eval(member_client):
    html = member_client.get("/").content.decode()
    config = re.search(r"<meta name=\"htmx-config\" content='([^']*)'>", html)
    assert config, "base.html lacks the htmx-config meta"
    assert '"includeIndicatorStyles": false' in config[1]
    assert '"allowEval": false' in config[1]


# --- CSRF --------------------------------------------------------------------------------


@pytest.fixture
def strict_client(client_for, user):
    """maya's browser, with the CSRF checks the test Client skips by default."""
    return client_for(user, enforce_csrf_checks=True)


def page_token(client):
    html = client.get("/").content.decode()
    match = re.search(r"hx-headers='\{\"X-CSRFToken\": \"([^\"]+)\"\}'", html)
    assert match, "the page does not hand htmx a CSRF token"
    return match[1]


def test_a_form_post_without_a_token_is_refused(strict_client, media_root):
    response = strict_client.post("/", {"prompt": "no token"})
    assert response.status_code == 403
    assert not Generation.objects.exists()


def test_an_htmx_post_sending_the_pages_token_passes(strict_client, generation):
    token = page_token(strict_client)

    response = strict_client.post(
        f"/generations/{generation.pk}/cancel/", HTTP_X_CSRFTOKEN=token, HTTP_HX_REQUEST="true"
    )

    assert response.status_code != 403
    generation.refresh_from_db()
    assert generation.status == "canceled"


@pytest.mark.parametrize("action", ["cancel", "retry", "submit-again"])
def test_generation_actions_without_a_token_are_refused(strict_client, generation, action):
    response = strict_client.post(f"/generations/{generation.pk}/{action}/")
    assert response.status_code == 403
    generation.refresh_from_db()
    assert generation.status == "queued"


def test_logging_in_without_a_token_is_refused(user):
    client = Client(enforce_csrf_checks=True)
    response = client.post("/login/", {"username": "maya", "password": PASSWORD})
    assert response.status_code == 403


def test_the_json_api_with_a_session_cookie_still_needs_a_csrf_token(strict_client, media_root):
    response = strict_client.post("/api/generations/", {"prompt": "cookie only"})
    assert response.status_code == 403


def test_the_json_api_with_a_session_cookie_refuses_a_valid_request_too(
    strict_client, source_image
):
    response = strict_client.post(
        "/api/generations/", data={"prompt": "x", "source_image": source_image.pk}
    )

    assert response.status_code == 403


def test_the_json_api_with_a_token_needs_no_csrf_token(api_client_for, user, media_root):
    client = api_client_for(user, enforce_csrf_checks=True)

    response = client.post("/api/generations/", {"prompt": "token"})

    assert response.status_code == 400  # judged on its fields, not refused for CSRF
    assert "image" in response.json()["errors"]


def test_a_wrong_api_token_does_not_fall_back_to_the_session(strict_client, media_root):
    response = strict_client.post(
        "/api/generations/", {"prompt": "x"}, HTTP_AUTHORIZATION="Token not-a-real-key"
    )
    assert response.status_code in (401, 403)


# --- login throttling -------------------------------------------------------------------


def fail_logins(client, username, times, path="/login/"):
    for _ in range(times):
        response = client.post(path, {"username": username, "password": "wrong-password"})
    return response


def test_repeated_failed_logins_lock_the_account_with_a_clear_message(client, user, settings):
    fail_logins(client, "maya", settings.AXES_FAILURE_LIMIT - 1)

    locked = client.post("/login/", {"username": "maya", "password": "wrong-password"})
    with_right_password = client.post("/login/", {"username": "maya", "password": PASSWORD})

    assert locked.status_code == 429
    assert with_right_password.status_code == 429
    assert "Too many failed logins" in with_right_password.content.decode()
    assert "_auth_user_id" not in client.session


def test_the_admin_login_is_throttled_too(client, superuser, settings):
    response = fail_logins(client, "root", settings.AXES_FAILURE_LIMIT, "/admin/login/")
    assert response.status_code == 429


def test_a_lockout_is_per_account_and_address(client, user, other_user, settings):
    fail_logins(client, "maya", settings.AXES_FAILURE_LIMIT)

    response = client.post("/login/", {"username": "noor", "password": PASSWORD})

    assert response.status_code == 302


def test_a_good_login_before_the_limit_resets_the_count(client, user, settings):
    fail_logins(client, "maya", settings.AXES_FAILURE_LIMIT - 1)
    assert client.post("/login/", {"username": "maya", "password": PASSWORD}).status_code == 302
    client.logout()

    response = fail_logins(client, "maya", settings.AXES_FAILURE_LIMIT - 1)

    assert response.status_code == 200  # the form again, not a lockout


# --- the API key --------------------------------------------------------------------------


def test_the_api_key_is_masked_in_error_reports(settings):
    settings.WAN_API_KEY = API_KEY
    safe = SafeExceptionReporterFilter().get_safe_settings()
    assert API_KEY not in repr(safe)
    assert safe["WAN_API_KEY"] != API_KEY


def test_the_api_key_is_in_no_page_or_admin_page(client_for, superuser, generation, settings):
    settings.WAN_API_KEY = API_KEY
    root = client_for(superuser)
    for path in ["/", *studio_pages(generation), *admin_pages(generation), "/api/generations/"]:
        assert API_KEY not in root.get(path).content.decode(), path
