"""The processes a bench runs: gunicorn, the simulator, clusters; a fresh database for each run.

The database is PostgreSQL when DATABASE_URL names a server (a database of its own, dropped at
the end), else a SQLite file; the broker is Redis when REDIS_URL is set (a queue name of its own).
"""

import os
import sys
import uuid
from pathlib import Path
from urllib.parse import urlsplit

import psycopg
import redis

from lib.launcher import Launcher, free_port

SIM_KEY = "sim-key"
# What is measured is over when a process is stopped: no job needs to finish.
STOP_GRACE_SECONDS = 10


class Stack:
    def __init__(self, workdir, **settings_env):
        self.workdir = Path(workdir)
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.web_port = free_port()
        self.web_url = f"http://127.0.0.1:{self.web_port}"
        self.launcher = Launcher()
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
        """Start `name` with the bench's environment, its output in <workdir>/<name>.log."""
        env = {**self.env(), **extra_env}
        return self.launcher.spawn(name, command, env=env, log=self.workdir / f"{name}.log")

    def start_web(self, workers=2):
        bind = f"127.0.0.1:{self.web_port}"
        gunicorn = [sys.executable, "-m", "gunicorn", "wanstudio.wsgi", "--bind", bind]
        self.spawn("web", [*gunicorn, "--workers", str(workers), "--log-level", "warning"])
        self.launcher.wait_for("web", self.web_url + "/login/", 60)

    def start_simulator(self, queue_seconds, process_seconds):
        """The simulator on a port of its own; returns its URL once it answers."""
        port = free_port()
        wansim = [sys.executable, "-m", "wansim", "--port", str(port), "--quiet"]
        timing = ["--queue-seconds", str(queue_seconds), "--process-seconds", str(process_seconds)]
        self.spawn("simulator", [*wansim, "--data-dir", str(self.workdir / "wansim"), *timing])
        url = f"http://127.0.0.1:{port}"
        self.launcher.wait_for("simulator", url + "/", 30)
        return url

    def start_cluster(self, name, **extra_env):
        return self.spawn(name, [sys.executable, "manage.py", "qcluster"], **extra_env)

    def stop(self, name):
        if name in self.launcher.processes:
            self.launcher.stop(name, grace=STOP_GRACE_SECONDS)

    def stop_all(self):
        self.launcher.stop(grace=STOP_GRACE_SECONDS)
        if self.redis_url:
            connection = redis.from_url(self.redis_url)
            leftovers = list(connection.scan_iter(f"django_q:{self.queue_name}:*"))
            if leftovers:
                connection.delete(*leftovers)
