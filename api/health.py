"""GET /healthz: can this host do its job? Database, broker, cluster heartbeat, the API.

200 when every check asked for passes, else 503. `?check=database&check=broker` runs only those
(a load balancer in front of web hosts should not take them out when the API is down).
Anyone gets the status code and `ok` or `not ok`. Staff, and monitors sending an API token
(`Authorization: Token <key>`), also get each check's answer and timing as JSON: what failed,
never an address, a key or a message.
"""

import re
import time

import redis
from django.conf import settings
from django.contrib.auth.decorators import login_not_required
from django.core.cache import cache
from django.db import connection
from django.http import HttpResponse, JsonResponse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe
from django_q.conf import Conf
from django_q.models import Schedule

from generations import pipeline
from generations.wan_api import PollOutcome

PROBE_TIMEOUT = 2.0
# The scheduler of any live cluster moves this schedule's next run forward every 30 s or so.
HEARTBEAT_SCHEDULE = "reconcile"
HEARTBEAT_LATE_SECONDS = 120
# A task id no task ever has: an API that accepted the key answers TASK_NOT_FOUND for it.
PROBE_TASK_ID = "00000000-0000-0000-0000-000000000000"
# Anyone may ask /healthz, and the API allows 20 requests a minute, shared with the pipeline:
# each process asks the API at most this often and gives the answer it had meanwhile.
API_PROBE_EVERY = 60
API_PROBE_KEY = "healthz:api-probe"
ERROR_CODE = re.compile(r"[A-Z][A-Z0-9_]{0,59}")  # what a reason may show: a code, never text


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
    """The API accepted our key lately (see probe_api); how long ago it was asked."""
    probe = cache.get(API_PROBE_KEY)
    if probe is None:
        probe = {**probe_api(), "at": time.time()}
        cache.set(API_PROBE_KEY, probe, API_PROBE_EVERY)
    answer = {key: value for key, value in probe.items() if key not in ("accepted", "at")}
    answer["age_seconds"] = round(time.time() - probe["at"])
    if not probe["accepted"]:
        raise CheckFailed(answer)
    return answer


def probe_api():
    """One authenticated request: the result of a task that does not exist. The API's own
    "not found" means it accepted the key; a refusal (MISSING_API_KEY, INVALID_API_KEY, 401,
    403), a gateway's page or no answer means it did not. Too many requests (429) counts as
    accepted: the limit is per account, so the API knew ours."""
    client = pipeline.api_client()
    client.timeout = (PROBE_TIMEOUT, PROBE_TIMEOUT)
    result = client.task_result(PROBE_TASK_ID)
    accepted = (
        result.outcome is PollOutcome.OK
        or (result.outcome is PollOutcome.NOT_FOUND and result.reason == "TASK_NOT_FOUND")
        or result.http_status == 429
    )
    answer = {"accepted": accepted, "http_status": result.http_status}
    if ERROR_CODE.fullmatch(result.reason):  # the API's code, or ours (CONNECTION_FAILED)
        answer["reason"] = result.reason
    return answer


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


def may_see_details(request):
    """Staff, or whoever sent a valid API token (ApiTokenMiddleware judged it)."""
    token_accepted = hasattr(request, "token_rejected") and not request.token_rejected
    return request.user.is_staff or token_accepted


@login_not_required
@never_cache
@require_safe
def healthz(request):
    asked = [name for name in request.GET.getlist("check") if name in CHECKS] or list(CHECKS)
    checks = {name: run_check(CHECKS[name]) for name in asked}
    healthy = all(answer["ok"] for answer in checks.values())
    status = 200 if healthy else 503
    if not may_see_details(request):
        return HttpResponse("ok" if healthy else "not ok", content_type="text/plain", status=status)
    return JsonResponse({"status": "ok" if healthy else "failing", "checks": checks}, status=status)
