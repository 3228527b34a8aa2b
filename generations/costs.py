"""What generations cost: the price table, monthly spend, budgets and the ledger."""

from dataclasses import dataclass
from decimal import Decimal

from django.conf import settings
from django.db.models import Count, Q, Sum
from django.db.models.functions import TruncMonth
from django.utils import timezone

from .models import Budget, Generation, Status

# Spend counts what may have been billed: not canceled, and not refused before acceptance.
NOT_BILLED = Q(status=Status.CANCELED) | Q(status=Status.FAILED, api_task_id__isnull=True)


def clarity_of(width, height):
    return "720p" if max(width, height) == 1280 else "480p"


def estimate(width, height, fast_mode):
    key = clarity_of(width, height) + ("_fast" if fast_mode else "")
    return Decimal(str(settings.WAN_PRICE_TABLE[key]))


def price_list():
    """{key: Decimal} for the page that shows prices next to the form."""
    return {key: Decimal(str(value)) for key, value in settings.WAN_PRICE_TABLE.items()}


def month_start(now=None):
    now = timezone.localtime(now or timezone.now())
    return now.replace(day=1, hour=0, minute=0, second=0, microsecond=0)


def billable():
    return Generation.objects.exclude(NOT_BILLED)


def monthly_spend(user, now=None):
    rows = billable().filter(owner=user, created_at__gte=month_start(now))
    return rows.aggregate(total=Sum("estimated_cost"))["total"] or Decimal("0")


def monthly_limit(user):
    budget = Budget.objects.filter(user=user).first()
    return budget.monthly_limit if budget else None


@dataclass(frozen=True)
class BudgetView:
    spent: Decimal
    limit: Decimal | None

    @property
    def remaining(self):
        return None if self.limit is None else max(Decimal("0"), self.limit - self.spent)

    def refusal(self, cost):
        """A message for the person when cost does not fit, else None."""
        if self.limit is None or self.spent + cost <= self.limit:
            return None
        currency = settings.WAN_PRICE_CURRENCY
        return (
            f"This would cost {cost:.2f} {currency}, but your monthly budget is "
            f"{self.limit:.2f} {currency} and you have spent {self.spent:.2f} {currency} "
            "this month. Ask an admin to raise it."
        )


def budget_of(user):
    return BudgetView(monthly_spend(user), monthly_limit(user))


@dataclass
class LedgerMonth:
    month: object
    rows: list
    total: Decimal = Decimal("0")
    videos: int = 0


def ledger(months=12):
    """Spend per person per month, newest month first, each month with its team total."""
    since = month_start() - timezone.timedelta(days=31 * (months - 1))
    rows = (
        billable()
        .filter(created_at__gte=since.replace(day=1))
        .annotate(month=TruncMonth("created_at"))
        .values("month", "owner__username")
        .annotate(spent=Sum("estimated_cost"), videos=Count("id"))
        .order_by("-month", "owner__username")
    )
    by_month = {}
    for row in rows:
        month = by_month.setdefault(row["month"], LedgerMonth(row["month"], []))
        month.rows.append(row)
        month.total += row["spent"] or Decimal("0")
        month.videos += row["videos"]
    return list(by_month.values())
