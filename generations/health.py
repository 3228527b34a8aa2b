"""GET /healthz: can this host do its job? Database, broker, cluster heartbeat, API reachability.

200 when every check asked for passes, else 503. `?check=database&check=broker` runs only those
(a load balancer in front of web hosts should not take them out when the API is down).
Answers say what failed and how long each check took, never an address, a key or a message.
"""

import socket
import time
from urllib.parse import urlsplit

import redis
from django.conf import settings
from django.contrib.auth.decorators import login_not_required
from django.db import connection
from django.http import JsonResponse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe
from django_q.conf import Conf
from django_q.models import Schedule

PROBE_TIMEOUT = 2.0
# The scheduler of any live cluster moves this schedule's next run forward every 30 s or so.
HEARTBEAT_SCHEDULE = "reconcile"
HEARTBEAT_LATE_SECONDS = 120


class CheckFailed(Exception):
    """A check's answer, when it is a clear no rather than an exception."""


def check_database():
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()
    return {}


def redis_client():
    return redis.from_url(
        settings.REDIS_URL, socket_connect_timeout=PROBE_TIMEOUT, socket_timeout=PROBE_TIMEOUT
    )


def check_broker():
    if not settings.REDIS_URL:
        return {"kind": "database"}  # the ORM broker is the database checked above
    with redis_client() as client:
        client.ping()
    return {"kind": "redis"}


def live_clusters():
    """Each running cluster keeps a status key in Redis that expires within seconds."""
    with redis_client() as client:
        return sum(1 for _ in client.scan_iter(f"{Conf.Q_STAT}:*"))


def check_cluster():
    """Some cluster's scheduler ran lately; with Redis, also how many clusters report in."""
    next_run = (
        Schedule.objects.filter(name=HEARTBEAT_SCHEDULE).values_list("next_run", flat=True).first()
    )
    if next_run is None:
        raise CheckFailed("no schedule: run migrate")
    late = max(0.0, (timezone.now() - next_run).total_seconds())
    answer = {"late_seconds": round(late)}
    if settings.REDIS_URL:
        answer["clusters"] = live_clusters()
        if not answer["clusters"]:
            raise CheckFailed(answer)
    if late > HEARTBEAT_LATE_SECONDS:
        raise CheckFailed(answer)
    return answer


def check_api():
    """A TCP connection to the API's host: spends none of the API's request budget."""
    address = urlsplit(settings.WAN_API_BASE_URL)
    port = address.port or (443 if address.scheme == "https" else 80)
    with socket.create_connection((address.hostname, port), timeout=PROBE_TIMEOUT):
        pass
    return {}


CHECKS = {
    "database": check_database,
    "broker": check_broker,
    "cluster": check_cluster,
    "api": check_api,
}


def run_check(check):
    started = time.monotonic()
    try:
        answer = {"ok": True, **check()}
    except CheckFailed as failure:
        detail = failure.args[0] if failure.args else {}
        answer = {"ok": False, **(detail if isinstance(detail, dict) else {"problem": detail})}
    except Exception as error:  # any failure is an answer here; its text may carry addresses
        answer = {"ok": False, "error": type(error).__name__}
    answer["ms"] = round((time.monotonic() - started) * 1000, 1)
    return answer


@login_not_required
@never_cache
@require_safe
def healthz(request):
    asked = [name for name in request.GET.getlist("check") if name in CHECKS] or list(CHECKS)
    checks = {name: run_check(CHECKS[name]) for name in asked}
    healthy = all(answer["ok"] for answer in checks.values())
    return JsonResponse(
        {"status": "ok" if healthy else "failing", "checks": checks}, status=200 if healthy else 503
    )
