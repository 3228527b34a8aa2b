"""What every test module may ask for: people in each role and clients logged in as them, a
picture in the library and a generation in any state, a stand-in for the API in the pipeline's
hands, media in a folder or a bucket, the API simulator and a host for its pictures.

Helpers that are not fixtures (pictures made to order, Chromium, the fault tables...) are in
tests/support/; a test module imports from there, never from another test module."""

import pytest
from django.contrib.auth import get_user_model
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.test import Client, override_settings
from django.utils import timezone

from generations import media, pipeline
from generations.models import ApiToken, Generation, SourceImage, Status
from generations.roles import ADMIN, MEMBER, REVIEWER, assign_role
from wansim.server import SimConfig, Simulator
from wansim.testing import StubServer, make_picture

from .support import PASSWORD, stored
from .support.pictures import as_upload, picture_bytes
from .support.simulator import BASELINE

# States in which the API holds a task for the row: it carries the task's id.
WITH_A_TASK = (Status.SUBMITTED, Status.PROCESSING, Status.DOWNLOADING, Status.SUCCEEDED)


@pytest.fixture(autouse=True)
def fast_password_hashing():
    with override_settings(PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"]):
        yield


@pytest.fixture(autouse=True)
def fresh_caches():
    """Each test starts without what an earlier one left in the cache (the login throttle's
    and the health check's counters)."""
    from django.core.cache import caches

    for cache in caches.all():
        cache.clear()


# --- people --------------------------------------------------------------------------------


@pytest.fixture
def make_user(db):
    """make_user(username, role="member", **fields): a person with the password PASSWORD in
    one role ("member", "reviewer", "admin"), or in none with role=None."""

    def make(username, role=MEMBER, **fields):
        person = get_user_model().objects.create_user(username, password=PASSWORD, **fields)
        if role is None:
            person.groups.clear()
        else:
            assign_role(person, role)
        return person

    return make


@pytest.fixture
def user(make_user):
    """maya, a member: the one who makes the generations, unless a test says otherwise."""
    return make_user("maya")


@pytest.fixture
def other_user(make_user):
    """noor, maya's teammate, a member too."""
    return make_user("noor")


@pytest.fixture
def reviewer(make_user):
    """rui, a reviewer."""
    return make_user("rui", REVIEWER)


@pytest.fixture
def admin_user(make_user):
    """ada, an admin (the admin role brings Django's staff flag)."""
    return make_user("ada", ADMIN)


@pytest.fixture
def superuser(db):
    """root, a Django superuser: every permission, whatever the roles say."""
    return get_user_model().objects.create_superuser("root", password=PASSWORD)


# --- clients logged in ---------------------------------------------------------------------


@pytest.fixture
def client_for(db):
    """client_for(person, **options): a new test Client logged in as person; options go to
    Client (enforce_csrf_checks=True, raise_request_exception=False)."""

    def log_in(person, **options):
        browser = Client(**options)
        browser.force_login(person)
        return browser

    return log_in


@pytest.fixture
def member_client(client_for, user):
    return client_for(user)


@pytest.fixture
def reviewer_client(client_for, reviewer):
    return client_for(reviewer)


@pytest.fixture
def admin_client(client_for, admin_user):
    return client_for(admin_user)


@pytest.fixture
def api_client_for(db):
    """api_client_for(person, **options): a test Client sending person's new API token."""

    def with_token(person, **options):
        return Client(HTTP_AUTHORIZATION=f"Token {ApiToken.issue(person).key}", **options)

    return with_token


@pytest.fixture
def api_client(api_client_for, user):
    """The JSON API as maya's scripts call it."""
    return api_client_for(user)


# --- pictures and generations --------------------------------------------------------------


@pytest.fixture
def media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


@pytest.fixture
def make_source_image(db, media_root, user):
    """make_source_image(width, height, colour, name, owner): a picture in the library, stored
    as an upload is (re-encoded; the same pixels twice are one picture). maya's by default."""

    def make(width=640, height=480, colour=(200, 120, 40), name="harbour.jpg", owner=None):
        upload = as_upload(picture_bytes(width, height, colour), name)
        picture = media.reencode_picture(upload, max_bytes=10_000_000)
        return SourceImage.objects.store(picture, name, owner or user)

    return make


@pytest.fixture
def source_image(make_source_image):
    """harbour.jpg, 640×480, uploaded by maya."""
    return make_source_image()


@pytest.fixture
def make_generation(user, source_image):
    """make_generation(owner=maya, *, status=queued, accepted=False, **fields): a generation
    of source_image, prompt "p", stored in `status` with `fields`; in a state where the API
    holds its task it carries an api_task_id (task-<pk> unless given).

    accepted=True first goes the pipeline's way, claim_for_submit then mark_submitted, which
    records the task id and writes the ledger entry, as for a task the API took and billed."""

    def make(owner=None, *, status=None, accepted=False, **fields):
        fields = {"source_image": source_image, "prompt": "p", **fields}
        task_id = fields.pop("api_task_id", None) if accepted else None
        generation = Generation.objects.create_queued(owner=owner or user, **fields)
        if accepted:
            assert generation.claim_for_submit()
            assert generation.mark_submitted(task_id or f"task-{generation.pk}", timezone.now())
        changes = {}
        if status is not None and status != generation.status:
            changes["status"] = status
        if status in WITH_A_TASK and not generation.api_task_id:
            changes["api_task_id"] = f"task-{generation.pk}"
        if changes:
            Generation.objects.filter(pk=generation.pk).update(**changes)
            generation.refresh_from_db()
        return generation

    return make


@pytest.fixture
def finished(make_generation, media_root):
    """maya's succeeded generation with a (tiny, fake) stored video and poster."""
    video = default_storage.save("videos/test.mp4", ContentFile(stored.VIDEO))
    poster = default_storage.save("posters/test.jpg", ContentFile(stored.POSTER))
    return make_generation(status=Status.SUCCEEDED, video=video, poster=poster)


# --- notifications ----------------------------------------------------------------------------


@pytest.fixture
def mail_after(monkeypatch, django_capture_on_commit_callbacks):
    """mail_after(action): run action as a committed request would, then the jobs it queued as a
    worker would; returns the e-mails sent (django.core.mail.outbox)."""
    from django.core import mail

    from generations import jobs, tasks

    queued = []
    monkeypatch.setattr(jobs, "async_task", lambda func, *args, **kw: queued.append((func, args)))

    def run(action):
        with django_capture_on_commit_callbacks(execute=True):
            action()
        while queued:
            func, args = queued.pop(0)
            getattr(tasks, func.rsplit(".", 1)[1])(*args)
        return mail.outbox

    return run


# --- the API, as the pipeline meets it ---------------------------------------------------------


@pytest.fixture
def pipeline_api(monkeypatch):
    """pipeline_api(stand_in): the pipeline talks to stand_in instead of the Wan API, and never
    waits for the rate limit; returns stand_in (tests/support/api_stand_ins.py has some)."""

    def use(stand_in):
        monkeypatch.setattr(pipeline, "api_client", lambda: stand_in)
        monkeypatch.setattr(pipeline, "reserve_api_request", lambda max_wait: True)
        return stand_in

    return use


# --- services on loopback ------------------------------------------------------------------


@pytest.fixture(scope="module")
def picture_host():
    """A web server with pictures (and a few things that are not) for the simulator to fetch."""
    routes = {
        "/landscape.png": (200, "image/png", make_picture(640, 480)),
        "/portrait.jpg": (200, "image/jpeg", make_picture(360, 640, "JPEG")),
        "/square.png": (200, "image/png", make_picture(300, 300)),
        "/forbidden.png": (403, "text/plain", b"forbidden"),
        "/page.html": (200, "text/html", b"<html>not a picture</html>"),
        "/hook": (200, "application/json", b"{}"),
        "/hook-down": (503, "text/html", b"<h1>down</h1>"),
    }
    with StubServer(routes) as server:
        yield server


@pytest.fixture(scope="module")
def simulator():
    """The API simulator on a loopback port, one per module so its render cache stays warm."""
    with Simulator(SimConfig(port=0, **BASELINE)) as running:
        yield running


@pytest.fixture
def sim(simulator):
    """The module's simulator back at BASELINE, with no tasks or stats."""
    simulator.configure(**BASELINE)
    simulator.reset()
    return simulator


@pytest.fixture(scope="module")
def moto(tmp_path_factory):
    """moto's S3 server in its own process, one per module."""
    from .support.s3 import MotoS3  # only tests with a bucket load live_studio's helpers

    server = MotoS3(tmp_path_factory.mktemp("moto"))
    yield server
    server.stop()


@pytest.fixture
def bucket(moto, settings):
    """Media goes to a new bucket of moto's S3 for this test; returns the bucket's name."""
    name = moto.new_bucket()
    settings.STORAGES = {**settings.STORAGES, "default": moto.storage(name)}
    return name
