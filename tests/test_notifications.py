"""Notifications out: a person's webhook (signed, retried with backoff, each delivery logged) and
e-mail, for their generations, review decisions on their work and their budget at 80 %; their
settings page. Delivery is never part of the change it tells of: a transition only records it."""

import hashlib
import hmac
import http.server
import json
import socket
import threading
import time
import uuid
from datetime import timedelta
from decimal import Decimal

import pytest
import requests
from django.core import mail
from django.utils import timezone

from generations import jobs, notify, tasks
from generations.models import (
    Budget,
    DeliveryStatus,
    EventKind,
    NotificationSettings,
    ReviewState,
    Status,
    WebhookDelivery,
)
from generations.models.notification import RETRY_DELAYS

# --- a receiver, and the queue seen from the pipeline's side ------------------------------------


class Receiver:
    """A webhook receiver on a loopback port that checks each delivery as a team's would: the
    signature over the timestamp and the raw body, with the secret it was given."""

    def __init__(self, secret="", status=200):
        self.secret, self.status, self.received = secret, status, []
        receiver = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                receiver.received.append((dict(self.headers), body, receiver.verifies(self, body)))
                self.send_response(receiver.status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/hook"
        threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True).start()

    def verifies(self, request, body):
        timestamp = request.headers["X-WanStudio-Timestamp"]
        signed = timestamp.encode() + b"." + body
        expected = "sha256=" + hmac.new(self.secret.encode(), signed, hashlib.sha256).hexdigest()
        fresh = abs(time.time() - int(timestamp)) < 300
        return fresh and hmac.compare_digest(expected, request.headers["X-WanStudio-Signature"])

    def stop(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver(settings):
    settings.NOTIFY_PRIVATE_WEBHOOKS = True  # it listens on loopback
    running = Receiver()
    yield running
    running.stop()


@pytest.fixture
def dead_address(settings):
    """A loopback port nothing listens on: connections are refused at once."""
    settings.NOTIFY_PRIVATE_WEBHOOKS = True
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"http://127.0.0.1:{port}/hook"


@pytest.fixture
def enqueued(monkeypatch):
    """What reaches the queue, as (dotted path, args), instead of the broker."""
    sent = []

    def async_task(func, *args, **kwargs):
        sent.append((func, args))
        return uuid.uuid4().hex

    monkeypatch.setattr(jobs, "async_task", async_task)
    return sent


@pytest.fixture
def committed(django_capture_on_commit_callbacks):
    """`with committed():` runs the block's on_commit callbacks at its end, as a commit would."""
    return lambda: django_capture_on_commit_callbacks(execute=True)


def run_jobs(enqueued):
    """Run what was enqueued, as a worker would, and forget it."""
    while enqueued:
        func, args = enqueued.pop(0)
        getattr(tasks, func.rsplit(".", 1)[1])(*args)


def webhook_to(person, url, **fields):
    preferences = NotificationSettings.for_person(person)
    preferences.webhook_url = url
    preferences.generate_secret()
    for name, value in fields.items():
        setattr(preferences, name, value)
    preferences.save()
    return preferences


def succeed(generation):
    return generation.mark_succeeded(
        video_name="videos/done.mp4",
        poster_name="posters/done.jpg",
        duration=5.0,
        size=10,
        sha256="",
    )


@pytest.fixture
def downloading(make_generation):
    return make_generation(status=Status.DOWNLOADING, prompt="boats rocking in the harbour")


# --- webhooks --------------------------------------------------------------------------------


def test_a_finished_generation_reaches_the_webhook_signed(
    user, receiver, downloading, enqueued, django_capture_on_commit_callbacks, settings
):
    settings.PUBLIC_BASE_URL = "https://studio.example.com"
    receiver.secret = webhook_to(user, receiver.url).webhook_secret

    with django_capture_on_commit_callbacks(execute=True):
        assert succeed(downloading)
    run_jobs(enqueued)

    ((headers, body, verified),) = receiver.received
    assert verified
    event = json.loads(body)
    assert event["event"] == "generation.succeeded" == headers["X-WanStudio-Event"]
    assert event["generation"]["id"] == downloading.pk
    assert event["generation"]["status"] == "succeeded"
    assert event["generation"]["prompt"] == "boats rocking in the harbour"
    url = f"https://studio.example.com/generations/{downloading.pk}/"
    assert event["url"] == event["generation"]["url"] == url
    assert event["generation"]["video_url"] == url + "video.mp4"
    assert headers["X-WanStudio-Delivery"] == event["id"]
    delivery = WebhookDelivery.objects.get()
    assert (delivery.status, delivery.last_response_code, delivery.attempts) == (
        "delivered",
        200,
        1,
    )


def test_a_signature_made_with_another_secret_does_not_verify(
    user, receiver, downloading, enqueued
):
    webhook_to(user, receiver.url)
    receiver.secret = "whsec_not-the-one"

    succeed(downloading)
    notify.send_webhook(WebhookDelivery.objects.get().pk)

    ((_, _, verified),) = receiver.received
    assert not verified


def test_a_long_prompt_is_cut_in_the_event(user, receiver, make_generation, enqueued):
    webhook_to(user, receiver.url)
    generation = make_generation(status=Status.DOWNLOADING, prompt="waves " * 100)

    succeed(generation)

    prompt = WebhookDelivery.objects.get().payload["generation"]["prompt"]
    assert len(prompt) == notify.PROMPT_CHARS and prompt.endswith("…")


def test_the_slack_option_sends_text_with_a_link(user, receiver, downloading, enqueued):
    webhook_to(user, receiver.url, slack_format=True)

    succeed(downloading)
    notify.send_webhook(WebhookDelivery.objects.get().pk)

    ((_, body, _),) = receiver.received
    assert json.loads(body) == {
        "text": f"Your generation #{downloading.pk} finished. "
        f"<http://127.0.0.1:8000/generations/{downloading.pk}/|Open #{downloading.pk}>"
    }


def test_a_failure_and_an_unknown_outcome_are_announced(user, receiver, make_generation, enqueued):
    webhook_to(user, receiver.url)
    make_generation(status=Status.PROCESSING).mark_failed("The API reported the task failed")
    make_generation(status=Status.SUBMITTING).mark_needs_attention("Lost answer")

    events = [delivery.payload for delivery in WebhookDelivery.objects.order_by("pk")]
    assert [event["event"] for event in events] == ["generation.failed"] * 2
    assert [event["generation"]["status"] for event in events] == ["failed", "needs_attention"]
    assert "The API reported the task failed" in events[0]["text"]


def test_no_webhook_address_no_delivery(user, downloading, enqueued):
    succeed(downloading)

    assert not WebhookDelivery.objects.exists()


def test_an_event_turned_off_is_not_sent(user, receiver, downloading, enqueued):
    webhook_to(user, receiver.url, webhook_kinds=[EventKind.GENERATION_FAILED])

    succeed(downloading)

    assert not WebhookDelivery.objects.exists()


# --- a dead receiver ---------------------------------------------------------------------------


def test_a_dead_receiver_delays_nothing_and_loses_no_generation(
    user, dead_address, downloading, enqueued, django_capture_on_commit_callbacks, monkeypatch
):
    webhook_to(user, dead_address)

    def no_network(*args, **kwargs):
        raise AssertionError("the transition itself sent a request")

    with monkeypatch.context() as inside:
        inside.setattr(requests.Session, "request", no_network)
        started = time.monotonic()
        with django_capture_on_commit_callbacks(execute=True):
            assert succeed(downloading)
        took = time.monotonic() - started

    assert took < 0.5
    downloading.refresh_from_db()
    assert downloading.status == Status.SUCCEEDED
    delivery = WebhookDelivery.objects.get()
    assert (delivery.status, delivery.attempts) == ("pending", 0)
    assert enqueued == [("generations.tasks.send_webhook", (delivery.pk,))]

    run_jobs(enqueued)  # the job's attempt meets the closed port

    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == ("pending", 1)
    assert "refused" in delivery.last_error
    wait = delivery.next_attempt_at - timezone.now()
    assert RETRY_DELAYS[0] - timedelta(seconds=5) < wait <= RETRY_DELAYS[0]


def test_a_retry_waits_until_it_is_due(user, dead_address, downloading, enqueued, committed):
    webhook_to(user, dead_address)
    with committed():
        succeed(downloading)
    run_jobs(enqueued)

    with committed():
        notify.enqueue_due_webhooks()
    notify.send_webhook(WebhookDelivery.objects.get().pk)  # a stray job, too soon

    assert enqueued == []
    assert WebhookDelivery.objects.get().attempts == 1


def test_reconcile_retries_with_backoff_then_gives_up(
    user, dead_address, downloading, enqueued, committed
):
    webhook_to(user, dead_address)
    with committed():
        succeed(downloading)
    run_jobs(enqueued)
    waits = []
    for _ in RETRY_DELAYS:
        delivery = WebhookDelivery.objects.get()
        waits.append(round((delivery.next_attempt_at - timezone.now()).total_seconds() / 10) * 10)
        WebhookDelivery.objects.update(next_attempt_at=timezone.now())  # time passes
        with committed():
            tasks.reconcile()
        run_jobs(enqueued)

    assert waits == [30, 120, 600, 3600]
    delivery = WebhookDelivery.objects.get()
    assert (delivery.status, delivery.attempts) == ("failed", 5)


def test_a_refusal_of_the_receiver_is_final_and_a_5xx_is_retried(user, receiver, make_generation):
    webhook_to(user, receiver.url)
    receiver.status = 404
    succeed(make_generation(status=Status.DOWNLOADING))
    receiver_gone = WebhookDelivery.objects.get()
    notify.send_webhook(receiver_gone.pk)
    receiver.status = 503
    succeed(make_generation(status=Status.DOWNLOADING))
    receiver_busy = WebhookDelivery.objects.exclude(pk=receiver_gone.pk).get()
    notify.send_webhook(receiver_busy.pk)

    receiver_gone.refresh_from_db()
    receiver_busy.refresh_from_db()
    assert (receiver_gone.status, receiver_gone.last_response_code) == ("failed", 404)
    assert (receiver_busy.status, receiver_busy.last_response_code) == ("pending", 503)


def test_a_private_address_is_refused_when_the_studio_does_not_allow_it(
    user, receiver, downloading, settings
):
    webhook_to(user, receiver.url)
    succeed(downloading)
    settings.NOTIFY_PRIVATE_WEBHOOKS = False

    notify.send_webhook(WebhookDelivery.objects.get().pk)

    assert receiver.received == []
    delivery = WebhookDelivery.objects.get()
    assert (
        delivery.status == DeliveryStatus.FAILED and "not a public address" in delivery.last_error
    )


def test_an_announcement_that_fails_never_reaches_the_pipeline(
    user, receiver, downloading, monkeypatch
):
    webhook_to(user, receiver.url)

    def broken(*args, **kwargs):
        raise RuntimeError("the notification tables are gone")

    monkeypatch.setattr(WebhookDelivery.objects, "create", broken)

    assert succeed(downloading)
    downloading.refresh_from_db()
    assert downloading.status == Status.SUCCEEDED


# --- review decisions, budgets, e-mail -----------------------------------------------------


def test_a_review_decision_tells_the_owner(user, reviewer, receiver, finished, enqueued, committed):
    user.email = "maya@example.com"
    user.save()
    webhook_to(user, receiver.url)

    with committed():
        finished.review(reviewer, ReviewState.APPROVED, "Lovely light")
    run_jobs(enqueued)

    event = WebhookDelivery.objects.get(person=user).payload
    assert event["event"] == "review.decision"
    assert event["review"] == {"decision": "approved", "by": "rui", "note": "Lovely light"}
    (message,) = mail.outbox
    assert message.to == ["maya@example.com"]
    assert message.subject == f"WanStudio: #{finished.pk} approved by rui"
    assert "Lovely light" in message.body and f"/generations/{finished.pk}/" in message.body


def test_reviewing_ones_own_work_tells_nobody(user, receiver, finished, enqueued, committed):
    webhook_to(user, receiver.url)

    with committed():
        finished.review(user, ReviewState.APPROVED)

    assert not WebhookDelivery.objects.exists() and enqueued == []


def test_a_failure_is_e_mailed_by_default(user, make_generation, enqueued, committed):
    user.email = "maya@example.com"
    user.save()

    with committed():
        make_generation(status=Status.PROCESSING).mark_failed("Out of luck")
    run_jobs(enqueued)

    (message,) = mail.outbox
    assert "failed: Out of luck" in message.body


def test_a_finished_generation_is_not_e_mailed_unless_chosen(
    user, downloading, enqueued, committed
):
    user.email = "maya@example.com"
    user.save()

    with committed():
        succeed(downloading)

    assert enqueued == []


def submit(browser, picture):
    return browser.post("/", {"prompt": "a calm sea", "source_image": picture.pk})


def test_crossing_80_percent_of_the_budget_tells_once(
    user, member_client, source_image, receiver, enqueued
):
    webhook_to(user, receiver.url)
    Budget.objects.create(user=user, monthly_limit=Decimal("1.00"))  # a 480p video is 0.20

    for _ in range(5):
        assert submit(member_client, source_image).status_code == 302

    (delivery,) = WebhookDelivery.objects.filter(kind=EventKind.BUDGET_WARNING)
    assert delivery.payload["budget"] == {
        "spent": "0.80",
        "limit": "1.00",
        "currency": "USD",
        "percent": 80,
    }
    assert delivery.payload["generation"] is None


# --- the settings page -------------------------------------------------------------------------

PAGE = "/settings/notifications/"


def test_the_page_shows_the_defaults(member_client):
    page = member_client.get(PAGE).content.decode()

    assert 'name="webhook_url"' in page and "Send a test" in page
    assert "Nothing sent yet" in page
    assert not NotificationSettings.objects.exists()  # looking writes nothing


def test_an_ftp_address_is_refused_next_to_its_field(member_client):
    response = member_client.post(PAGE, {"webhook_url": "ftp://files.example.com/in"})

    assert response.status_code == 400
    page = response.content.decode()
    assert 'id="id_webhook_url-error">Use an http:// or https:// address.' in page
    assert not NotificationSettings.objects.exists()


def test_an_address_inside_the_network_is_refused_unless_allowed(member_client, settings):
    settings.NOTIFY_PRIVATE_WEBHOOKS = False

    response = member_client.post(PAGE, {"webhook_url": "http://169.254.169.254/latest"})

    assert response.status_code == 400
    assert "inside the studio&#x27;s own network" in response.content.decode()


def test_saving_a_first_webhook_shows_its_new_secret_once(member_client, user):
    response = member_client.post(
        PAGE,
        {
            "webhook_url": "https://hooks.example.com/in",
            "webhook_kinds": ["generation.succeeded", "review.decision"],
            "email": "maya@example.com",
        },
    )

    preferences = NotificationSettings.objects.get(person=user)
    assert preferences.webhook_kinds == ["generation.succeeded", "review.decision"]
    assert preferences.email_kinds == []
    user.refresh_from_db()
    assert user.email == "maya@example.com"
    assert preferences.webhook_secret in response.content.decode()
    later = member_client.get(PAGE).content.decode()
    assert preferences.webhook_secret not in later and preferences.secret_hint in later


def test_a_new_secret_replaces_the_old_one(member_client, user):
    old = webhook_to(user, "https://hooks.example.com/in").webhook_secret

    response = member_client.post(f"{PAGE}secret/")

    new = NotificationSettings.objects.get(person=user).webhook_secret
    assert new != old and new.startswith("whsec_")
    assert new in response.content.decode()


def test_send_a_test_records_a_delivery(member_client, user, enqueued):
    webhook_to(user, "https://hooks.example.com/in", webhook_kinds=[])

    response = member_client.post(f"{PAGE}test/")

    assert response.status_code == 302
    delivery = WebhookDelivery.objects.get()
    assert delivery.kind == EventKind.TEST and delivery.payload["generation"] is None


def test_the_deliveries_stop_being_polled_once_nothing_is_on_its_way(member_client, user):
    webhook_to(user, "https://hooks.example.com/in")
    notify.announce(EventKind.TEST, person=user)
    polled = {"HTTP_HX_REQUEST": "true"}

    on_its_way = member_client.get(f"{PAGE}deliveries/", **polled)
    WebhookDelivery.objects.update(status=DeliveryStatus.DELIVERED, last_response_code=200)
    done = member_client.get(f"{PAGE}deliveries/", **polled)

    assert on_its_way.status_code == 200 and 'hx-trigger="every 3s"' in on_its_way.content.decode()
    assert done.status_code == 286 and "HTTP 200" in done.content.decode()


def test_the_page_lists_only_ones_own_deliveries(member_client, other_user):
    webhook_to(other_user, "https://hooks.example.com/noor")
    notify.announce(EventKind.TEST, person=other_user)

    page = member_client.get(PAGE).content.decode()

    assert "hooks.example.com/noor" not in page and "Nothing sent yet" in page
