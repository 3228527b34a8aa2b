"""A team's history to measure pages against: people in three roles, pictures, LoRA presets,
and N generations over a year, with the prompts, states, reviews, favourites, LoRAs and
ledger entries such a history has.

Loaded in bulk: the generated rows go in by COPY (PostgreSQL) or one executemany per batch
(SQLite) inside one transaction, with the table's secondary indexes dropped before and built
again after, as a restore would (the SQLite full-text index too: rebuilt once, not row by row
by its triggers); then ANALYZE, as autovacuum would have.
"""

import random
from array import array
from bisect import bisect
from collections import Counter
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import timedelta
from decimal import Decimal
from itertools import accumulate, islice

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.contrib.auth.models import Group
from django.core.management.color import no_style
from django.db import connection, transaction
from django.utils import timezone

from generations import roles
from generations.models import (
    ACTIVE_STATUSES,
    TERMINAL_STATUSES,
    Budget,
    Favourite,
    Generation,
    GenerationLora,
    LedgerEntry,
    LoraPreset,
    ReviewState,
    SourceImage,
    Status,
)
from generations.models.ledger import month_of

BATCH = 50_000
PICTURES_EACH = 8
YEAR = timedelta(days=365)
LIVE = 12  # the newest rows are still being made
NAMES = (
    "maya ines tomas yuki omar lena kofi sofia arjun elif noah chiara ravi hana lucas amara "
    "felix zara mateo iris kenji nadia oscar priya jonas leila emil rosa sami vera dario mina "
    "pablo ada theo nia ivan lila marco selin hugo alma bruno tara luis nora milan esme kai"
).split()

# Prompts are sentences of these, each person favouring their own subjects, places and looks.
SUBJECTS = (
    "a red fox|an old fisherman|a paper boat|a lighthouse keeper|a hummingbird|a vintage tram|"
    "a ballet dancer|a grey heron|two children|a street musician|a sailing ship|a black cat|"
    "an astronaut|a koi carp|a steam locomotive|a hot air balloon|a samurai|a jellyfish|a tiger|"
    "a violinist|a flock of starlings|a wolf|a small robot|a cyclist|a surfer|a snowy owl|a chef|"
    "a calligrapher|a windmill|a young deer|a potter|a skateboarder|a whale|a firefly swarm|"
    "a knight in armour|a market vendor|a tea kettle|a sunflower field|a glass sculpture|a dragon"
).split("|")
ACTIONS = (
    "walking slowly|turning around|looking up|running|drifting|dancing|sleeping|waving|jumping|"
    "swimming|gliding|standing still|laughing|reading a letter|spinning|breathing|blinking|"
    "stretching|climbing|falling gently|melting|blooming|pouring tea|playing music"
).split("|")
PLACES = (
    "through fresh snow|on a rainy city street|at a quiet harbour|in a bamboo forest|"
    "across a desert|under a neon sign|by a mountain lake|in a crowded market|on a frozen river|"
    "inside a greenhouse|beside a waterfall|on a rooftop|in an empty cathedral|along a canal|"
    "in a field of tulips|on the surface of the moon|in a foggy alley|at a train station|"
    "under cherry blossoms|in a lantern festival|on a windswept cliff|inside a library|"
    "in a coral reef|over rolling hills|in a kitchen|at a night carnival|in a birch wood"
).split("|")
LIGHTS = (
    "at dusk|golden hour light|soft morning fog|moonlight|harsh noon sun|candlelight|"
    "overcast sky|blue hour|warm lantern light|stormy light|dappled sunlight|northern lights|"
    "rim light|backlit haze|studio lighting"
).split("|")
CAMERAS = (
    "slow push in|handheld|aerial drone shot|tracking shot|extreme close-up|wide shot|dolly zoom|"
    "orbiting camera|static camera|low angle|crane up|slow motion|whip pan|rack focus"
).split("|")
LOOKS = (
    "35mm film grain|watercolour|cinematic|anime style|photorealistic|stop motion|"
    "pastel colours|high contrast|muted tones|oil painting|8mm home video|claymation|"
    "ink wash|vaporwave|documentary"
).split("|")
PARTS = (SUBJECTS, ACTIONS, PLACES, LIGHTS, CAMERAS, LOOKS)
NEGATIVES = ["", "", "", "blurry, low quality, watermark", "text, extra limbs", "jpeg artifacts"]
LORA_PATHS = [
    "Wan-AI/motion-smooth",
    "studio/film-grain-v2",
    "alibaba-pai/anime-style",
    "studio/house-look",
    "Kijai/slow-motion",
    "civitai/claymation-1.3",
    "studio/product-turntable",
    "openart/watercolour",
]
SIZES = [(832, 480)] * 7 + [(1280, 720)] * 2 + [(480, 832)]
PRICE = {"480p": Decimal("0.3000"), "720p": Decimal("0.6000")}

STATUS_CODES = list(Status)
REVIEW_CODES = list(ReviewState)


@dataclass
class Person:
    user: object
    role: str

    @property
    def sees_flagged(self):
        return self.role != roles.MEMBER


@dataclass
class Seeded:
    """What the pages bench needs to know of the history, without asking the database."""

    total: int
    people: list
    start: object  # created_at of generation 1; generation i was made `step` later than i - 1
    step: timedelta
    owners: array = field(default_factory=lambda: array("B"))  # index into people, per id - 1
    statuses: array = field(default_factory=lambda: array("B"))  # index into STATUS_CODES
    reviews: array = field(default_factory=lambda: array("B"))  # index into REVIEW_CODES
    word_counts: dict = field(default_factory=dict)  # prompt word -> generations using it
    lora_paths: list = field(default_factory=list)

    def created_at(self, pk):
        return self.start + self.step * (pk - 1)

    def owner(self, pk):
        return self.people[self.owners[pk - 1]]

    def status(self, pk):
        return STATUS_CODES[self.statuses[pk - 1]]

    def review(self, pk):
        return REVIEW_CODES[self.reviews[pk - 1]]

    def visible_to(self, pk, person):
        """The studio's visibility rule, for choosing ids a person may ask for."""
        flagged = self.review(pk) == ReviewState.FLAGGED
        return not flagged or person.sees_flagged or self.owner(pk) is person

    def cursor(self, pk):
        """The gallery's cursor for the page after generation pk."""
        return f"{self.created_at(pk).isoformat()}_{pk}"


def seed(total, people_count, rng_seed=6):
    rng = random.Random(rng_seed)
    people = seed_people(people_count)
    pictures = seed_pictures(people)
    presets = [
        LoraPreset(name=path.rsplit("/", 1)[-1], path=path, default_scale=1.0)
        for path in LORA_PATHS
    ]
    LoraPreset.objects.bulk_create(presets)
    now = timezone.now()
    step = YEAR / max(total, 1)
    seeded = Seeded(total, people, now - step * total, step, lora_paths=LORA_PATHS)
    styles = [person_style(rng) for _ in people]
    with fast_inserts(), transaction.atomic():
        rows = generation_rows(seeded, rng, styles, pictures, now)
        bulk_load(Generation, GENERATION_COLUMNS, rows)
        lora_rows = lora_rows_for(seeded, random.Random(rng_seed + 1))
        bulk_load(GenerationLora, ["generation_id", "position", "path", "scale"], lora_rows)
        bulk_load(
            Favourite,
            ["user_id", "generation_id", "created_at"],
            favourite_rows(seeded, random.Random(rng_seed + 2), now),
        )
        bulk_load(LedgerEntry, LEDGER_COLUMNS, ledger_rows(seeded, random.Random(rng_seed + 3)))
    with connection.cursor() as cursor:
        for statement in connection.ops.sequence_reset_sql(no_style(), [Generation]):
            cursor.execute(statement)
        cursor.execute("ANALYZE")
    return seeded


def seed_people(count):
    """count people: two admins, one reviewer in eight, the rest members; the first a member."""
    password = make_password("a-long-bench-password")
    names = [NAMES[i % len(NAMES)] + (str(i) if i >= len(NAMES) else "") for i in range(count)]
    users = get_user_model().objects.bulk_create(
        get_user_model()(username=name, password=password, is_staff=index in (1, 2))
        for index, name in enumerate(names)
    )
    people = []
    for index, user in enumerate(users):
        if index in (1, 2):
            role = roles.ADMIN
        elif index % 8 == 3:
            role = roles.REVIEWER
        else:
            role = roles.MEMBER
        people.append(Person(user, role))
    # bulk_create sends no signals: each account joins its role's group here.
    groups = {group.name: group for group in Group.objects.all()}
    membership = get_user_model().groups.through
    membership.objects.bulk_create(
        membership(user=person.user, group=groups[person.role]) for person in people
    )
    # A few people have a monthly budget, which the form shows.
    Budget.objects.bulk_create(
        Budget(user=person.user, monthly_limit=Decimal(200 + 50 * index))
        for index, person in enumerate(people[::5])
    )
    return people


def seed_pictures(people):
    pictures = SourceImage.objects.bulk_create(
        SourceImage(
            image=f"sources/bench/{index}.jpg",
            sha256=f"{index:064x}",
            width=832,
            height=480,
            original_name=f"still {index}.jpg",
            uploaded_by=people[index % len(people)].user,
        )
        for index in range(PICTURES_EACH * len(people))
    )
    return [pictures[index :: len(people)] for index in range(len(people))]  # each one's own


def person_style(rng):
    """Weights for each part of a prompt: a person comes back to a few subjects and looks."""
    return [
        [1.0 / (rank + 1) ** 1.1 for rank in rng.sample(range(len(part)), len(part))]
        for part in PARTS
    ]


def prompt_pool(rng, style, size=1500):
    """The prompts one person writes (reworded and reused, as people do)."""
    pool = []
    for _ in range(size):
        subject, action, place, light, camera, look = (
            rng.choices(part, weights)[0] for part, weights in zip(PARTS, style, strict=True)
        )
        pool.append(f"{subject} {action} {place}, {light}, {camera}, {look}")
    return pool


GENERATION_COLUMNS = [
    "id",
    "owner_id",
    "source_image_id",
    "prompt",
    "negative_prompt",
    "width",
    "height",
    "seed",
    "status",
    "status_changed_at",
    "due_at",
    "api_task_id",
    "progress_percent",
    "failure_reason",
    "reported_seed",
    "submit_attempts",
    "poll_attempts",
    "video",
    "poster",
    "video_duration",
    "video_bytes",
    "video_sha256",
    "created_at",
    "finished_at",
    "estimated_cost",
    "review_state",
    "review_note",
    "reviewed_by_id",
    "reviewed_at",
]


def generation_rows(seeded, rng, styles, pictures, now):
    """One tuple per generation, in GENERATION_COLUMNS order, oldest first; fills `seeded`."""
    random = rng.random  # a million rows: plain random() draws, not random.choices

    def pick(choices, cumulative=None):
        if cumulative:
            return choices[bisect(cumulative, random() * cumulative[-1])]
        return choices[int(random() * len(choices))]

    db_time = database_time()
    pools = [prompt_pool(rng, style) for style in styles]
    uses = Counter()  # (person, prompt in their pool) -> generations
    reviewers = [p.user.pk for p in seeded.people if p.sees_flagged] or [None]
    never_due = db_time(now + timedelta(days=3650))  # the bench's clusters leave them alone
    owners = range(len(seeded.people))
    owner_pks = [person.user.pk for person in seeded.people]
    picture_pks = [[picture.pk for picture in own] for own in pictures]
    busy = list(accumulate(rng.paretovariate(1.2) for _ in owners))  # some make far more
    finished_states = [Status.SUCCEEDED, Status.FAILED, Status.CANCELED]
    finished_odds = list(accumulate([900, 70, 30]))
    review_odds = list(accumulate([40, 45, 12, 3]))
    status_index = {status: index for index, status in enumerate(STATUS_CODES)}
    review_index = {state: index for index, state in enumerate(REVIEW_CODES)}
    unsent = (Status.QUEUED, Status.SUBMITTING, Status.CANCELED)
    second = timedelta(seconds=1)
    for pk in range(1, seeded.total + 1):
        owner = pick(owners, busy)
        created = seeded.created_at(pk)
        age = seeded.total - pk
        if age < LIVE:
            status = pick(ACTIVE_STATUSES)
        elif age < 2000 and random() < 0.002:  # unknown outcomes a person has yet to check
            status = Status.NEEDS_ATTENTION
        else:
            status = pick(finished_states, finished_odds)
        done = status == Status.SUCCEEDED
        review = pick(REVIEW_CODES, review_odds) if done else ReviewState.PENDING
        reviewed = review != ReviewState.PENDING
        choice = int(random() * len(pools[owner]))
        uses[owner, choice] += 1
        width, height = pick(SIZES)
        submitted = status not in unsent
        terminal = status in TERMINAL_STATUSES
        finished = created + second * int(40 + random() * 360)
        seeded.owners.append(owner)
        seeded.statuses.append(status_index[status])
        seeded.reviews.append(review_index[review])
        yield (
            pk,
            owner_pks[owner],
            pick(picture_pks[owner]),
            pools[owner][choice],
            pick(NEGATIVES),
            width,
            height,
            int(random() * 2**31) if random() < 0.3 else -1,
            status.value,
            db_time(finished if terminal else created),
            never_due,
            f"seed-{pk}" if submitted else None,
            100 if done else None,
            "The API reported the task failed" if status == Status.FAILED else "",
            int(random() * 2**31) if done else None,
            1,
            int(2 + random() * 6) if submitted else 0,
            f"videos/bench/{pk}.mp4" if done else "",
            f"posters/bench/{pk}.jpg" if done else "",
            5.06 if done else None,
            int(900_000 + random() * 3_000_000) if done else None,
            f"{pk:064x}" if done else "",
            db_time(created),
            db_time(finished) if terminal else None,
            PRICE["720p" if max(width, height) == 1280 else "480p"],
            review.value,
            "out of model: hands" if review == ReviewState.FLAGGED else "",
            pick(reviewers) if reviewed else None,
            db_time(finished + second * int(3600 + random() * 86400)) if reviewed else None,
        )
    words = Counter()
    for (owner, choice), count in uses.items():
        for word in set(pools[owner][choice].replace(",", "").split()):
            words[word] += count
    seeded.word_counts = dict(words)


def lora_rows_for(seeded, rng):
    """A quarter of the generations use a LoRA preset, one in twenty two of them."""
    for pk in range(1, seeded.total + 1):
        chance = rng.random()
        if chance < 0.25:
            paths = rng.sample(seeded.lora_paths, 2 if chance < 0.05 else 1)
            for position, path in enumerate(paths):
                yield (pk, position, path, rng.choice([0.6, 0.8, 1.0, 1.0, 1.2]))


def favourite_rows(seeded, rng, now):
    """About one finished video in thirty is someone's favourite, usually its owner's."""
    db_time = database_time()
    succeeded = STATUS_CODES.index(Status.SUCCEEDED)
    for pk in range(1, seeded.total + 1):
        if seeded.statuses[pk - 1] == succeeded and rng.random() < 0.033:
            owner = seeded.owner(pk)
            fans = {owner.user.pk}
            if rng.random() < 0.3:
                fans.add(rng.choice(seeded.people).user.pk)
            for user_pk in fans:
                yield (user_pk, pk, db_time(min(now, seeded.created_at(pk) + timedelta(hours=2))))


LEDGER_COLUMNS = [
    "person_id",
    "person_name",
    "generation_id",
    "api_task_id",
    "amount",
    "currency",
    "month",
    "clarity",
    "fast_mode",
    "charged_at",
]


def ledger_rows(seeded, rng):
    """One entry for each task the API accepted (every generation that has a task id)."""
    db_time = database_time()
    db_day = connection.ops.adapt_datefield_value
    months = {}  # the hour charged -> its month in the studio's time zone
    currency = settings.WAN_PRICE_CURRENCY
    unsent = {STATUS_CODES.index(s) for s in (Status.QUEUED, Status.SUBMITTING, Status.CANCELED)}
    for pk in range(1, seeded.total + 1):
        if seeded.statuses[pk - 1] in unsent:
            continue
        person = seeded.owner(pk).user
        charged = seeded.created_at(pk) + timedelta(seconds=2)
        hour = charged.replace(minute=0, second=0, microsecond=0)
        clarity = rng.choice(["480p"] * 4 + ["720p"])
        yield (
            person.pk,
            person.username,
            pk,
            f"seed-{pk}",
            PRICE[clarity],
            currency,
            months.get(hour) or months.setdefault(hour, db_day(month_of(hour))),
            clarity,
            False,
            db_time(charged),
        )


def database_time():
    """What the database stores for an aware UTC datetime: on SQLite the naive UTC text that
    Django's adapt_datetimefield_value makes, made here without its checks (a million rows)."""
    if connection.vendor == "sqlite":
        return lambda moment: moment.replace(tzinfo=None).isoformat(" ")
    return connection.ops.adapt_datetimefield_value


# --- bulk loading -------------------------------------------------------------------------


def bulk_load(model, columns, rows):
    """Insert `rows` (tuples of database values for `columns`; every other column gets its
    field's default) with the table's secondary indexes dropped meanwhile."""
    table = model._meta.db_table
    given = set(columns)
    rest = [f for f in model._meta.concrete_fields if f.column not in given and not f.primary_key]
    defaults = tuple(f.get_db_prep_save(f.get_default(), connection) for f in rest)
    names = [*columns, *(f.column for f in rest)]
    rows = (row + defaults for row in rows)
    with dropped_indexes(table), full_text_rebuilt(table):
        if connection.vendor == "postgresql":
            copy_rows(table, names, rows)
        else:
            insert_rows(table, names, rows)


def copy_rows(table, names, rows):
    quoted = ", ".join(connection.ops.quote_name(name) for name in names)
    with connection.cursor() as cursor:
        # Foreign keys checked at the end of the COPY, not at commit: building an index on a
        # table with checks pending is refused.
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        with cursor.cursor.copy(f"COPY {table} ({quoted}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)


def insert_rows(table, names, rows):
    quoted = ", ".join(connection.ops.quote_name(name) for name in names)
    statement = f"INSERT INTO {table} ({quoted}) VALUES ({', '.join('?' * len(names))})"
    raw = connection.connection
    while batch := list(islice(rows, BATCH)):
        raw.executemany(statement, batch)


@contextmanager
def dropped_indexes(table):
    """Secondary indexes of `table` (not those of its primary key or unique constraints) are
    dropped meanwhile, then built again from their own definitions."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                "SELECT i.relname, pg_get_indexdef(i.oid) FROM pg_index x "
                "JOIN pg_class i ON i.oid = x.indexrelid "
                "WHERE x.indrelid = %s::regclass AND NOT EXISTS "
                "(SELECT 1 FROM pg_constraint c WHERE c.conindid = x.indexrelid)",
                [table],
            )
        else:
            cursor.execute(
                "SELECT name, sql FROM sqlite_master WHERE type = 'index' "
                "AND tbl_name = %s AND sql IS NOT NULL",
                [table],
            )
        indexes = cursor.fetchall()
        for name, _ in indexes:
            cursor.execute(f"DROP INDEX {connection.ops.quote_name(name)}")
    yield
    with connection.cursor() as cursor:
        for _, definition in indexes:
            cursor.execute(definition)


@contextmanager
def full_text_rebuilt(table):
    """SQLite: the FTS5 tables that index `table` (external content, kept in step by
    triggers) are rebuilt once after the load instead of row by row by their triggers."""
    if connection.vendor != "sqlite":
        yield
        return
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND sql LIKE %s",
            [f"%USING fts5%content=_{table}_%"],
        )
        indexes = [name for (name,) in cursor.fetchall()]
        cursor.execute(
            "SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND tbl_name = %s",
            [table],
        )
        triggers = [
            (name, definition)
            for name, definition in cursor.fetchall()
            if any(index in definition for index in indexes)
        ]
        for name, _ in triggers:
            cursor.execute(f"DROP TRIGGER {connection.ops.quote_name(name)}")
    yield
    with connection.cursor() as cursor:
        for _, definition in triggers:
            cursor.execute(definition)
        for index in indexes:
            cursor.execute(f"INSERT INTO {index}({index}) VALUES ('rebuild')")


@contextmanager
def fast_inserts():
    """SQLite: no fsync while loading a throwaway database; PostgreSQL: memory to build
    indexes in. As they were afterwards."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SHOW maintenance_work_mem")
            setting, value = "maintenance_work_mem", "'512MB'"
        else:
            cursor.execute("PRAGMA synchronous")
            setting, value = "synchronous", "OFF"
        before = cursor.fetchone()[0]
        set_to = "SET {} = {}" if connection.vendor == "postgresql" else "PRAGMA {} = {}"
        cursor.execute(set_to.format(setting, value))
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute(set_to.format(setting, f"'{before}'"))
