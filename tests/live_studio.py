"""A whole studio in real processes: simulator, web server and django-q2 cluster on loopback.

Each studio gets its own file SQLite database and media folder, so tests see exactly what a
person running `make run` would.
"""

import json
import os
import subprocess
import sys
import uuid
from pathlib import Path
from urllib.parse import urlsplit

import psycopg
import redis
import requests

from lib.launcher import ROOT, Launcher, free_port, wait_until
from lib.launcher import answers as reachable

__all__ = ["LiveStudio", "free_port", "reachable", "wait_until"]  # what the tests import

TERMINAL = {"succeeded", "failed", "canceled", "needs_attention"}
# A test's studio is thrown away whole once it ends: a cluster finishing a dispatcher run would
# take up to a minute to stop gracefully, and nothing after a test needs that. One second, then
# SIGKILL (a graceful stop is tested by tests/test_runstudio.py, with its own grace).
STOP_GRACE_SECONDS = 1


class LiveStudio:
    def __init__(self, workdir, **extra_env):
        self.workdir = Path(workdir)
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.web_port = free_port()
        self.base_url = f"http://127.0.0.1:{self.web_port}"
        self.extra_env = extra_env
        self.launcher = Launcher()
        self.processes = self.launcher.processes  # name -> Popen
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
            WAN_TASK_SECONDS="2.5",  # its simulator runs 2.5 s tasks: the first poll waits this
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
        """Start `name` with the studio's environment, its output in <workdir>/<name>.log; the
        whole group gets SIGTERM when the studio stops (a test over need not finish a job)."""
        return self.launcher.spawn(name, command, env=self.env(), log=self.workdir / f"{name}.log")

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
        self.launcher.wait_for("web", self.base_url + "/login/", 30)
        return self

    def start_simulator(self):
        self.sim_url = self.run_simulator(free_port())

    def run_simulator(self, port, *extra_args):
        """The simulator on `port`, with the same signing key and videos (in <workdir>/wansim)
        each time it starts; returns its URL once it answers."""
        wansim = [sys.executable, "-m", "wansim", "--port", str(port)]
        timing = ["--queue-seconds", "0.5", "--process-seconds", "2"]
        data = ["--data-dir", str(self.workdir / "wansim")]
        self.spawn("simulator", [*wansim, *data, *timing, *extra_args])
        url = f"http://127.0.0.1:{port}"
        self.launcher.wait_for("simulator", url + "/", 30)
        return url

    def start_cluster(self, name="cluster"):
        return self.spawn(name, [sys.executable, "manage.py", "qcluster"])

    def kill_cluster(self):
        """SIGKILL the whole cluster (sentinel and workers), as a crash would."""
        self.launcher.kill("cluster")

    def stop(self):
        self.launcher.stop(grace=STOP_GRACE_SECONDS)
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
        self.launcher.stop("simulator", grace=15)

    def restart_simulator(self, *extra_args):
        """The API comes back on the same address, with the same signing key and videos
        (tasks in flight are forgotten, as they would be by a real outage)."""
        self.run_simulator(urlsplit(self.sim_url).port, *extra_args)

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
