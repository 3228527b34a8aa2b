"""The processes a bench runs: gunicorn, the simulator, clusters; a fresh database for each run.

The database is PostgreSQL when DATABASE_URL names a server (a database of its own, dropped at
the end), else a SQLite file; the broker is Redis when REDIS_URL is set (a queue name of its own).
"""

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
SIM_KEY = "sim-key"


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_until(condition, timeout, what):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.2)
    raise RuntimeError(f"timed out after {timeout} s waiting for {what}")


def answers(url):
    try:
        requests.get(url, timeout=2)
        return True
    except requests.RequestException:
        return False


class Stack:
    def __init__(self, workdir, **settings_env):
        self.workdir = Path(workdir)
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.web_port = free_port()
        self.web_url = f"http://127.0.0.1:{self.web_port}"
        self.processes = {}
        self.server_url = os.environ.get("DATABASE_URL", "")
        self.database_name = f"wanstudio_bench_{uuid.uuid4().hex[:10]}"
        self.redis_url = os.environ.get("REDIS_URL", "")
        self.queue_name = f"bench-{uuid.uuid4().hex[:8]}"
        self.settings_env = {key: str(value) for key, value in settings_env.items()}

    @property
    def on_postgres(self):
        return self.server_url.startswith(("postgres:", "postgresql:"))

    @property
    def database_url(self):
        if self.on_postgres:
            return urlsplit(self.server_url)._replace(path=f"/{self.database_name}").geturl()
        return f"sqlite:///{self.workdir / 'bench.sqlite3'}"

    def describe(self):
        database = "PostgreSQL" if self.on_postgres else "SQLite"
        broker = "Redis" if self.redis_url else "the database (ORM broker)"
        return f"{database}, broker: {broker}"

    def env(self):
        env = dict(os.environ)
        for name in ("REDIS_URL", "S3_BUCKET", "WAN_API_KEY"):
            env.pop(name, None)
        env.update(
            DJANGO_SETTINGS_MODULE="bench.settings",
            DJANGO_DEBUG="0",
            SECRET_KEY="bench-secret-key-" + "x" * 40,
            SECURE_SSL_REDIRECT="0",
            SECURE_COOKIES="0",
            ALLOWED_HOSTS="127.0.0.1,localhost",
            WANSTUDIO_VAR_DIR=str(self.workdir),
            STATIC_ROOT=str(self.workdir / "static"),
            DATABASE_URL=self.database_url,
            DB_CONN_MAX_AGE="60",
            PUBLIC_BASE_URL=self.web_url,
            WAN_API_KEY=SIM_KEY,  # production settings require a key; the simulator's
            LOG_LEVEL="WARNING",
            PYTHONUNBUFFERED="1",
        )
        if self.redis_url:
            env.update(REDIS_URL=self.redis_url, Q_NAME=self.queue_name)
        env.update(self.settings_env)
        return env

    def apply_env(self):
        """The bench process itself uses the same settings as the servers it starts."""
        env = self.env()  # read before clearing: it starts from the caller's environment
        os.environ.clear()
        os.environ.update(env)

    def create_database(self):
        if self.on_postgres:
            self._admin(f'CREATE DATABASE "{self.database_name}"')

    def drop_database(self):
        if self.on_postgres:
            self._admin(f'DROP DATABASE IF EXISTS "{self.database_name}" WITH (FORCE)')

    def _admin(self, statement):
        conninfo = psycopg.conninfo.make_conninfo(self.server_url, dbname="postgres")
        with psycopg.connect(conninfo, autocommit=True) as connection:
            connection.execute(statement)

    def spawn(self, name, command, **extra_env):
        log = open(self.workdir / f"{name}.log", "ab")
        self.processes[name] = subprocess.Popen(
            command,
            cwd=ROOT,
            env={**self.env(), **extra_env},
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        return self.processes[name]

    def start_web(self, workers=2):
        self.spawn(
            "web",
            [
                sys.executable,
                "-m",
                "gunicorn",
                "wanstudio.wsgi",
                "--bind",
                f"127.0.0.1:{self.web_port}",
                "--workers",
                str(workers),
                "--log-level",
                "warning",
            ],
        )
        wait_until(lambda: answers(self.web_url + "/login/"), 60, "gunicorn")

    def start_simulator(self, queue_seconds, process_seconds):
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "wansim",
                "--port",
                "0",
                "--quiet",
                "--data-dir",
                str(self.workdir / "wansim"),
                "--queue-seconds",
                str(queue_seconds),
                "--process-seconds",
                str(process_seconds),
            ],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=open(self.workdir / "simulator.log", "ab"),
            text=True,
            start_new_session=True,
        )
        self.processes["simulator"] = process
        line = process.stdout.readline()
        if "listening on" not in line:
            raise RuntimeError(f"the simulator did not start: {line!r}")
        return line.strip().rsplit(" ", 1)[-1]

    def start_cluster(self, name, **extra_env):
        return self.spawn(name, [sys.executable, "manage.py", "qcluster"], **extra_env)

    def stop(self, name):
        process = self.processes.pop(name, None)
        if process is None or process.poll() is not None:
            return
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()

    def stop_all(self):
        for name in list(self.processes):
            self.stop(name)
        if self.redis_url:
            connection = redis.from_url(self.redis_url)
            leftovers = list(connection.scan_iter(f"django_q:{self.queue_name}:*"))
            if leftovers:
                connection.delete(*leftovers)
