"""`make run` and `make dev`: set the studio up, then run the web server, the cluster and the
simulator together until Ctrl-C.

`make run` is a real instance on one machine: DEBUG off, gunicorn serving the pages and
(through whitenoise) the collected static files, a secret key generated once into var/, plain
HTTP on BIND. `make dev` (`--dev`) is Django's autoreloading server with DEBUG on.
"""

import os
import secrets
import signal
import subprocess
import sys
import time

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError

from lib.launcher import Launcher

STOP_GRACE_SECONDS = 10
LOOPBACK_HOSTS = {"127.0.0.1", "localhost", "[::1]"}


class Command(BaseCommand):
    help = "Start the web server, the django-q2 cluster and (without WAN_API_KEY) the simulator."

    def add_arguments(self, parser):
        parser.add_argument(
            "--bind",
            default=os.environ.get("BIND") or "127.0.0.1:8000",
            help="host:port the web server listens on (default: BIND, else 127.0.0.1:8000)",
        )
        parser.add_argument(
            "--dev",
            action="store_true",
            help="DEBUG on and Django's development server, which reloads on code changes",
        )

    def handle(self, bind, dev, **options):
        stopping = []
        for stop_signal in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
            signal.signal(stop_signal, lambda signum, frame: stopping.append(signum))

        settings.VAR_DIR.mkdir(parents=True, exist_ok=True)
        call_command("migrate", interactive=False, verbosity=0)
        call_command("ensureadmin")
        if not os.environ.get("SECRET_KEY"):
            ensure_secret_key(settings.SECRET_KEY_FILE)
        env = instance_env(bind, dev)
        if not dev:
            # The manifest storage (DEBUG off) needs the collected files before the first page.
            collect = [sys.executable, "manage.py", "collectstatic", "--noinput", "-v", "0"]
            if subprocess.run(collect, env=env).returncode != 0:
                raise CommandError("collectstatic failed.")
        if stopping:
            raise CommandError("Stopped before starting.")

        launcher = Launcher()
        try:
            for name, command in commands_for(bind, dev).items():
                # The cluster's leader stops its workers once their current job is done.
                launcher.spawn(name, command, env=env, leader_stops_group=name == "cluster")
            self.announce(bind, dev, launcher.processes)
            while not stopping:
                if exited := launcher.exited():
                    raise CommandError(f"{', '.join(exited)} stopped; the rest were stopped too.")
                time.sleep(0.2)
        finally:
            # Web first (no new work), then the cluster, then the simulator; a second Ctrl-C
            # cuts the grace period short.
            asked = len(stopping)
            launcher.stop(grace=STOP_GRACE_SECONDS, cut_short=lambda: len(stopping) > asked)
        self.stdout.write("WanStudio stopped.")

    def announce(self, bind, dev, processes):
        api = "the simulator" if "simulator" in processes else settings.WAN_API_BASE_URL
        mode = "development server, DEBUG on" if dev else "DEBUG off"
        self.stdout.write(
            self.style.SUCCESS(
                f"WanStudio is starting on {local_url(bind)}/ ({mode}; API: {api}). Ctrl-C stops."
            )
        )
        if host_of(bind) not in LOOPBACK_HOSTS and not os.environ.get("ALLOWED_HOSTS"):
            self.stdout.write(
                f"Listening on {bind}: set ALLOWED_HOSTS to the names people use to reach it."
            )


def commands_for(bind, dev):
    manage = [sys.executable, "manage.py"]
    commands = {}
    if not settings.WAN_API_KEY:
        wansim = [sys.executable, "-m", "wansim", "--port", str(settings.WANSIM_PORT)]
        commands["simulator"] = [*wansim, "--data-dir", str(settings.VAR_DIR / "wansim")]
    commands["cluster"] = [*manage, "qcluster"]
    if dev:
        commands["web"] = [*manage, "runserver", bind]
    else:
        # Threads let a worker stream a video to a slow player while it answers pages; the
        # workers get half the grace period to finish their requests.
        gunicorn = [sys.executable, "-m", "gunicorn", "wanstudio.wsgi", "--bind", bind]
        commands["web"] = [
            *gunicorn,
            *("--workers", "2", "--worker-class", "gthread", "--threads", "4"),
            *("--timeout", "60", "--graceful-timeout", str(STOP_GRACE_SECONDS // 2)),
        ]
    return commands


def instance_env(bind, dev):
    """The environment of every process the studio runs: DEBUG and the local instance's mode."""
    env = dict(os.environ)
    env["DJANGO_DEBUG"] = "1" if dev else "0"
    env["WANSTUDIO_LOCAL"] = "1"
    # The simulator fetches source pictures from here.
    if not env.get("PUBLIC_BASE_URL"):
        env["PUBLIC_BASE_URL"] = local_url(bind)
    return env


def ensure_secret_key(path):
    """Generate this machine's secret key into `path` (readable by its owner only), once;
    settings read it when SECRET_KEY is not given."""
    if not path.exists():
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "w") as file:
            file.write(secrets.token_urlsafe(50))


def host_of(bind):
    return bind.rpartition(":")[0] or "127.0.0.1"


def local_url(bind):
    """Where a browser on this machine reaches BIND (0.0.0.0 listens on loopback too)."""
    host, _, port = bind.rpartition(":")
    if host in ("", "0.0.0.0"):
        host = "127.0.0.1"
    elif host in ("::", "[::]"):
        host = "[::1]"
    return f"http://{host}:{port}"
