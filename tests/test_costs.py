"""Prices, budgets and the ledger; out of credit pauses everyone, loses nothing."""

from decimal import Decimal

import pytest
from django.test import Client
from django.utils import timezone

from generations import costs, pipeline, wan_api
from generations.models import Budget, Generation, LedgerEntry, Status, StudioState


def signed_in(person):
    browser = Client()
    browser.force_login(person)
    return browser


def test_estimate_follows_the_price_table(settings):
    settings.WAN_PRICE_TABLE = {
        "480p": "0.2",
        "480p_fast": "0.1",
        "720p": "0.5",
        "720p_fast": "0.3",
    }
    assert costs.estimate(832, 480, False) == Decimal("0.2")
    assert costs.estimate(480, 832, True) == Decimal("0.1")
    assert costs.estimate(1280, 720, False) == Decimal("0.5")
    assert costs.estimate(720, 1280, True) == Decimal("0.3")


def test_each_generation_records_its_estimated_cost(user, source_image):
    signed_in(user).post("/", {"prompt": "x", "source_image": source_image.pk, "clarity": "720p"})
    assert Generation.objects.get().estimated_cost == Decimal("0.40")


def test_submit_over_budget_is_refused_with_spend_and_budget(user, source_image):
    Budget.objects.create(user=user, monthly_limit=Decimal("0.50"))
    browser = signed_in(user)
    for _ in range(2):
        browser.post("/", {"prompt": "x", "source_image": source_image.pk})

    response = browser.post("/", {"prompt": "x", "source_image": source_image.pk})

    assert response.status_code == 400
    page = response.content.decode()
    assert "monthly budget is 0.50 USD" in page and "spent 0.40 USD" in page
    assert Generation.objects.count() == 2


def test_api_refusal_names_the_budget(user, source_image):
    from generations.models import ApiToken

    Budget.objects.create(user=user, monthly_limit=Decimal("0.10"))
    key = ApiToken.issue(user).key
    response = Client().post(
        "/api/generations/",
        {"prompt": "x", "source_image": source_image.pk},
        HTTP_AUTHORIZATION=f"Token {key}",
    )
    assert response.status_code == 400
    assert "budget" in response.json()["errors"]["__all__"][0]
    assert not Generation.objects.exists()


def accepted(generation, task_id=None):
    """The way the pipeline records a task the API accepted."""
    assert generation.claim_for_submit()
    assert generation.mark_submitted(task_id or f"task-{generation.pk}", timezone.now())
    return generation


def finished(generation):
    accepted(generation)
    Generation.objects.filter(pk=generation.pk).update(status=Status.SUCCEEDED)
    generation.refresh_from_db()
    return generation


def test_canceled_and_never_accepted_cost_nothing(user, source_image):
    make = Generation.objects.create_queued
    canceled = make(owner=user, source_image=source_image, prompt="a", estimated_cost=1)
    canceled.cancel()
    refused = make(owner=user, source_image=source_image, prompt="b", estimated_cost=1)
    refused.mark_failed("refused")
    make(owner=user, source_image=source_image, prompt="c", estimated_cost=Decimal("0.25"))

    assert costs.monthly_spend(user) == Decimal("0.25")
    assert not LedgerEntry.objects.exists()


def test_acceptance_writes_one_ledger_entry(user, source_image):
    generation = Generation.objects.create_queued(
        owner=user, source_image=source_image, prompt="a", estimated_cost=Decimal("0.4"),
        width=1280, height=720, fast_mode=True,
    )  # fmt: skip
    accepted(generation, "task-77")

    entry = LedgerEntry.objects.get()
    assert (entry.person, entry.person_name, entry.generation_id, entry.api_task_id) == (
        user, "maya", generation.pk, "task-77",
    )  # fmt: skip
    assert (entry.amount, entry.currency, entry.clarity, entry.fast_mode) == (
        Decimal("0.4"), "USD", "720p", True,
    )  # fmt: skip
    assert entry.month == costs.month_start().date()
    assert costs.monthly_spend(user) == Decimal("0.4")


def test_deleting_finished_videos_keeps_what_they_cost(user, source_image):
    """A member at her limit deleted two finished videos and could submit again."""
    Budget.objects.create(user=user, monthly_limit=Decimal("0.40"))
    make = Generation.objects.create_queued
    videos = [
        finished(make(owner=user, source_image=source_image, prompt=p, estimated_cost="0.20"))
        for p in "ab"
    ]
    for video in videos:
        video.delete_with_files()

    response = signed_in(user).post("/", {"prompt": "x", "source_image": source_image.pk})

    assert response.status_code == 400
    assert "spent 0.40 USD" in response.content.decode()
    assert LedgerEntry.objects.count() == 2
    assert not Generation.objects.exists()


def test_a_failed_task_the_api_accepted_stays_billed(user, source_image):
    generation = accepted(
        Generation.objects.create_queued(
            owner=user, source_image=source_image, prompt="a", estimated_cost=Decimal("0.2")
        )
    )
    generation.mark_failed("The safety checker refused it")
    assert costs.monthly_spend(user) == Decimal("0.2")


def test_last_month_does_not_count_this_month(user, source_image):
    generation = accepted(
        Generation.objects.create_queued(
            owner=user, source_image=source_image, prompt="a", estimated_cost=5
        )
    )
    generation.mark_failed("done")
    LedgerEntry.objects.update(month=costs.month_start().date() - timezone.timedelta(days=3))
    assert costs.monthly_spend(user) == 0


def test_form_shows_cost_and_remaining_budget(user):
    Budget.objects.create(user=user, monthly_limit=Decimal("10"))
    page = signed_in(user).get("/").content.decode()
    assert 'id="cost-estimate">0.20<' in page
    assert "10.00 USD left of your 10.00 monthly budget" in page


def test_ledger_shows_spend_per_person_and_team_total(user, other_user, admin_user, source_image):
    for person, cost in ((user, "0.20"), (user, "0.40"), (other_user, "0.20")):
        accepted(
            Generation.objects.create_queued(
                owner=person, source_image=source_image, prompt="x", estimated_cost=Decimal(cost)
            )
        )
    Generation.objects.filter(owner=user).first().mark_failed("x")
    Generation.objects.filter(owner=user, status=Status.FAILED).get().delete_with_files()

    page = signed_in(admin_user).get("/ledger/").content.decode()
    assert "team total 0.80" in page
    assert "<td>maya</td><td>2</td><td>0.60 USD</td>" in page
    assert "<td>noor</td><td>1</td><td>0.20 USD</td>" in page


# --- out of credit -----------------------------------------------------------------------


class CountingClient:
    def __init__(self, answer):
        self.answer = answer
        self.sent = 0

    def submit(self, params):
        self.sent += 1
        return self.answer


@pytest.fixture
def out_of_credit(monkeypatch):
    client = CountingClient(
        wan_api.SubmitResult(
            wan_api.SubmitOutcome.REJECTED, reason="BILLING_BALANCE_NOT_ENOUGH", http_status=400
        )
    )
    monkeypatch.setattr(pipeline, "api_client", lambda: client)
    monkeypatch.setattr(pipeline, "reserve_api_request", lambda max_wait: True)
    return client


def test_balance_exhaustion_pauses_everyone_and_keeps_the_row_queued(
    out_of_credit, user, source_image
):
    first = Generation.objects.create_queued(owner=user, source_image=source_image, prompt="a")
    second = Generation.objects.create_queued(owner=user, source_image=source_image, prompt="b")

    pipeline.submit_generation(first.pk)
    pipeline.submit_generation(second.pk)

    assert StudioState.submissions_are_paused()
    assert out_of_credit.sent == 1
    assert set(Generation.objects.values_list("status", flat=True)) == {Status.QUEUED}


def test_banner_tells_everyone_and_offers_admins_resume(user, admin_user):
    StudioState.pause("The API account is out of credit.")
    assert "Submissions are paused" in signed_in(user).get("/").content.decode()
    assert "Resume submissions" not in signed_in(user).get("/").content.decode()
    assert "Resume submissions" in signed_in(admin_user).get("/").content.decode()


def test_resume_lets_queued_generations_go(
    out_of_credit, user, admin_user, source_image, monkeypatch
):
    generation = Generation.objects.create_queued(owner=user, source_image=source_image, prompt="a")
    pipeline.submit_generation(generation.pk)

    signed_in(admin_user).post("/studio/resume/")
    out_of_credit.answer = wan_api.SubmitResult(wan_api.SubmitOutcome.ACCEPTED, task_id="t1")
    pipeline.submit_generation(generation.pk)

    generation.refresh_from_db()
    assert not StudioState.submissions_are_paused()
    assert generation.status == Status.SUBMITTED
