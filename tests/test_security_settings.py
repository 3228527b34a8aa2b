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
    " 'SECURE_SSL_REDIRECT', 'SECURE_HSTS_SECONDS', 'SECRET_KEY', 'WAN_API_KEY', 'DEBUG']}))"
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


def manage(env, *args):
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_check_deploy_is_clean_in_production(production_env):
    result = manage(production_env, "check", "--deploy", "--fail-level", "WARNING")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_production_cookies_are_secure_and_secrets_come_from_the_environment(production_env):
    result = manage(production_env, "shell", "-c", SHOW_SETTINGS)
    assert result.returncode == 0, result.stderr
    shown = json.loads(result.stdout.strip().splitlines()[-1])
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


@pytest.mark.parametrize(
    "variable, value, message",
    [
        # the live queue's poll (2 s) would outlast its read
        ("LIVE_QUEUE_FRESHNESS", "2", "must be at least 0 and below 2"),
        ("LIVE_QUEUE_FRESHNESS", "-1", "must be at least 0 and below 2"),
        ("GALLERY_FRESHNESS", "11", "must be at least 0 and at most 10"),
        ("GALLERY_FRESHNESS", "-1", "must be at least 0 and at most 10"),
    ],
)
def test_a_shared_read_freshness_out_of_range_is_refused(production_env, variable, value, message):
    production_env[variable] = value
    result = manage(production_env, "check")
    assert result.returncode != 0
    assert f"{variable} {message}" in result.stderr


def test_no_secret_is_written_in_the_settings_file():
    source = (ROOT / "wanstudio" / "settings.py").read_text()
    assert not re.search(r"sk-[A-Za-z0-9]{16,}", source)
    assert 'WAN_API_KEY = env_str("WAN_API_KEY")' in source
