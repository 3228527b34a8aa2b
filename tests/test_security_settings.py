"""Production settings: `check --deploy` is clean, secrets come only from the environment."""

import json
import re
import secrets
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SHOW_SETTINGS = (
    "import json; from django.conf import settings as s; print(json.dumps({name: getattr(s, name)"
    " for name in ['SESSION_COOKIE_SECURE', 'CSRF_COOKIE_SECURE', 'SESSION_COOKIE_HTTPONLY',"
    " 'SECURE_SSL_REDIRECT', 'SECURE_HSTS_SECONDS', 'SECRET_KEY', 'WAN_API_KEY', 'DEBUG',"
    " 'WAN_API_BASE_URL']}))"
)


@pytest.fixture
def production_env(tmp_path):
    """DJANGO_DEBUG=0 and the variables the README documents for production."""
    return {
        "PATH": "/usr/bin:/bin",
        "DJANGO_SETTINGS_MODULE": "wanstudio.settings",
        "DJANGO_DEBUG": "0",
        "SECRET_KEY": secrets.token_urlsafe(50),
        "WAN_API_KEY": "sk-production-key-from-the-environment",
        "ALLOWED_HOSTS": "studio.example.com",
        "CSRF_TRUSTED_ORIGINS": "https://studio.example.com",
        "PUBLIC_BASE_URL": "https://studio.example.com",
        "WANSTUDIO_VAR_DIR": str(tmp_path),
    }


@pytest.fixture
def make_run_env(production_env, tmp_path):
    """What runstudio gives the processes of `make run`: DEBUG off, no key in the environment
    (it kept one in var/), the simulator instead of the API, plain HTTP on 127.0.0.1."""
    (tmp_path / "secret_key").write_text("a-key-make-run-generated-once-" + "k" * 30)
    env = {**production_env, "WANSTUDIO_LOCAL": "1", "WANSIM_PORT": "8123"}
    for name in ("SECRET_KEY", "WAN_API_KEY", "ALLOWED_HOSTS", "CSRF_TRUSTED_ORIGINS"):
        del env[name]
    return env


def manage(env, *args):
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def shown_settings(env):
    result = manage(env, "shell", "-c", SHOW_SETTINGS)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_check_deploy_is_clean_in_production(production_env):
    result = manage(production_env, "check", "--deploy", "--fail-level", "WARNING")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_production_cookies_are_secure_and_secrets_come_from_the_environment(production_env):
    shown = shown_settings(production_env)
    assert shown["DEBUG"] is False
    assert shown["SESSION_COOKIE_SECURE"] and shown["CSRF_COOKIE_SECURE"]
    assert shown["SESSION_COOKIE_HTTPONLY"] and shown["SECURE_SSL_REDIRECT"]
    assert shown["SECURE_HSTS_SECONDS"] > 0
    assert shown["SECRET_KEY"] == production_env["SECRET_KEY"]
    assert shown["WAN_API_KEY"] == production_env["WAN_API_KEY"]


@pytest.mark.parametrize("secret", ["SECRET_KEY", "WAN_API_KEY"])
def test_production_refuses_to_start_without_a_secret(production_env, secret):
    del production_env[secret]
    result = manage(production_env, "check")
    assert result.returncode != 0
    assert f"{secret} must be set when DJANGO_DEBUG=0" in result.stderr


def test_no_secret_is_written_in_the_settings_file():
    source = (ROOT / "wanstudio" / "settings.py").read_text()
    assert not re.search(r"sk-[A-Za-z0-9]{16,}", source)
    assert 'WAN_API_KEY = env_str("WAN_API_KEY")' in source


def test_make_run_serves_plain_http_with_debug_off(make_run_env):
    shown = shown_settings(make_run_env)
    assert shown["DEBUG"] is False
    assert not shown["SESSION_COOKIE_SECURE"] and not shown["CSRF_COOKIE_SECURE"]
    assert not shown["SECURE_SSL_REDIRECT"] and not shown["SECURE_HSTS_SECONDS"]
    assert shown["SESSION_COOKIE_HTTPONLY"]


def test_make_run_signs_with_the_key_it_kept_in_var(make_run_env, tmp_path):
    shown = shown_settings(make_run_env)
    assert shown["SECRET_KEY"] == (tmp_path / "secret_key").read_text()


def test_make_run_without_an_api_key_talks_to_its_simulator(make_run_env):
    assert shown_settings(make_run_env)["WAN_API_BASE_URL"] == "http://127.0.0.1:8123"


def test_make_run_behind_a_tls_proxy_turns_https_on(make_run_env):
    shown = shown_settings({**make_run_env, "WANSTUDIO_HTTPS": "1"})
    assert shown["SESSION_COOKIE_SECURE"] and shown["CSRF_COOKIE_SECURE"]
    assert shown["SECURE_SSL_REDIRECT"] and shown["SECURE_HSTS_SECONDS"] > 0


def test_production_ignores_a_key_kept_in_var(production_env, tmp_path):
    # Every web host and cluster must sign alike: the key comes from the environment.
    (tmp_path / "secret_key").write_text("a-key-make-run-generated-once-" + "k" * 30)
    del production_env["SECRET_KEY"]
    result = manage(production_env, "check")
    assert result.returncode != 0
    assert "SECRET_KEY must be set when DJANGO_DEBUG=0" in result.stderr


@pytest.mark.parametrize(
    "base_url, expected",
    [
        (None, "https://api.highwayapi.ai"),  # the host of the documentation the user follows
        ("https://api.novita.ai", "https://api.novita.ai"),  # the same API, chosen explicitly
    ],
)
def test_with_an_api_key_the_studio_calls_the_named_host(production_env, base_url, expected):
    if base_url:
        production_env["WAN_API_BASE_URL"] = base_url
    assert shown_settings(production_env)["WAN_API_BASE_URL"] == expected
