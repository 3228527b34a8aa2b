"""`make run` is a real instance: DEBUG off, styled error pages, plain HTTP on BIND, a secret
key kept in var/, and Ctrl-C stops every process it started within the grace period."""

import os
import re
import signal
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests
from django.test import RequestFactory
from django.views.defaults import server_error

from generations.management.commands.runstudio import STOP_GRACE_SECONDS, ensure_secret_key
from lib.launcher import answers, free_port, wait_until

from .support.pictures import picture_bytes

# `make run` on a fresh machine keeps its data in a SQLite file of its own whatever DATABASE_URL
# and REDIS_URL say (NOT_INHERITED below): the PostgreSQL pass of make test would only repeat it.
pytestmark = pytest.mark.skipif(
    bool(os.environ.get("DATABASE_URL")), reason="runs once, in the SQLite pass of make test"
)

ROOT = Path(__file__).resolve().parent.parent
ADMIN_PASSWORD = "a-long-admin-password-for-make-run"
# What the caller's shell may hold that would change what `make run` does.
NOT_INHERITED = [
    "DJANGO_DEBUG",
    "SECRET_KEY",
    "WANSTUDIO_LOCAL",
    "WANSTUDIO_HTTPS",
    "ALLOWED_HOSTS",
    "PUBLIC_BASE_URL",
    "DATABASE_URL",
    "REDIS_URL",
    "S3_BUCKET",
    "STATIC_ROOT",
    "MEDIA_ROOT",
    "WAN_API_KEY",
    "WAN_API_BASE_URL",
    "SECURE_COOKIES",
    "SECURE_SSL_REDIRECT",
]


class RunStudio:
    """`python manage.py runstudio` as `make run` starts it, with a var dir of its own."""

    def __init__(self, var_dir):
        self.var_dir = Path(var_dir)
        self.var_dir.mkdir(parents=True, exist_ok=True)
        self.port = free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        self.sim_port = free_port()
        self.process = None

    def env(self):
        env = {name: value for name, value in os.environ.items() if name not in NOT_INHERITED}
        env.update(
            WANSTUDIO_VAR_DIR=str(self.var_dir),
            BIND=f"127.0.0.1:{self.port}",
            WANSIM_PORT=str(self.sim_port),
            DJANGO_SUPERUSER_PASSWORD=ADMIN_PASSWORD,
            Q_WORKERS="2",
            PYTHONUNBUFFERED="1",
            # The simulator and the polls at test speed.
            WANSIM_QUEUE_SECONDS="0.5",
            WANSIM_PROCESS_SECONDS="2",
            WAN_TASK_SECONDS="2.5",  # the first poll waits this long: the real API's would be ~60 s
            WAN_POLL_MIN_SECONDS="0.5",
            WAN_POLL_MAX_SECONDS="2",
            WAN_API_RATE_PER_MINUTE="600",
        )
        return env

    @property
    def running(self):
        return self.process is not None and self.process.poll() is None

    def start(self):
        with open(self.var_dir / "runstudio.log", "ab") as log:
            self.process = subprocess.Popen(
                [sys.executable, "manage.py", "runstudio"],
                cwd=ROOT,
                env=self.env(),
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # the test's Ctrl-C is its own
            )
        wait_until(lambda: answers(self.base_url + "/login/"), 120, "make run's web server")

    def output(self):
        return (self.var_dir / "runstudio.log").read_text(errors="replace")

    def interrupt(self):
        """Ctrl-C, as the terminal sends it to runstudio."""
        self.process.send_signal(signal.SIGINT)
        return self.process.wait(timeout=STOP_GRACE_SECONDS + 20)

    def manage(self, *args):
        """A command run beside the instance, on the same machine and settings."""
        env = {**self.env(), "DJANGO_DEBUG": "0", "WANSTUDIO_LOCAL": "1"}
        result = subprocess.run(
            [sys.executable, "manage.py", *args],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert result.returncode == 0, result.stderr
        return result.stdout.strip()

    def enqueue(self, function, *args):
        """A job for its cluster, enqueued by another process."""
        self.manage(
            "shell",
            "-c",
            f"from django_q.tasks import async_task; async_task({function!r}, *{args!r})",
        )

    def log_in(self):
        session = requests.Session()
        page = session.get(self.base_url + "/login/", timeout=10)
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text).group(1)
        answer = session.post(
            self.base_url + "/login/",
            data={"csrfmiddlewaretoken": token, "username": "admin", "password": ADMIN_PASSWORD},
            allow_redirects=False,
            timeout=10,
        )
        return session, answer


@pytest.fixture(scope="module")
def make_run(tmp_path_factory):
    studio = RunStudio(tmp_path_factory.mktemp("make-run"))
    yield studio
    if studio.running:
        os.killpg(studio.process.pid, signal.SIGINT)
        studio.process.wait(timeout=STOP_GRACE_SECONDS + 20)


@pytest.fixture
def studio(make_run):
    if not make_run.running:
        make_run.start()
    return make_run


# --- the process tree, from /proc -------------------------------------------------------


def process_table():
    """(pid, start time) -> (parent pid, process group, state) of every process."""
    table = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            text = (entry / "stat").read_text()
        except OSError:
            continue
        fields = text.rsplit(")", 1)[1].split()  # after the command name, which may hold spaces
        table[(int(entry.name), fields[19])] = (int(fields[1]), int(fields[2]), fields[0])
    return table


def process_tree(root_pid):
    """Everything below `root_pid` (children of children) plus every member of their groups."""
    table = process_table()
    tree = {key for key in table if key[0] == root_pid}
    grown = True
    while grown:
        pids = {pid for pid, _ in tree}
        below = {key for key, (parent, _, _) in table.items() if parent in pids} - tree
        tree |= below
        grown = bool(below)
    groups = {table[key][1] for key in tree}
    return tree | {key for key, (_, group, _) in table.items() if group in groups}, groups


def still_running(tree, groups):
    """Processes of the tree, or of its groups (a process started late), not yet gone.
    Zombies are gone: they only wait for their parent to read their exit status."""
    return {
        key
        for key, (_, group, state) in process_table().items()
        if (key in tree or group in groups) and state != "Z"
    }


# --- the real instance ------------------------------------------------------------------


@pytest.mark.live
def test_make_run_prints_the_first_admins_credentials(studio):
    output = studio.output()
    assert "Created the first admin account:" in output
    assert "username: admin" in output


@pytest.mark.live
def test_a_missing_page_is_the_styled_404_not_the_debug_page(studio):
    answer = requests.get(studio.base_url + "/no-such-page/", timeout=10)
    assert answer.status_code == 404
    assert "Nothing here" in answer.text and "css/studio" in answer.text
    assert "URLconf" not in answer.text and "DEBUG = True" not in answer.text


@pytest.mark.live
def test_static_files_are_served_with_debug_off(studio):
    page = requests.get(studio.base_url + "/login/", timeout=10)
    stylesheet = re.search(r'href="(/static/css/studio\.[0-9a-f]+\.css)"', page.text).group(1)
    answer = requests.get(studio.base_url + stylesheet, timeout=10)
    assert answer.status_code == 200
    assert answer.headers["Content-Type"].startswith("text/css")
    assert ":root" in answer.text


@pytest.mark.live
def test_logging_in_works_over_plain_http(studio):
    session, answer = studio.log_in()
    assert answer.status_code == 302, answer.text[:500]
    assert "Secure" not in answer.headers["Set-Cookie"]
    assert "Strict-Transport-Security" not in answer.headers
    assert session.get(studio.base_url + "/", allow_redirects=False, timeout=10).status_code == 200


@pytest.mark.live
def test_a_generation_goes_through_the_simulator_with_debug_off(studio):
    api = {"Authorization": f"Token {studio.manage('apitoken', 'admin').splitlines()[-1]}"}
    created = requests.post(
        studio.base_url + "/api/generations/",
        headers=api,
        data={"prompt": "a lighthouse at dusk, waves rolling in"},
        files={"image": ("picture.jpg", picture_bytes(), "image/jpeg")},
        timeout=30,
    )
    assert created.status_code == 201, created.text
    detail = f"{studio.base_url}/api/generations/{created.json()['id']}/"

    def finished():
        row = requests.get(detail, headers=api, timeout=10).json()
        return row if row["status"] in ("succeeded", "failed", "needs_attention") else None

    wait_until(finished, 90, "the generation")
    row = finished()
    assert row["status"] == "succeeded", row
    video = requests.get(row["video_url"], headers=api, timeout=30)
    assert video.status_code == 200 and video.content[4:8] == b"ftyp"


@pytest.mark.live
def test_a_restart_reuses_the_secret_key_so_people_stay_logged_in(studio):
    key_file = studio.var_dir / "secret_key"
    key = key_file.read_text()
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    session, _ = studio.log_in()

    assert studio.interrupt() == 0
    studio.start()

    assert key_file.read_text() == key
    assert session.get(studio.base_url + "/", allow_redirects=False, timeout=10).status_code == 200


@pytest.mark.live
def test_ctrl_c_stops_every_process_within_the_grace_period(studio):
    # A job that outlasts the grace period, as a long download would.
    studio.enqueue("time.sleep", 120)
    wait_until(lambda: "'time.sleep'" in studio.output(), 30, "a worker busy with the job")
    tree, groups = process_tree(studio.process.pid)
    assert len(groups) == 4  # runstudio, simulator, cluster, web server: a group each

    started = time.monotonic()
    studio.process.send_signal(signal.SIGINT)
    left = still_running(tree, groups)
    while left and time.monotonic() - started < STOP_GRACE_SECONDS + 10:
        time.sleep(0.1)
        left = still_running(tree, groups)
    stopped_after = time.monotonic() - started

    assert not left, f"still running {stopped_after:.1f} s after Ctrl-C: {sorted(left)}"
    assert stopped_after < STOP_GRACE_SECONDS + 3
    assert studio.process.wait(timeout=5) == 0


# --- the pages, without processes -------------------------------------------------------


def test_the_secret_key_is_generated_once_for_its_owner_only(tmp_path):
    path = tmp_path / "secret_key"
    ensure_secret_key(path)
    key = path.read_text()
    ensure_secret_key(path)
    assert path.read_text() == key and len(key) >= 50
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_the_500_page_needs_neither_a_request_nor_the_database():
    # No `db` fixture: any query would fail the test.
    answer = server_error(RequestFactory().get("/"))
    assert answer.status_code == 500
    assert b"Something went wrong" in answer.content and b"css/studio" in answer.content


def test_a_forbidden_page_is_the_styled_403(client, user):
    client.force_login(user)
    answer = client.get("/library/loras/new/")
    assert answer.status_code == 403
    assert b"Not allowed" in answer.content and b"css/studio" in answer.content


def test_a_missing_page_is_the_styled_404(client, user, settings):
    settings.DEBUG = False
    client.force_login(user)
    answer = client.get("/no-such-page/")
    assert answer.status_code == 404
    assert b"Nothing here" in answer.content and b"Log out maya" in answer.content
