"""Prices, budgets and the ledger; out of credit pauses everyone, loses nothing."""

from decimal import Decimal

import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from django.utils import timezone

from generations import costs, pipeline, wan_api
from generations.models import Budget, Generation, LedgerEntry, Status, StudioState

from .support.plans import sqlite_plan


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


def test_each_generation_records_its_estimated_cost(member_client, source_image):
    member_client.post("/", {"prompt": "x", "source_image": source_image.pk, "clarity": "720p"})
    assert Generation.objects.get().estimated_cost == Decimal("0.40")


def test_submit_over_budget_is_refused_with_spend_and_budget(member_client, user, source_image):
    Budget.objects.create(user=user, monthly_limit=Decimal("0.50"))
    browser = member_client
    for _ in range(2):
        browser.post("/", {"prompt": "x", "source_image": source_image.pk})

    response = browser.post("/", {"prompt": "x", "source_image": source_image.pk})

    assert response.status_code == 400
    page = response.content.decode()
    assert "monthly budget is 0.50 USD" in page and "spent 0.40 USD" in page
    assert Generation.objects.count() == 2


def test_api_refusal_names_the_budget(api_client, user, source_image):
    Budget.objects.create(user=user, monthly_limit=Decimal("0.10"))
    response = api_client.post(
        "/api/generations/", {"prompt": "x", "source_image": source_image.pk}
    )
    assert response.status_code == 400
    assert "budget" in response.json()["errors"]["__all__"][0]
    assert not Generation.objects.exists()


def test_canceled_and_never_accepted_cost_nothing(make_generation, user):
    canceled = make_generation(estimated_cost=1)
    canceled.cancel()
    refused = make_generation(estimated_cost=1)
    refused.mark_failed("refused")
    make_generation(estimated_cost=Decimal("0.25"))

    assert costs.monthly_spend(user) == Decimal("0.25")
    assert not LedgerEntry.objects.exists()


def test_acceptance_writes_one_ledger_entry(make_generation, user):
    generation = make_generation(
        estimated_cost=Decimal("0.4"), width=1280, height=720, fast_mode=True,
        accepted=True, api_task_id="task-77",
    )  # fmt: skip

    entry = LedgerEntry.objects.get()
    assert (entry.person, entry.person_name, entry.generation_id, entry.api_task_id) == (
        user, "maya", generation.pk, "task-77",
    )  # fmt: skip
    assert (entry.amount, entry.currency, entry.clarity, entry.fast_mode) == (
        Decimal("0.4"), "USD", "720p", True,
    )  # fmt: skip
    assert entry.month == costs.month_start().date()
    assert costs.monthly_spend(user) == Decimal("0.4")


def test_deleting_finished_videos_keeps_what_they_cost(
    member_client, make_generation, user, source_image
):
    """A member at her limit deleted two finished videos and could submit again."""
    Budget.objects.create(user=user, monthly_limit=Decimal("0.40"))
    videos = [
        make_generation(status=Status.SUCCEEDED, accepted=True, estimated_cost="0.20")
        for _ in range(2)
    ]
    for video in videos:
        video.delete_with_files()

    response = member_client.post("/", {"prompt": "x", "source_image": source_image.pk})

    assert response.status_code == 400
    assert "spent 0.40 USD" in response.content.decode()
    assert LedgerEntry.objects.count() == 2
    assert not Generation.objects.exists()


def test_a_failed_task_the_api_accepted_stays_billed(make_generation, user):
    generation = make_generation(accepted=True, estimated_cost=Decimal("0.2"))
    generation.mark_failed("The safety checker refused it")
    assert costs.monthly_spend(user) == Decimal("0.2")


def test_last_month_does_not_count_this_month(make_generation, user):
    generation = make_generation(accepted=True, estimated_cost=5)
    generation.mark_failed("done")
    LedgerEntry.objects.update(month=costs.month_start().date() - timezone.timedelta(days=3))
    assert costs.monthly_spend(user) == 0


def test_form_shows_cost_and_remaining_budget(member_client, user):
    Budget.objects.create(user=user, monthly_limit=Decimal("10"))
    page = member_client.get("/").content.decode()
    assert 'id="cost-estimate">0.20<' in page
    assert "10.00 USD left of your 10.00 monthly budget" in page


def test_ledger_shows_spend_per_person_and_team_total(
    admin_client, make_generation, user, other_user
):
    for person, cost in ((user, "0.20"), (user, "0.40"), (other_user, "0.20")):
        make_generation(person, accepted=True, estimated_cost=Decimal(cost))
    Generation.objects.filter(owner=user).first().mark_failed("x")
    Generation.objects.filter(owner=user, status=Status.FAILED).get().delete_with_files()

    page = admin_client.get("/ledger/").content.decode()
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
def out_of_credit(pipeline_api):
    return pipeline_api(
        CountingClient(
            wan_api.SubmitResult(
                wan_api.SubmitOutcome.REJECTED, reason="BILLING_BALANCE_NOT_ENOUGH", http_status=400
            )
        )
    )


def test_balance_exhaustion_pauses_everyone_and_keeps_the_row_queued(
    out_of_credit, make_generation
):
    first, second = make_generation(), make_generation()

    pipeline.submit_generation(first.pk)
    pipeline.submit_generation(second.pk)

    assert StudioState.submissions_are_paused()
    assert out_of_credit.sent == 1
    assert set(Generation.objects.values_list("status", flat=True)) == {Status.QUEUED}


def test_banner_tells_everyone_and_offers_admins_resume(member_client, admin_client):
    StudioState.pause("The API account is out of credit.")
    assert "Submissions are paused" in member_client.get("/").content.decode()
    assert "Resume submissions" not in member_client.get("/").content.decode()
    assert "Resume submissions" in admin_client.get("/").content.decode()


def test_resume_lets_queued_generations_go(out_of_credit, admin_client, make_generation):
    generation = make_generation()
    pipeline.submit_generation(generation.pk)

    admin_client.post("/studio/resume/")
    out_of_credit.answer = wan_api.SubmitResult(wan_api.SubmitOutcome.ACCEPTED, task_id="t1")
    pipeline.submit_generation(generation.pk)

    generation.refresh_from_db()
    assert not StudioState.submissions_are_paused()
    assert generation.status == Status.SUBMITTED


@pytest.mark.skipif(connection.vendor != "sqlite", reason="SQLite's query plan")
def test_a_persons_spend_this_month_is_summed_from_the_index_alone(user):
    """The studio page reads it on every visit; a busy person has thousands of ledger rows a
    month, each a row lookup for its amount before amount was in the index."""
    charged, held = costs.spend_this_month()
    people = get_user_model().objects.filter(pk=user.pk).values(charged=charged, held=held)
    plan = sqlite_plan(people)
    assert "COVERING INDEX ledger_spend" in plan
