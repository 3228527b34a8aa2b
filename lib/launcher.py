"""Start a studio's processes (web server, cluster, simulator) and stop them together.

`make run`, the live tests and the bench each decide which processes to run with which
environment; this module starts and stops them. Each process leads a process group of its own,
so stopping it reaches whatever it started (gunicorn's or qcluster's workers), and a terminal's
Ctrl-C reaches only the caller, which then stops them in order.
"""

import os
import signal
import socket
import subprocess
import time
from pathlib import Path

import requests

# Commands run from the project root, where manage.py is.
ROOT = Path(__file__).resolve().parent.parent


def free_port():
    """A TCP port on loopback that nothing listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def answers(url):
    """Whether anything answers HTTP at url (any status counts)."""
    try:
        requests.get(url, timeout=2)
    except requests.RequestException:
        return False
    return True


def wait_until(condition, timeout, what, interval=0.2):
    """Ask condition() until it is true; TimeoutError naming `what` after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(interval)
    raise TimeoutError(f"timed out after {timeout} s waiting for {what}")


class Launcher:
    """Named processes, each the leader of its own process group, stopped together."""

    def __init__(self):
        self.processes = {}  # name -> Popen, in the order they started
        self.stopped_by_leader = set()

    def spawn(self, name, command, *, env, log=None, leader_stops_group=False):
        """Start `command` as `name`, its output appended to the file `log` (else inherited).

        With leader_stops_group, stopping sends SIGTERM to the leader alone and lets it stop its
        group: qcluster's leader stops its workers once their current job is done, where
        signalled directly they would die mid-job (a submit cut mid-POST needs a person)."""
        output = open(log, "ab") if log else None
        try:
            process = subprocess.Popen(
                command,
                cwd=ROOT,
                env=env,
                stdout=output,
                stderr=subprocess.STDOUT if output else None,
                start_new_session=True,
            )
        finally:
            if output:
                output.close()  # the child holds its own copy
        self.processes[name] = process
        if leader_stops_group:
            self.stopped_by_leader.add(name)
        return process

    def wait_for(self, name, url, timeout):
        """Wait until url answers, failing at once if `name` exits first."""
        process = self.processes[name]

        def ready():
            if process.poll() is not None:
                raise RuntimeError(f"{name} exited ({process.returncode}) before {url} answered")
            return answers(url)

        wait_until(ready, timeout, f"{name} to answer at {url}")

    def exited(self):
        """Names of the processes whose leader has exited."""
        return [name for name, process in self.processes.items() if process.poll() is not None]

    def stop(self, *names, grace, cut_short=lambda: False):
        """Stop `names` (default: all), last started first, and forget them.

        Each gets SIGTERM (its group, or its leader alone); once every group is gone, the grace
        period has passed or cut_short() says so (a second Ctrl-C), whatever is left of their
        groups is killed."""
        order = [name for name in reversed(self.processes) if not names or name in names]
        stopping = {name: self.processes.pop(name) for name in order}
        for name, process in stopping.items():
            if process.poll() is not None:
                continue
            if name in self.stopped_by_leader:
                process.terminate()
            else:
                signal_group(process, signal.SIGTERM)
        deadline = time.monotonic() + grace
        while time.monotonic() < deadline and not cut_short():
            if not any(group_alive(process) for process in stopping.values()):
                break
            time.sleep(0.1)
        for name, process in stopping.items():
            signal_group(process, signal.SIGKILL)
            process.wait()
            self.stopped_by_leader.discard(name)

    def kill(self, name):
        """SIGKILL `name` and its whole group at once, as a crash would."""
        process = self.processes.pop(name)
        self.stopped_by_leader.discard(name)
        signal_group(process, signal.SIGKILL)
        process.wait()


def group_alive(process):
    """Whether the process or anything left of its group (workers it started) still runs."""
    if process.poll() is None:
        return True
    try:
        os.killpg(process.pid, 0)
    except ProcessLookupError:
        return False
    return True


def signal_group(process, signum):
    try:
        os.killpg(process.pid, signum)
    except ProcessLookupError:
        pass
