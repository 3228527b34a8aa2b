"""Boards and tags at work: putting generations on boards, tagging them, and what a board
costs this month, read from the ledger, with its optional monthly budget enforced the way a
person's is (costs.py): under a lock on the board's row, before anything is queued."""

from dataclasses import dataclass
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import DecimalField, F, Func, IntegerField, OuterRef, Subquery
from django.utils import timezone

from .costs import HOLDING_STATUSES
from .models import TAG_MAX_CHARS, Board, BoardItem, Generation, GenerationTag, LedgerEntry, Tag
from .models.ledger import month_of

TAG_SUGGESTIONS = 200


# --- items -----------------------------------------------------------------------------------


def add_to_board(board, ids, person):
    """Put the generations with these ids that person may see on board; returns how many
    were not on it yet. Adding one twice changes nothing."""
    visible = Generation.objects.visible_to(person).filter(pk__in=ids)
    return place_on_board(board, visible.only("pk", "created_at"), person)


def place_on_board(board, generations, person):
    """Put generations (rows already judged visible to person) on board."""
    rows = list(generations)
    on_board = set(
        board.items.filter(generation__in=[row.pk for row in rows]).values_list(
            "generation_id", flat=True
        )
    )
    new = [row for row in rows if row.pk not in on_board]
    BoardItem.objects.bulk_create(
        [
            BoardItem(
                board=board,
                generation=row,
                generation_created_at=row.created_at,
                added_by=person,
            )
            for row in new
        ],
        ignore_conflicts=True,  # the same item added at once from two tabs
    )
    return len(new)


def remove_from_board(board, ids, person):
    """Take the generations with these ids that person may see off board; returns how many."""
    visible = Generation.objects.visible_to(person).filter(pk__in=ids).values("pk")
    removed, _ = board.items.filter(generation__in=visible).delete()
    return removed


def set_cover(board, generation_id, person):
    """Make one of the board's items, one person may see, its cover; False if it is not."""
    visible = Generation.objects.visible_to(person).values("pk")
    item = board.items.filter(generation_id=generation_id, generation__in=visible).first()
    if item is None:
        return False
    Board.objects.filter(pk=board.pk).update(cover_id=item.generation_id)
    board.cover_id = item.generation_id
    return True


def cover_of(board, viewer):
    """The tile that stands for board, as viewer may see it: its cover, else its newest item
    with a poster; None when it has neither."""
    items = Generation.objects.visible_to(viewer).filter(board_items__board=board)
    if board.cover_id:
        chosen = items.filter(pk=board.cover_id).first()
        if chosen is not None:
            return chosen
    return items.exclude(poster="").order_by("-created_at", "-id").first()


@dataclass(frozen=True)
class BoardSummary:
    """A board as its card on the boards page shows it to one viewer."""

    board: Board
    cover: Generation | None
    item_count: int
    budget: "BoardBudget"


def overview(viewer, now=None):
    """Every board, as viewer sees it: its cover, how many items they may see, its spend this
    month. A fixed number of queries for any number of boards."""
    visible_items = Generation.objects.visible_to(viewer).filter(board_items__board=OuterRef("pk"))
    count = Func(F("pk"), function="COUNT", output_field=IntegerField())
    counted = Subquery(visible_items.order_by().annotate(count=count).values("count")[:1])
    rows = list(Board.objects.annotate(item_count=counted))
    pictures = covers(rows, viewer)
    budgets = budgets_of(rows, now)
    return [
        BoardSummary(board, pictures.get(board.pk), board.item_count or 0, budgets[board.pk])
        for board in rows
    ]


def covers(boards, viewer):
    """{board's pk: cover} for many boards in two queries, as cover_of picks one."""
    visible = Generation.objects.visible_to(viewer)
    newest = (
        visible.filter(board_items__board=OuterRef("pk"))
        .exclude(poster="")
        .order_by("-created_at", "-id")
        .values("pk")[:1]
    )
    chosen_cover = visible.filter(pk=OuterRef("cover_id"), board_items__board=OuterRef("pk"))
    picks = Board.objects.filter(pk__in=[board.pk for board in boards]).values_list(
        "pk", Subquery(chosen_cover.values("pk")[:1]), Subquery(newest)
    )
    wanted = {pk: chosen or fallback for pk, chosen, fallback in picks}
    rows = Generation.objects.in_bulk([pk for pk in wanted.values() if pk])
    return {board_pk: rows.get(pk) for board_pk, pk in wanted.items()}


# --- tags ------------------------------------------------------------------------------------


def clean_tag_name(raw):
    """A tag as typed, trimmed; ValidationError with a message for a person otherwise."""
    name = " ".join(str(raw or "").split())
    if not name:
        raise ValidationError("Write a tag.")
    if len(name) > TAG_MAX_CHARS:
        raise ValidationError(
            f"A tag has at most {TAG_MAX_CHARS} characters (this one has {len(name)})."
        )
    if "\x00" in name:
        raise ValidationError("A tag cannot hold a NUL character.")
    return name


def tag_named(name):
    """The tag of this name whatever its case, made as typed if there is none yet."""
    existing = Tag.objects.filter(name__iexact=name).first()
    if existing is not None:
        return existing
    try:
        with transaction.atomic():
            return Tag.objects.create(name=name)
    except IntegrityError:  # made at the same moment by someone else
        return Tag.objects.get(name__iexact=name)


def tag(ids, name, person):
    """Tag the generations with these ids that person may see; returns how many were new."""
    label = tag_named(clean_tag_name(name))
    visible = Generation.objects.visible_to(person).filter(pk__in=ids)
    visible_ids = list(visible.values_list("pk", flat=True))
    tagged = set(
        label.links.filter(generation__in=visible_ids).values_list("generation_id", flat=True)
    )
    new = [pk for pk in visible_ids if pk not in tagged]
    GenerationTag.objects.bulk_create(
        [GenerationTag(tag=label, generation_id=pk, added_by=person) for pk in new],
        ignore_conflicts=True,
    )
    return len(new)


def untag(ids, name, person):
    """Take the tag off the generations with these ids that person may see; how many."""
    visible = Generation.objects.visible_to(person).filter(pk__in=ids).values("pk")
    removed, _ = GenerationTag.objects.filter(
        tag__name__iexact=str(name).strip(), generation__in=visible
    ).delete()
    return removed


def tag_names(prefix="", limit=TAG_SUGGESTIONS):
    """Tag names for autocomplete, alphabetically; those starting with prefix if given."""
    tags = Tag.objects.all()
    if prefix.strip():
        tags = tags.filter(name__istartswith=prefix.strip())
    return list(tags.values_list("name", flat=True)[:limit])


# --- money -----------------------------------------------------------------------------------


def sum_of(queryset, field):
    """SUM(field) of queryset as a subquery, without a GROUP BY."""
    total = Func(
        F(field), function="SUM", output_field=DecimalField(max_digits=12, decimal_places=4)
    )
    return Subquery(queryset.order_by().annotate(total=total).values("total")[:1])


def spend_this_month(now=None):
    """(charged, held) per board as subqueries on the board table: the ledger's charges this
    month for the generations on it, and what its work not yet billed holds."""
    on_board = BoardItem.objects.filter(board=OuterRef(OuterRef("pk"))).values("generation_id")
    charged = LedgerEntry.objects.filter(
        month=month_of(now or timezone.now()), generation_id__in=on_board
    )
    held = Generation.objects.filter(board_items__board=OuterRef("pk"), status__in=HOLDING_STATUSES)
    return sum_of(charged, "amount"), sum_of(held, "estimated_cost")


@dataclass(frozen=True)
class BoardBudget:
    """A board's spend this month (billed plus held) against its monthly budget."""

    board: Board
    charged: Decimal
    held: Decimal

    @property
    def spent(self):
        return self.charged + self.held

    @property
    def limit(self):
        return self.board.monthly_limit

    @property
    def remaining(self):
        return None if self.limit is None else max(Decimal("0"), self.limit - self.spent)

    @property
    def share(self):
        """How much of the budget is spent, 0 to 100, for a meter; None without a budget."""
        if self.limit is None:
            return None
        if self.limit == 0:
            return 100
        return min(100, int(self.spent * 100 / self.limit))

    def refusal(self, cost):
        """A message for the person when cost does not fit, else None."""
        if self.limit is None or self.spent + cost <= self.limit:
            return None
        currency = settings.WAN_PRICE_CURRENCY
        return (
            f"This would cost {cost:.2f} {currency}, but the board “{self.board}” has a monthly "
            f"budget of {self.limit:.2f} {currency} and has spent {self.spent:.2f} {currency} "
            "this month. Choose another board, or ask an admin to raise its budget."
        )


def budget_of(board, now=None):
    """One statement, so billed and held are read at one moment (see costs.monthly_spend)."""
    charged, held = spend_this_month(now)
    totals = Board.objects.filter(pk=board.pk).values(charged=charged, held=held).first() or {}
    return BoardBudget(
        board, totals.get("charged") or Decimal("0"), totals.get("held") or Decimal("0")
    )


def budgets_of(boards, now=None):
    """{board's pk: BoardBudget} for many boards in one statement."""
    charged, held = spend_this_month(now)
    rows = Board.objects.filter(pk__in=[board.pk for board in boards]).values_list(
        "pk", charged, held
    )
    nothing = (Decimal("0"), Decimal("0"))
    totals = {pk: (charged or nothing[0], held or nothing[1]) for pk, charged, held in rows}
    return {board.pk: BoardBudget(board, *totals.get(board.pk, nothing)) for board in boards}


def hold_board_budget(board):
    """Serialise submits to this board until the transaction ends; its budget, read fresh.

    Taken after the person's own lock (costs.hold_budget), always in that order. The UPDATE
    takes the row's lock on PostgreSQL, as the person's lock does; SQLite's transactions
    already hold the write lock from BEGIN IMMEDIATE."""
    Board.objects.filter(pk=board.pk).update(monthly_limit=F("monthly_limit"))
    board.refresh_from_db(fields=["monthly_limit"])
    return budget_of(board)


def submit_refusal(board, cost):
    """Inside the submit's transaction: why this board cannot take cost more, or None.
    Only a board with a budget is locked and counted."""
    limits = list(Board.objects.filter(pk=board.pk).values_list("monthly_limit", flat=True))
    if not limits:
        return f"The board “{board}” was deleted meanwhile; choose another."
    if limits[0] is None:
        return None
    return hold_board_budget(board).refusal(cost)
