"""`make run`: migrate, make a first admin, then run web server, cluster and simulator together."""

import signal
import subprocess
import sys
import time

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand

STOP_GRACE_SECONDS = 15


class Command(BaseCommand):
    help = "Start the web server, the django-q2 cluster and (without WAN_API_KEY) the simulator."

    def add_arguments(self, parser):
        parser.add_argument("--addr", default="127.0.0.1:8000")

    def handle(self, addr, **options):
        settings.VAR_DIR.mkdir(parents=True, exist_ok=True)
        call_command("migrate", interactive=False, verbosity=0)
        call_command("ensureadmin")
        manage = [sys.executable, "manage.py"]
        commands = {}
        if not settings.WAN_API_KEY:
            commands["simulator"] = [
                sys.executable,
                "-m",
                "wansim",
                "--port",
                str(settings.WANSIM_PORT),
                "--data-dir",
                str(settings.VAR_DIR / "wansim"),
            ]
        commands["cluster"] = [*manage, "qcluster"]
        commands["web"] = [*manage, "runserver", addr, "--noreload"]
        processes = {
            name: subprocess.Popen(command, start_new_session=True)
            for name, command in commands.items()
        }
        api = "the simulator" if "simulator" in processes else settings.WAN_API_BASE_URL
        self.stdout.write(
            self.style.SUCCESS(
                f"WanStudio is starting on http://{addr}/ (API: {api}). Ctrl-C stops."
            )
        )
        stopping = []
        for stop_signal in (signal.SIGINT, signal.SIGTERM):
            signal.signal(stop_signal, lambda *_: stopping.append(True))
        try:
            while not stopping:
                exited = [name for name, process in processes.items() if process.poll() is not None]
                if exited:
                    self.stderr.write(f"{', '.join(exited)} stopped; stopping the rest.")
                    break
                time.sleep(0.5)
        finally:
            stop_all(processes)
        self.stdout.write("WanStudio stopped.")


def stop_all(processes):
    """Web first (no new work), then the cluster (finishes its jobs), then the simulator."""
    for process in reversed(processes.values()):
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
    deadline = time.monotonic() + STOP_GRACE_SECONDS
    for process in processes.values():
        try:
            process.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
