"""WanStudio settings: everything comes from environment variables with laptop-safe defaults,
one block per concern. Every variable is listed in README.md; production sets DJANGO_DEBUG=0,
SECRET_KEY and WAN_API_KEY.
"""

import json
import os
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent


def env_str(name, default=""):
    return os.environ.get(name, default)


def env_bool(name, default):
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    return value.strip().lower() in ("1", "true", "yes", "on")


def env_int(name, default):
    value = os.environ.get(name)
    return int(value) if value else default


def env_float(name, default):
    value = os.environ.get(name)
    return float(value) if value else default


def env_list(name, default):
    value = os.environ.get(name)
    return [item.strip() for item in value.split(",") if item.strip()] if value else default


# --- where the studio runs --------------------------------------------------------------------
DEBUG = env_bool("DJANGO_DEBUG", True)
VAR_DIR = Path(env_str("WANSTUDIO_VAR_DIR", str(BASE_DIR / "var")))
# `make run` is a real instance on one machine: runstudio sets WANSTUDIO_LOCAL=1 (and DEBUG off)
# for the processes it starts, which then serve plain HTTP and may use the simulator.
WANSTUDIO_LOCAL = env_bool("WANSTUDIO_LOCAL", False)
# HTTPS-only cookies, redirects and HSTS: for a deployment behind a TLS proxy (docs/deploy.md).
WANSTUDIO_HTTPS = env_bool("WANSTUDIO_HTTPS", not DEBUG and not WANSTUDIO_LOCAL)

SECRET_KEY = env_str("SECRET_KEY")
# `make run` generates a key once into this file; every process on this machine then signs
# with it (a deployment gives SECRET_KEY, the same on every host).
SECRET_KEY_FILE = VAR_DIR / "secret_key"
if not SECRET_KEY and (DEBUG or WANSTUDIO_LOCAL) and SECRET_KEY_FILE.exists():
    SECRET_KEY = SECRET_KEY_FILE.read_text().strip()
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured("SECRET_KEY must be set when DJANGO_DEBUG=0")
    SECRET_KEY = "insecure-local-development-key-do-not-use-in-production"

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["127.0.0.1", "localhost", "[::1]"])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])

# --- HTTPS (a deployment behind a TLS proxy) --------------------------------------------------
# htmx sends the CSRF token from the page (hx-headers), so scripts never need the cookie.
CSRF_COOKIE_HTTPONLY = True
SESSION_COOKIE_HTTPONLY = True
if WANSTUDIO_HTTPS:
    SESSION_COOKIE_SECURE = env_bool("SECURE_COOKIES", True)
    CSRF_COOKIE_SECURE = env_bool("SECURE_COOKIES", True)
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
    SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 60 * 60 * 24 * 30)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", True)
    SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", True)
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

# --- apps, requests and pages -----------------------------------------------------------------
INSTALLED_APPS = [
    "studio",  # first: its templates (registration/, error pages) win over contrib's
    "api",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django_htmx",
    "django_q",
    "generations",
    "axes",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "api.auth.ApiTokenMiddleware",
    "django.contrib.auth.middleware.LoginRequiredMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "csp.middleware.CSPMiddleware",
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "wanstudio.urls"
WSGI_APPLICATION = "wanstudio.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "studio.context_processors.studio",
            ],
        },
    },
    {  # the gallery's tiles only (studio/jinja2/, studio/jinja.py says why)
        "BACKEND": "django.template.backends.jinja2.Jinja2",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {"environment": "studio.jinja.environment"},
    },
]
# Form fields from Django's Jinja2 copies of its widget templates (lib/form_renderer.py).
FORM_RENDERER = "lib.form_renderer.JinjaFirst"

LANGUAGE_CODE = "en-us"
TIME_ZONE = env_str("TIME_ZONE", "UTC")
USE_I18N = True
USE_TZ = True


# --- database ---------------------------------------------------------------------------------
def database_from_env():
    url = env_str("DATABASE_URL") or f"sqlite:///{VAR_DIR / 'wanstudio.sqlite3'}"
    config = dj_database_url.parse(
        url, conn_max_age=env_int("DB_CONN_MAX_AGE", 0), conn_health_checks=True
    )
    if config["ENGINE"] == "django.db.backends.sqlite3":
        # WAL lets readers run beside the writer; IMMEDIATE takes the write lock at BEGIN,
        # so the cluster's ORM broker and the web app queue for it instead of failing with
        # "database is locked" halfway through a transaction.
        config["OPTIONS"] = {
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
            "transaction_mode": "IMMEDIATE",
            "timeout": env_int("SQLITE_BUSY_TIMEOUT", 30),
        }
    return config


DATABASES = {"default": database_from_env()}

# Pages read fresh for every request; the cache holds only the login throttle's and the
# health check's own short-lived counters.
CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- accounts and logins ----------------------------------------------------------------------
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "studio:dashboard"
LOGOUT_REDIRECT_URL = "login"

# Login throttling (django-axes): too many failed logins for one name from one address lock
# that pair out for a while; the lockout page says so plainly.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "generations.roles.PermissionsBackend",
]
LOGIN_FAILURE_LIMIT = env_int("LOGIN_FAILURE_LIMIT", 5)
LOGIN_LOCKOUT_MINUTES = env_int("LOGIN_LOCKOUT_MINUTES", 15)
AXES_FAILURE_LIMIT = LOGIN_FAILURE_LIMIT
AXES_COOLOFF_TIME = timedelta(minutes=LOGIN_LOCKOUT_MINUTES)
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_VERBOSE = False  # lockouts are still logged, as warnings
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
AXES_COOLOFF_MESSAGE = (
    f"Too many failed logins: this account is locked for {LOGIN_LOCKOUT_MINUTES} minutes "
    "from your address. Try again later, or ask an admin to unlock it."
)

# --- static files, media and the bucket -------------------------------------------------------
STATIC_URL = "/static/"
STATIC_ROOT = Path(env_str("STATIC_ROOT", str(VAR_DIR / "staticfiles")))
MEDIA_URL = "/media/"
MEDIA_ROOT = Path(env_str("MEDIA_ROOT", str(VAR_DIR / "media")))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if DEBUG
        else "whitenoise.storage.CompressedManifestStaticFilesStorage"
    },
}
# With S3_BUCKET, media lives in an S3-compatible bucket shared by every host: the API fetches
# source pictures by presigned links, posters are shown by presigned links, and videos are
# streamed through the studio in byte ranges (docs/deploy.md says why).
S3_BUCKET = env_str("S3_BUCKET")
MEDIA_LINK_MAX_AGE = env_int("MEDIA_LINK_MAX_AGE", 3600)
if S3_BUCKET:
    STORAGES["default"] = {
        "BACKEND": "lib.object_storage.MediaBucketStorage",
        "OPTIONS": {
            "bucket_name": S3_BUCKET,
            "endpoint_url": env_str("S3_ENDPOINT_URL") or None,
            "region_name": env_str("S3_REGION", "us-east-1"),
            # Empty keys fall back to boto3's own chain (AWS_* variables, profiles, roles).
            "access_key": env_str("S3_ACCESS_KEY_ID") or None,
            "secret_key": env_str("S3_SECRET_ACCESS_KEY") or None,
            "addressing_style": env_str("S3_ADDRESSING_STYLE") or None,
            "location": env_str("S3_PREFIX"),
            "signature_version": "s3v4",
            "querystring_expire": MEDIA_LINK_MAX_AGE,
            "default_acl": None,
        },
    }
    # Browsers load posters and pictures from the bucket by presigned links (CSP img-src),
    # addressed by path or by virtual host.
    _hosts = ["s3.amazonaws.com", f"s3.{env_str('S3_REGION', 'us-east-1')}.amazonaws.com"]
    if env_str("S3_ENDPOINT_URL"):
        _hosts = [urlsplit(env_str("S3_ENDPOINT_URL")).netloc]
    _scheme = urlsplit(env_str("S3_ENDPOINT_URL") or "https:").scheme
    MEDIA_ORIGINS = [
        f"{_scheme}://{name}{host}" for host in _hosts for name in ("", f"{S3_BUCKET}.")
    ]
else:
    MEDIA_ORIGINS = []

# --- uploads and links the API fetches --------------------------------------------------------
# Uploads: pictures above this size are refused before Pillow decodes them.
UPLOAD_MAX_BYTES = env_int("UPLOAD_MAX_BYTES", 20 * 1024 * 1024)
DATA_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024

# The address the API's servers use to fetch source pictures (signed, short-lived links).
PUBLIC_BASE_URL = env_str("PUBLIC_BASE_URL", "http://127.0.0.1:8000").rstrip("/")
SOURCE_LINK_MAX_AGE = env_int("SOURCE_LINK_MAX_AGE", 3600)

# --- the Wan API and what it costs ------------------------------------------------------------
# The hosted Wan 2.1 API. Without a key the studio talks to its own simulator (wansim).
WAN_API_KEY = env_str("WAN_API_KEY")
# Production refuses to start without its secrets, which only ever come from the environment;
# `make run` without a key talks to the simulator it starts.
if not DEBUG and not WAN_API_KEY and not WANSTUDIO_LOCAL:
    raise ImproperlyConfigured("WAN_API_KEY must be set when DJANGO_DEBUG=0 (outside make run)")
WANSIM_PORT = env_int("WANSIM_PORT", 8001)
WANSIM_API_KEY = "sim-key"
WAN_API_BASE_URL = env_str(
    "WAN_API_BASE_URL",
    # The host of the vendor documentation the studio follows; https://api.novita.ai serves
    # the same API.
    "https://api.highwayapi.ai" if WAN_API_KEY else f"http://127.0.0.1:{WANSIM_PORT}",
).rstrip("/")
WAN_CONNECT_TIMEOUT = env_float("WAN_CONNECT_TIMEOUT", 5.0)
WAN_READ_TIMEOUT = env_float("WAN_READ_TIMEOUT", 30.0)
# The real API allows 20 requests a minute per account; submits and polls share it.
WAN_API_RATE_PER_MINUTE = env_int("WAN_API_RATE_PER_MINUTE", 20)
WAN_SUBMIT_MAX_TRIES = env_int("WAN_SUBMIT_MAX_TRIES", 8)
WAN_POLL_MIN_SECONDS = env_float("WAN_POLL_MIN_SECONDS", 3.0)
WAN_POLL_MAX_SECONDS = env_float("WAN_POLL_MAX_SECONDS", 30.0)
# How long a 480p task usually takes (720p 2.5x, fast_mode half): the first poll waits for it.
WAN_TASK_SECONDS = env_float("WAN_TASK_SECONDS", 60.0)
# When the API can reach the studio at PUBLIC_BASE_URL: each submit asks for a callback, which
# makes its task due for a poll at once; polling then only backs it up, at a slower pace.
WAN_WEBHOOKS = env_bool("WAN_WEBHOOKS", False)
WAN_MAX_VIDEO_BYTES = env_int("WAN_MAX_VIDEO_BYTES", 1024 * 1024 * 1024)

# What one video costs, per clarity and with fast mode; a JSON object in the environment.
WAN_PRICE_TABLE = json.loads(
    env_str("WAN_PRICE_TABLE")
    or '{"480p": "0.20", "480p_fast": "0.12", "720p": "0.40", "720p_fast": "0.25"}'
)
WAN_PRICE_CURRENCY = env_str("WAN_PRICE_CURRENCY", "USD")

# --- background jobs --------------------------------------------------------------------------
# django-q2: the ORM broker by default, Redis when REDIS_URL is set. The Generation rows,
# not the broker, decide what happens: a lost or repeated job is repaired by reconcile.
REDIS_URL = env_str("REDIS_URL")
Q_CLUSTER = {
    # Studios sharing one Redis need a name each (Q_CLUSTER_NAME means something else to django-q2).
    "name": env_str("Q_NAME", "wanstudio"),
    "workers": env_int("Q_WORKERS", 4),
    "timeout": env_int("Q_TIMEOUT", 600),
    "retry": env_int("Q_TIMEOUT", 600) + 60,
    "max_attempts": 3,
    "ack_failures": True,
    "catch_up": False,
    "save_limit": 250,
    "label": "Background jobs",
}
if REDIS_URL:
    Q_CLUSTER["redis"] = REDIS_URL
else:
    Q_CLUSTER["orm"] = "default"
    Q_CLUSTER["poll"] = 0.2

# --- notifications out: e-mail and people's webhooks ------------------------------------------
# Without EMAIL_HOST, e-mails are printed by the process that sends them (`make run`'s log).
EMAIL_HOST = env_str("EMAIL_HOST")
EMAIL_PORT = env_int("EMAIL_PORT", 587)
EMAIL_HOST_USER = env_str("EMAIL_HOST_USER")
EMAIL_HOST_PASSWORD = env_str("EMAIL_HOST_PASSWORD")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", not env_bool("EMAIL_USE_SSL", False))
EMAIL_USE_SSL = env_bool("EMAIL_USE_SSL", False)
EMAIL_TIMEOUT = env_int("EMAIL_TIMEOUT", 10)
EMAIL_BACKEND = (
    "django.core.mail.backends.smtp.EmailBackend"
    if EMAIL_HOST
    else "django.core.mail.backends.console.EmailBackend"
)
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "WanStudio <wanstudio@localhost>")
# People's webhooks go to public addresses only, so an account cannot make the studio send
# requests into its own network; a laptop (or a team whose receivers are inside) may allow it.
NOTIFY_PRIVATE_WEBHOOKS = env_bool("NOTIFY_PRIVATE_WEBHOOKS", DEBUG or WANSTUDIO_LOCAL)
NOTIFY_WEBHOOK_TIMEOUT = env_float("NOTIFY_WEBHOOK_TIMEOUT", 5.0)

# --- content security policy ------------------------------------------------------------------
# Content-Security-Policy (django-csp): no inline script or style anywhere, no eval.
# htmx is loaded from a file and told not to inject its indicator <style> (see base.html).
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        # blob: lets the form preview the picture a person just chose, before uploading it.
        "img-src": ["'self'", "data:", "blob:", *MEDIA_ORIGINS],
        "media-src": ["'self'"],
        "connect-src": ["'self'"],
        "font-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'none'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    }
}

# --- logging ----------------------------------------------------------------------------------
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
    "loggers": {"urllib3": {"level": "WARNING"}},
}
