"""GET /healthz: database, broker, cluster heartbeat and API reachability, without secrets."""

import socket
from datetime import timedelta

import pytest
from django.utils import timezone
from django_q.models import Schedule

from generations.tasks import ensure_schedules

from .live_studio import free_port


@pytest.fixture
def api_listening(settings):
    """A port that accepts connections, standing in for the API's host."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen()
    settings.WAN_API_BASE_URL = f"http://127.0.0.1:{server.getsockname()[1]}"
    yield
    server.close()


@pytest.fixture
def heartbeat(db, settings):
    settings.REDIS_URL = ""  # the database broker: the heartbeat is the schedule alone
    ensure_schedules()
    Schedule.objects.filter(name="reconcile").update(next_run=timezone.now())


def test_healthy_studio_answers_200_without_logging_in(client, heartbeat, api_listening):
    response = client.get("/healthz")

    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert set(body["checks"]) == {"database", "broker", "cluster", "api"}
    assert all(check["ok"] for check in body["checks"].values())


def test_a_late_cluster_heartbeat_fails(client, heartbeat, api_listening):
    Schedule.objects.filter(name="reconcile").update(
        next_run=timezone.now() - timedelta(minutes=10)
    )

    response = client.get("/healthz")

    assert response.status_code == 503
    assert response.json()["checks"]["cluster"] == {
        "ok": False,
        "late_seconds": pytest.approx(600, abs=5),
        "ms": pytest.approx(0, abs=1000),
    }


def test_no_schedule_at_all_fails_the_cluster_check(client, db, api_listening):
    Schedule.objects.all().delete()

    assert client.get("/healthz").json()["checks"]["cluster"]["ok"] is False


def test_an_unreachable_api_fails_without_naming_it(client, heartbeat, settings):
    port = free_port()
    settings.WAN_API_BASE_URL = f"http://127.0.0.1:{port}"
    settings.WAN_API_KEY = "secret-api-key-123"

    response = client.get("/healthz")

    assert response.status_code == 503
    assert response.json()["checks"]["api"]["error"] == "ConnectionRefusedError"
    assert str(port) not in response.content.decode()
    assert "127.0.0.1" not in response.content.decode()
    assert "secret-api-key" not in response.content.decode()


def test_an_unreachable_redis_fails_the_broker_check(client, heartbeat, api_listening, settings):
    settings.REDIS_URL = f"redis://:a-redis-password@127.0.0.1:{free_port()}/0"

    response = client.get("/healthz?check=broker")

    assert response.status_code == 503
    assert response.json()["checks"]["broker"]["ok"] is False
    assert "a-redis-password" not in response.content.decode()


def test_checks_can_be_picked_for_a_load_balancer(client, heartbeat, settings):
    settings.WAN_API_BASE_URL = f"http://127.0.0.1:{free_port()}"  # the API is down

    response = client.get("/healthz?check=database&check=broker")

    assert response.status_code == 200
    assert set(response.json()["checks"]) == {"database", "broker"}


def test_health_is_never_cached(client, heartbeat, api_listening):
    assert "no-cache" in client.get("/healthz")["Cache-Control"]
