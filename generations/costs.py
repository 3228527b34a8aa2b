"""What generations cost: the price table, monthly spend, budgets and the ledger."""

from dataclasses import dataclass
from decimal import Decimal

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db.models import Count, F, OuterRef, Subquery, Sum
from django.utils import timezone

from .models import Budget, Generation, LedgerEntry, Status
from .models.ledger import month_of

# Queued work holds its price until the API accepts it (then the ledger has it) or it ends
# unsent. Needs attention may have been billed: it keeps holding until a person decides.
HOLDING_STATUSES = (Status.QUEUED, Status.SUBMITTING, Status.NEEDS_ATTENTION)


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


def spend_this_month(now=None):
    """(charged, held) per person as subqueries on the user table: what the API billed them this
    month (the ledger), and what their work asked for and not yet billed holds."""
    charged = (
        LedgerEntry.objects.filter(person=OuterRef("pk"), month=month_of(now or timezone.now()))
        .values("person")
        .annotate(total=Sum("amount"))
        .values("total")
    )
    held = (
        Generation.objects.filter(owner=OuterRef("pk"), status__in=HOLDING_STATUSES)
        .values("owner")
        .annotate(total=Sum("estimated_cost"))
        .values("total")
    )
    return Subquery(charged), Subquery(held)


def monthly_spend(user, now=None):
    """What this person spent this month, billed plus held. One statement, so both are read at
    one moment: a task accepted between two reads would otherwise be counted in neither."""
    charged, held = spend_this_month(now)
    totals = get_user_model().objects.filter(pk=user.pk).values(charged=charged, held=held).first()
    totals = totals or {}
    return (totals.get("charged") or Decimal("0")) + (totals.get("held") or Decimal("0"))


def hold_budget(user):
    """Serialise this person's submits until the transaction ends, and return their limit.

    The UPDATE takes the budget row's lock on PostgreSQL (SQLite's transactions already
    hold the write lock from BEGIN IMMEDIATE), so a second submit reads the spend only
    after the first has saved what it holds."""
    locked = Budget.objects.filter(user=user).update(monthly_limit=F("monthly_limit"))
    if not locked:
        Budget.objects.get_or_create(user=user)
        Budget.objects.filter(user=user).update(monthly_limit=F("monthly_limit"))
    return Budget.objects.get(user=user).monthly_limit


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
    """Billed spend per person per month from the ledger, newest month first, each month with
    its team total. Deleting a generation never changes it."""
    since = (month_start() - timezone.timedelta(days=31 * (months - 1))).date().replace(day=1)
    rows = (
        LedgerEntry.objects.filter(month__gte=since)
        .values("month", "person_name", "currency")
        .annotate(spent=Sum("amount"), videos=Count("id"))
        .order_by("-month", "person_name")
    )
    by_month = {}
    for row in rows:
        month = by_month.setdefault(row["month"], LedgerMonth(row["month"], []))
        month.rows.append(row)
        month.total += row["spent"] or Decimal("0")
        month.videos += row["videos"]
    return list(by_month.values())


def monthly_spend_by_person(now=None):
    """{person's pk: spend} for everyone who spent or holds something this month, counted as
    monthly_spend counts one person's, in one statement for the whole team."""
    rows = get_user_model().objects.values_list("pk", *spend_this_month(now))
    return {
        pk: (charged or Decimal("0")) + (held or Decimal("0"))
        for pk, charged, held in rows
        if charged or held
    }


def set_monthly_limit(user, limit):
    """Set this person's monthly budget; None clears it (unlimited)."""
    Budget.objects.update_or_create(user=user, defaults={"monthly_limit": limit})
