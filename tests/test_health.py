"""GET /healthz: database, broker, cluster heartbeat and an authenticated API request.
Anyone gets the status and `ok` / `not ok`; staff and API token holders get the details."""

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone
from django_q.models import Schedule

from generations.jobs import ensure_schedules
from wansim.testing import StubServer

from .live_studio import free_port
from .support.simulator import API_KEY


@pytest.fixture
def api_up(settings, simulator):
    """The API (the simulator) answers, and the studio holds its key."""
    settings.WAN_API_BASE_URL = simulator.base_url
    settings.WAN_API_KEY = API_KEY
    return simulator


@pytest.fixture
def heartbeat(db, settings):
    settings.REDIS_URL = ""  # the database broker: the heartbeat is the schedule alone
    ensure_schedules()
    Schedule.objects.filter(name="reconcile").update(next_run=timezone.now())


@pytest.fixture
def staff(client_for, make_user):
    """stella, a member with Django's staff flag (no admin role)."""
    return client_for(make_user("stella", is_staff=True))


def checks(client, path="/healthz"):
    response = client.get(path)
    assert response["Content-Type"] == "application/json", response.content
    return response.json()["checks"]


# --- what anyone sees ------------------------------------------------------------------------


def test_anyone_sees_ok_and_nothing_else(client, heartbeat, api_up):
    response = client.get("/healthz")

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/plain")
    assert response.content == b"ok"


def test_anyone_sees_not_ok_with_a_503_when_a_check_fails(client, heartbeat, settings):
    settings.WAN_API_BASE_URL = f"http://127.0.0.1:{free_port()}"  # the API is down

    response = client.get("/healthz")

    assert response.status_code == 503
    assert response.content == b"not ok"


def test_a_member_logged_in_sees_no_details(member_client, heartbeat, api_up):
    assert member_client.get("/healthz").content == b"ok"


def test_a_token_that_is_not_valid_sees_no_details(heartbeat, api_up):
    response = Client(HTTP_AUTHORIZATION="Token not-a-token").get("/healthz")
    assert response.content == b"ok"


# --- details, for staff and token holders ----------------------------------------------------


def test_staff_see_each_check_with_its_timing(staff, heartbeat, api_up):
    response = staff.get("/healthz")

    assert response.status_code == 200
    assert response.json()["status"] == "ok"
    found = response.json()["checks"]
    assert set(found) == {"database", "broker", "cluster", "api"}
    assert all(check["ok"] and "ms" in check for check in found.values())
    assert found["api"]["age_seconds"] == 0  # asked the API just now


def test_a_token_holder_sees_the_details(api_client, heartbeat, api_up):
    """A monitoring service holding a member's API token."""
    api = checks(api_client)["api"]
    assert (api["ok"], api["reason"]) == (True, "TASK_NOT_FOUND")


def test_a_late_cluster_heartbeat_fails(staff, heartbeat, api_up):
    Schedule.objects.filter(name="reconcile").update(
        next_run=timezone.now() - timedelta(minutes=10)
    )

    response = staff.get("/healthz")

    assert response.status_code == 503
    assert response.json()["checks"]["cluster"] == {
        "ok": False,
        "late_seconds": pytest.approx(600, abs=5),
        "ms": pytest.approx(0, abs=1000),
    }


def test_no_schedule_at_all_fails_the_cluster_check(staff, db, api_up):
    Schedule.objects.all().delete()

    assert checks(staff)["cluster"]["ok"] is False


def test_an_unreachable_redis_fails_the_broker_check(staff, heartbeat, settings):
    settings.REDIS_URL = f"redis://:a-redis-password@127.0.0.1:{free_port()}/0"

    response = staff.get("/healthz?check=broker")

    assert response.status_code == 503
    assert response.json()["checks"]["broker"]["ok"] is False
    assert "a-redis-password" not in response.content.decode()


# --- the API: an authenticated request, not a reachable port ---------------------------------


def test_the_api_check_sends_one_authenticated_request(staff, heartbeat, api_up):
    polls = api_up.stats()["polls"]

    api = checks(staff)["api"]

    assert api["ok"] is True
    assert (api["http_status"], api["reason"]) == (404, "TASK_NOT_FOUND")
    assert api_up.stats()["polls"] == polls + 1


def test_a_wrong_api_key_is_not_ok(client, staff, heartbeat, api_up, settings):
    settings.WAN_API_KEY = "a-wrong-key-456"

    assert client.get("/healthz").content == b"not ok"
    response = staff.get("/healthz")
    assert response.status_code == 503
    api = response.json()["checks"]["api"]
    assert (api["ok"], api["http_status"], api["reason"]) == (False, 403, "INVALID_API_KEY")
    assert "a-wrong-key" not in response.content.decode()


def test_a_host_that_is_not_the_api_is_not_ok(staff, heartbeat, settings):
    """Answering 404 to every path (a wrong base URL) is not the API's "task not found"."""
    with StubServer({}) as elsewhere:
        settings.WAN_API_BASE_URL = elsewhere.url("")
        api = checks(staff)["api"]

    assert (api["ok"], api["http_status"]) == (False, 404)


def test_an_unreachable_api_fails_without_naming_it(staff, heartbeat, settings):
    port = free_port()
    settings.WAN_API_BASE_URL = f"http://127.0.0.1:{port}"
    settings.WAN_API_KEY = "secret-api-key-123"

    response = staff.get("/healthz")

    assert response.status_code == 503
    assert response.json()["checks"]["api"]["reason"] == "CONNECTION_FAILED"
    for secret in (str(port), "127.0.0.1", "secret-api-key"):
        assert secret not in response.content.decode()


def test_anyone_asking_often_spends_one_api_request_a_minute(client, heartbeat, api_up):
    polls = api_up.stats()["polls"]

    for _ in range(5):
        assert client.get("/healthz").status_code == 200

    assert api_up.stats()["polls"] == polls + 1


# --- for load balancers ----------------------------------------------------------------------


def test_checks_can_be_picked_for_a_load_balancer(client, staff, heartbeat, settings):
    settings.WAN_API_BASE_URL = f"http://127.0.0.1:{free_port()}"  # the API is down

    response = client.get("/healthz?check=database&check=broker")

    assert (response.status_code, response.content) == (200, b"ok")
    assert set(checks(staff, "/healthz?check=database&check=broker")) == {"database", "broker"}


def test_health_is_never_cached(client, heartbeat, api_up):
    assert "no-cache" in client.get("/healthz")["Cache-Control"]
