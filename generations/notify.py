"""Notifications out: e-mail and each person's own webhook, for what happens to their work.

`announce` is called where something happens (a generation finishes or fails, a review
decision, a comment, a guest's decision, a budget at 80 %). It records the outgoing work in the
caller's transaction and hands it to the cluster once that commits: it never sends anything
itself and never raises into its caller, so a dead receiver or a broken mail server cannot slow
or stop the pipeline.

A webhook is a POST of JSON (or, with the Slack option, `{"text": ...}`), signed:

    X-WanStudio-Timestamp: 1718000000
    X-WanStudio-Signature: sha256=<hex HMAC-SHA256, keyed with the secret, of
                           the timestamp, a ".", then the raw body>
    X-WanStudio-Delivery: <the event's id, the same on every retry>

A receiver recomputes the HMAC over exactly those bytes, compares in constant time, refuses a
timestamp more than five minutes old (so a captured request cannot be replayed later) and may
drop a delivery id it has seen. An attempt that fails (no connection, no answer within
NOTIFY_WEBHOOK_TIMEOUT, a 5xx, 408 or 429) is retried after 30 s, 2 min, 10 min and 1 h, then
the delivery has failed; other answers are final. Retries are due rows, which reconcile hands to
the cluster every minute; each attempt claims its row first.
"""

import hashlib
import hmac
import json
import logging
import re
import time
import uuid
from decimal import Decimal

import requests
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.mail import send_mail
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from lib.public_fetch import AddressNotAllowed, public_only_session

from . import jobs
from .models.notification import EventKind, NotificationSettings, WebhookDelivery

log = logging.getLogger(__name__)

PROMPT_CHARS = 200
BUDGET_WARNING_SHARE = Decimal("0.8")
# Answers that say "later", not "no": retried like a connection that failed.
RETRYABLE_CODES = {408, 425, 429}
REVIEW_VERBS = {
    "approved": "approved",
    "changes": "asked for changes to",
    "rejected": "rejected",
    "flagged": "flagged",
    "pending": "set back to pending review",
}


def announce(kind, generation=None, person=None, **details):
    """Tell person (the generation's owner unless named) that kind happened. Their webhook
    delivery is recorded now, so it exists only if the caller's change commits; the delivery
    and any e-mail reach the cluster after that commit."""
    try:
        # A savepoint: whatever fails here leaves the caller's transaction as it was.
        with transaction.atomic():
            record(kind, generation, person or generation.owner, details)
    except Exception:
        log.exception(
            "Could not announce %s (generation %s)", kind, getattr(generation, "pk", None)
        )


def record(kind, generation, person, details):
    preferences = NotificationSettings.for_person(person)
    by_email = person.is_active and bool(person.email) and preferences.wants_email(kind)
    by_webhook = person.is_active and preferences.wants_webhook(kind)
    if not (by_email or by_webhook):
        return
    event = event_payload(kind, generation, person, details)
    if by_webhook:
        delivery = WebhookDelivery.objects.create(
            person=person,
            kind=kind,
            generation_id=generation.pk if generation else None,
            payload=event,
        )
        jobs.enqueue_webhook(delivery.pk)
    if by_email:
        jobs.enqueue_email(person.pk, f"WanStudio: {event['title']}", email_body(event))


def announce_budget_crossing(person, spend, cost):
    """A submit about to hold cost took spend (a costs.BudgetView) across 80 % of the person's
    monthly limit: tell them. Later submits above the line say nothing."""
    if not spend.limit or spend.limit <= 0:
        return
    line = spend.limit * BUDGET_WARNING_SHARE
    if spend.spent < line <= spend.spent + cost:
        announce(
            EventKind.BUDGET_WARNING, person=person, spent=spend.spent + cost, limit=spend.limit
        )


# --- what is said ---------------------------------------------------------------------------


def absolute(path):
    """A link for a mail client or another service, from the studio's public address."""
    return settings.PUBLIC_BASE_URL + path


def event_payload(kind, generation, person, details):
    title, text, extra = describe(kind, generation, details)
    return {
        "id": uuid.uuid4().hex,
        "event": str(kind),
        "time": timezone.now().isoformat(),
        "person": person.get_username(),
        "title": title,
        "text": text,
        "url": absolute(event_path(kind, generation)),
        "generation": generation_facts(generation) if generation else None,
        **extra,
    }


def event_path(kind, generation):
    """Where the event is seen: the generation's page; the form, which shows what a budget has
    left; this page, for a test."""
    if generation:
        return reverse("studio:detail", args=[generation.pk])
    if kind == EventKind.BUDGET_WARNING:
        return reverse("studio:dashboard")
    return reverse("studio:notifications")


def generation_facts(generation):
    prompt = generation.prompt
    if len(prompt) > PROMPT_CHARS:
        prompt = prompt[: PROMPT_CHARS - 1] + "…"
    facts = {
        "id": generation.pk,
        "status": generation.status,
        "prompt": prompt,
        "url": absolute(reverse("studio:detail", args=[generation.pk])),
        "video_url": None,
    }
    if generation.video:
        facts["video_url"] = absolute(reverse("studio:video", args=[generation.pk]))
    return facts


def describe(kind, generation, details):
    """(a short title, a sentence for people, what the JSON adds for programs)."""
    number = f"#{generation.pk}" if generation else ""
    if kind == EventKind.GENERATION_SUCCEEDED:
        return f"{number} finished", f"Your generation {number} finished.", {}
    if kind == EventKind.GENERATION_FAILED:
        state = "needs your attention" if generation.status == "needs_attention" else "failed"
        reason = generation.failure_reason or "no reason was given"
        return f"{number} {state}", f"Your generation {number} {state}: {reason}", {}
    if kind == EventKind.REVIEW_DECISION:
        reviewer = details["reviewer"].get_username()
        decision = details["decision"]
        verb = REVIEW_VERBS.get(decision, decision)
        note = details.get("note") or ""
        text = f"{reviewer} {verb} your generation {number}." + (f" Note: {note}" if note else "")
        review = {"decision": decision, "by": reviewer, "note": note}
        title = "changes requested" if decision == "changes" else verb
        return f"{number} {title} by {reviewer}", text, {"review": review}
    if kind == EventKind.BUDGET_WARNING:
        spent, limit = details["spent"], details["limit"]
        currency = settings.WAN_PRICE_CURRENCY
        percent = int(spent * 100 / limit)
        text = (
            f"You have used {percent} % of your monthly budget: {spent:.2f} of "
            f"{limit:.2f} {currency}."
        )
        budget = {
            "spent": f"{spent:.2f}",
            "limit": f"{limit:.2f}",
            "currency": currency,
            "percent": percent,
        }
        return f"{percent} % of your monthly budget", text, {"budget": budget}
    if kind == EventKind.GUEST_DECISION:
        guest, decision = details["guest"], details["decision"]
        verb = "approved" if decision == "approve" else "asked for changes to"
        note = details.get("note") or ""
        text = f"{guest} (a guest) {verb} your generation {number}." + (
            f" Note: {note}" if note else ""
        )
        facts = {"guest": {"name": guest, "decision": decision, "note": note}}
        return f"{number}: {guest} {verb} it", text, facts
    if kind == EventKind.COMMENT:
        return describe_comment(number, generation, details["note"])
    return "a test", "A test from WanStudio: your notifications reach you.", {}


def describe_comment(number, generation, note):
    who = f"{note.author_name} (a guest)" if note.by_guest else note.author_name
    thread = note.parent or note
    at = f"{thread.seconds:.2f} s"
    if note.parent_id:
        text = f"{who} replied to the note at {at} on your generation {number}: {note.body}"
        title = f"{number}: {note.author_name} replied at {at}"
    else:
        text = (
            f"{who} commented at {at} (frame {note.frame}) on your generation {number}: {note.body}"
        )
        title = f"{number}: {note.author_name} commented at {at}"
    comment = {
        "id": note.pk,
        "thread": thread.pk,
        "by": note.author_name,
        "guest": note.by_guest,
        "frame": thread.frame,
        "body": note.body,
    }
    # Straight to the thread on the video's page.
    url = absolute(f"{reverse('studio:detail', args=[generation.pk])}#note-{thread.pk}")
    return title, text, {"comment": comment, "url": url}


def email_body(event):
    settings_link = absolute(reverse("studio:notifications"))
    return (
        f"{event['text']}\n\n{event['url']}\n\n"
        f"--\nYou choose what you hear about on {settings_link}\n"
    )


def slack_text(event):
    """Slack's message format: &, < and > escaped, links as <url|label>."""
    escaped = event["text"].replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    generation = event.get("generation")
    label = f"Open #{generation['id']}" if generation else "Open WanStudio"
    return f"{escaped} <{event['url']}|{label}>"


def request_body(event, slack_format):
    content = {"text": slack_text(event)} if slack_format else event
    return json.dumps(content, ensure_ascii=False, separators=(",", ":")).encode()


def signature(secret, timestamp, body):
    """The hex HMAC-SHA256 of "<timestamp>.<body>": the timestamp is signed, so it cannot be
    swapped for a fresh one to replay an old request."""
    message = timestamp.encode() + b"." + body
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def signed_headers(secret, body, delivery):
    timestamp = str(int(time.time()))
    return {
        "Content-Type": "application/json",
        "User-Agent": "WanStudio-Webhooks/1",
        "X-WanStudio-Event": delivery.kind,
        "X-WanStudio-Delivery": delivery.event_id,
        "X-WanStudio-Timestamp": timestamp,
        "X-WanStudio-Signature": f"sha256={signature(secret, timestamp, body)}",
    }


# --- sending (cluster jobs only) --------------------------------------------------------------


def webhook_session():
    """Public addresses only, checked on the addresses connected to, unless allowed."""
    if not settings.NOTIFY_PRIVATE_WEBHOOKS:
        return public_only_session()
    session = requests.Session()
    session.trust_env = False
    return session


def send_webhook(delivery_id):
    """One attempt at one delivery: POST it, then record what came of it."""
    delivery = WebhookDelivery.objects.filter(pk=delivery_id).first()
    if delivery is None or not delivery.claim():
        return  # delivered, given up, not due yet, or another worker has it
    preferences = NotificationSettings.objects.filter(person_id=delivery.person_id).first()
    url = preferences.webhook_url if preferences else ""
    if not url:
        delivery.record_failure("", "The webhook address was removed", retry=False)
        return
    # The settings of now: a new address, secret or format counts from the next attempt.
    body = request_body(delivery.payload, preferences.slack_format)
    headers = signed_headers(preferences.webhook_secret, body, delivery)
    timeout = settings.NOTIFY_WEBHOOK_TIMEOUT
    try:
        with webhook_session() as session:
            response = session.post(
                url,
                data=body,
                headers=headers,
                timeout=(timeout, timeout),
                allow_redirects=False,
                stream=True,  # the answer's body is never read
            )
            response.close()
    except AddressNotAllowed as refused:
        delivery.record_failure(url, f"Not sent: {refused}", retry=False)
    except requests.RequestException as error:
        delivery.record_failure(url, failure_text(error, timeout))
    except Exception as error:  # a bug must not leave the row claimed until reconcile
        log.exception("Webhook delivery %s failed", delivery_id)
        delivery.record_failure(url, f"Could not send: {type(error).__name__}")
    else:
        code = response.status_code
        if 200 <= code < 300:
            delivery.record_delivered(url, code)
        else:
            retry = code >= 500 or code in RETRYABLE_CODES
            delivery.record_failure(url, f"The receiver answered HTTP {code}", code, retry=retry)


def failure_text(error, timeout):
    if isinstance(error, requests.ConnectTimeout):
        return f"No connection within {timeout:g} s"
    if isinstance(error, requests.Timeout):
        return f"No answer within {timeout:g} s"
    if isinstance(error, requests.exceptions.SSLError):
        return "The TLS handshake failed"
    # requests' own text is a page of pool and retry wrappers: keep the system's reason.
    reason = re.search(r"\[Errno -?\d+\] ([^'\")]+)", str(error))
    if reason:
        return f"Could not connect: {reason.group(1).strip()}"
    return "Could not connect" if isinstance(error, requests.ConnectionError) else str(error)[:200]


def send_email(person_id, subject, body):
    """One notification e-mail. Not retried: a mail server queues and retries on its own."""
    person = get_user_model().objects.filter(pk=person_id, is_active=True).first()
    if person is None or not person.email:
        return
    try:
        send_mail(subject, body, None, [person.email])
    except Exception:
        log.exception("Could not send a notification e-mail to person %s", person_id)


def enqueue_due_webhooks(limit=200):
    """Hand the deliveries that are due (retries, and any whose job was lost) to the cluster."""
    try:
        due = WebhookDelivery.objects.due(timezone.now()).order_by("next_attempt_at")
        for delivery_id in due.values_list("pk", flat=True)[:limit]:
            jobs.enqueue_webhook(delivery_id)
    except Exception:  # reconcile is the cluster's heartbeat: it must finish
        log.exception("Could not hand the due webhook deliveries to the cluster")
