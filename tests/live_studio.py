"""A whole studio in real processes: simulator, web server and django-q2 cluster on loopback.

Each studio gets its own file SQLite database and media folder, so tests see exactly what a
person running `make run` would.
"""

import json
import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path
from urllib.parse import urlsplit

import psycopg
import redis
import requests

ROOT = Path(__file__).resolve().parent.parent
TERMINAL = {"succeeded", "failed", "canceled", "needs_attention"}


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class LiveStudio:
    def __init__(self, workdir, **extra_env):
        self.workdir = Path(workdir)
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.web_port = free_port()
        self.base_url = f"http://127.0.0.1:{self.web_port}"
        self.extra_env = extra_env
        self.processes = {}
        self.logs = {}
        self.sim_url = None
        self.token = None
        # With DATABASE_URL / REDIS_URL naming servers (make test's second pass), each studio
        # gets a fresh PostgreSQL database and a queue name of its own on the shared Redis.
        self.postgres = PostgresDatabase.fresh_for(os.environ.get("DATABASE_URL", ""))
        self.redis_url = os.environ.get("REDIS_URL", "")
        self.queue_name = f"live-{uuid.uuid4().hex[:10]}"

    # --- processes ---------------------------------------------------------------------

    def env(self):
        env = dict(os.environ)
        env.update(
            DJANGO_SETTINGS_MODULE="wanstudio.settings",
            WANSTUDIO_VAR_DIR=str(self.workdir),
            DATABASE_URL=f"sqlite:///{self.workdir / 'studio.sqlite3'}",
            PUBLIC_BASE_URL=self.base_url,
            WAN_API_BASE_URL=self.sim_url or "",
            WAN_API_RATE_PER_MINUTE="1200",
            WAN_POLL_MIN_SECONDS="0.5",
            WAN_POLL_MAX_SECONDS="2",
            WAN_CONNECT_TIMEOUT="2",
            WAN_READ_TIMEOUT="4",
            WAN_SUBMIT_MAX_TRIES="4",
            Q_WORKERS="3",
            Q_TIMEOUT="60",
            PYTHONUNBUFFERED="1",
        )
        env.pop("WAN_API_KEY", None)
        env.pop("REDIS_URL", None)
        env.pop("S3_BUCKET", None)  # a test that wants a bucket passes its own
        env.update(self.scale_out_env())
        env.update({key: str(value) for key, value in self.extra_env.items()})
        return env

    def scale_out_env(self):
        env = {}
        if self.postgres:
            env["DATABASE_URL"] = self.postgres.url
        if self.redis_url:
            env.update(REDIS_URL=self.redis_url, Q_NAME=self.queue_name)
        return env

    def spawn(self, name, command):
        log = open(self.workdir / f"{name}.log", "ab")
        self.logs[name] = log
        self.processes[name] = subprocess.Popen(
            command,
            cwd=ROOT,
            env=self.env(),
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        return self.processes[name]

    def manage(self, *args):
        result = subprocess.run(
            [sys.executable, "manage.py", *args],
            cwd=ROOT,
            env=self.env(),
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert result.returncode == 0, result.stderr
        return result.stdout.strip()

    def start(self):
        if self.postgres:
            self.postgres.create()
        self.start_simulator()
        self.manage("migrate", "--noinput", "-v", "0")
        self.manage("shell", "-c", CREATE_USER)
        self.token = self.manage("apitoken", "maya")
        self.spawn(
            "web",
            [sys.executable, "manage.py", "runserver", f"127.0.0.1:{self.web_port}", "--noreload"],
        )
        self.start_cluster()
        wait_until(lambda: reachable(self.base_url + "/login/"), 30, "the web server")
        return self

    def start_simulator(self):
        log_path = self.workdir / "simulator.log"
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "wansim",
                "--port",
                "0",
                "--data-dir",
                str(self.workdir / "wansim"),
                "--queue-seconds",
                "0.5",
                "--process-seconds",
                "2",
            ],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=open(log_path, "ab"),
            text=True,
            start_new_session=True,
        )
        self.processes["simulator"] = process
        line = process.stdout.readline()
        assert "listening on" in line, f"simulator did not start: {line!r}"
        self.sim_url = line.strip().rsplit(" ", 1)[-1]

    def start_cluster(self, name="cluster"):
        return self.spawn(name, [sys.executable, "manage.py", "qcluster"])

    def kill_cluster(self):
        """SIGKILL the whole cluster (sentinel and workers), as a crash would."""
        process = self.processes.pop("cluster")
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=10)

    def stop(self):
        for process in reversed(list(self.processes.values())):
            if process.poll() is None:
                try:
                    os.killpg(process.pid, signal.SIGTERM)
                except ProcessLookupError:
                    continue
        # One short deadline for all: a cluster finishing a dispatcher run would take up to a
        # minute to stop gracefully, and nothing after a test needs that.
        deadline = time.monotonic() + 5
        for process in self.processes.values():
            try:
                process.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(timeout=10)
        for log in self.logs.values():
            log.close()
        if self.redis_url:
            connection = redis.from_url(self.redis_url)
            leftovers = list(connection.scan_iter(f"django_q:{self.queue_name}:*"))
            if leftovers:
                connection.delete(*leftovers)
        if self.postgres:
            self.postgres.drop()

    # --- the studio's JSON API ---------------------------------------------------------

    def api(self, method, path, **kwargs):
        headers = {"Authorization": f"Token {self.token}"}
        return requests.request(method, self.base_url + path, headers=headers, timeout=30, **kwargs)

    def create(self, prompt, picture, **params):
        files = {"image": ("picture.jpg", picture, "image/jpeg")}
        response = self.api(
            "POST", "/api/generations/", data={"prompt": prompt, **params}, files=files
        )
        assert response.status_code == 201, response.text
        return response.json()

    def generation(self, generation_id):
        return self.api("GET", f"/api/generations/{generation_id}/").json()

    def wait_for_terminal(self, ids, timeout=120):
        finished = {}

        def all_done():
            for generation_id in ids:
                if generation_id not in finished:
                    row = self.generation(generation_id)
                    if row["status"] in TERMINAL:
                        finished[generation_id] = row
            return len(finished) == len(ids)

        wait_until(all_done, timeout, f"generations {sorted(set(ids) - set(finished))}")
        return finished

    # --- the simulator -----------------------------------------------------------------

    def sim_stats(self):
        return requests.get(self.sim_url + "/sim/stats", timeout=10).json()

    def posts_for(self, prompt):
        return [submit for submit in self.sim_stats()["submits"] if submit["prompt"] == prompt]

    def accepted_posts_for(self, prompt):
        return [submit for submit in self.posts_for(prompt) if submit["task_id"]]

    def configure_simulator(self, **config):
        response = requests.post(self.sim_url + "/sim/config", data=json.dumps(config), timeout=10)
        response.raise_for_status()

    def log_tail(self, name, lines=60):
        path = self.workdir / f"{name}.log"
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])

    # --- faults of whole processes (the fault matrix) ---------------------------------

    def stop_simulator(self):
        """The API goes away: its address refuses connections until restart_simulator()."""
        process = self.processes.pop("simulator")
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=15)

    def restart_simulator(self, *extra_args):
        """The API comes back on the same address, with the same signing key and videos
        (tasks in flight are forgotten, as they would be by a real outage)."""
        port = urlsplit(self.sim_url).port
        process = subprocess.Popen(
            [sys.executable, "-m", "wansim", "--port", str(port), "--data-dir"]
            + [str(self.workdir / "wansim"), "--queue-seconds", "0.5", "--process-seconds", "2"]
            + list(extra_args),
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=open(self.workdir / "simulator.log", "ab"),
            text=True,
            start_new_session=True,
        )
        self.processes["simulator"] = process
        line = process.stdout.readline()
        assert "listening on" in line, f"simulator did not restart: {line!r}"

    def sim_faults(self, task_id=None):
        """The poll and video faults the simulator has played, for one task or all."""
        played = self.sim_stats()["faults"]
        return [entry["fault"] for entry in played if task_id in (None, entry["task_id"])]


CREATE_USER = (
    "from django.contrib.auth import get_user_model; "
    "User = get_user_model(); "
    "User.objects.filter(username='maya').exists() or "
    "User.objects.create_user('maya', password='a-long-test-password')"
)


class PostgresDatabase:
    """A database of its own on the PostgreSQL server DATABASE_URL names, dropped at the end."""

    def __init__(self, server_url):
        self.name = f"wanstudio_live_{uuid.uuid4().hex[:12]}"
        self.server_url = server_url
        self.url = urlsplit(server_url)._replace(path=f"/{self.name}").geturl()

    @classmethod
    def fresh_for(cls, server_url):
        return cls(server_url) if server_url.startswith(("postgres:", "postgresql:")) else None

    def execute(self, statement):
        admin = psycopg.conninfo.make_conninfo(self.server_url, dbname="postgres")
        with psycopg.connect(admin, autocommit=True) as connection:
            connection.execute(statement)

    def create(self):
        self.execute(f'CREATE DATABASE "{self.name}"')

    def drop(self):
        self.execute(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)')


def reachable(url):
    try:
        requests.get(url, timeout=2)
        return True
    except requests.RequestException:
        return False


def wait_until(condition, timeout, what):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.3)
    raise AssertionError(f"Timed out after {timeout} s waiting for {what}")
