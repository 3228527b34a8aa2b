"""Pages under gunicorn: each beside the framework floor, plus SQL queries per page.

A page is one line in PAGES. `{detail}` in a path becomes the id of a recent generation.
"""

import random
from dataclasses import dataclass, field
from datetime import timedelta
from urllib.parse import quote

from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.contrib.auth.models import Group
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from generations import roles
from generations.models import ACTIVE_STATUSES, Generation, SourceImage, Status

from .load import LoadResult, hammer

HTMX = {"HX-Request": "true"}


@dataclass
class Page:
    name: str
    path: str
    headers: dict = field(default_factory=dict)


FLOOR = Page("floor: bare view", "/bench/floor/")
PAGES = [
    Page("gallery, first page", "/gallery/"),
    Page("gallery, filtered", "/gallery/?who={owner}&q=harbour"),
    Page("gallery, search finds none", "/gallery/?who={owner}&q=fox"),
    Page("gallery, deep page", "/gallery/?after={deep}"),
    Page("live queue partial", "/generations/rows/", HTMX),
    Page("JSON detail", "/api/generations/{detail}/"),
    Page("JSON list, 50 rows", "/api/generations/?limit=50"),
    Page("dashboard", "/"),
]

USERS = 20
PICTURES = 50
BATCH = 5000
PROMPTS = [
    "a harbour at dusk, slow push in",
    "lanterns drifting over a river",
    "a fox in fresh snow, looking up",
    "rain on a city street at night",
    "a dancer turning in warm light",
]


def seed(total):
    """total generations across USERS users, bulk-inserted; the newest few are still running."""
    password = make_password("a-long-bench-password")
    users = get_user_model().objects.bulk_create(
        get_user_model()(username=f"bench{index:02}", password=password, is_staff=index == 0)
        for index in range(USERS)
    )
    # bulk_create sends no signals: give every account the role a new one gets.
    members = Group.objects.get(name=roles.MEMBER)
    membership = get_user_model().groups.through
    membership.objects.bulk_create(membership(user=user, group=members) for user in users)
    pictures = SourceImage.objects.bulk_create(
        SourceImage(
            image=f"sources/bench/{index}.jpg",
            sha256=f"{index:064x}",
            width=832,
            height=480,
            original_name=f"picture {index}.jpg",
            uploaded_by=users[index % USERS],
        )
        for index in range(PICTURES)
    )
    now, rng = timezone.now(), random.Random(6)
    for start in range(0, total, BATCH):
        Generation.objects.bulk_create(
            seeded_generation(index, total, now, rng, users, pictures)
            for index in range(start, min(total, start + BATCH))
        )
    # A live database has planner statistics (autovacuum keeps them); a bulk load has none yet.
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    return users[0]


def seeded_generation(index, total, now, rng, users, pictures):
    age = timedelta(minutes=(total - index) * 5)  # one every 5 minutes: about a year
    created = now - age
    newest = total - index <= 10
    status = (
        rng.choice([Status.QUEUED, Status.PROCESSING])
        if newest
        else rng.choices([Status.SUCCEEDED, Status.FAILED, Status.CANCELED], [90, 8, 2])[0]
    )
    done = status == Status.SUCCEEDED
    return Generation(
        owner=users[index % USERS],
        source_image=pictures[index % PICTURES],
        prompt=f"{PROMPTS[index % len(PROMPTS)]} #{index}",
        status=status,
        status_changed_at=created + timedelta(minutes=2),
        due_at=now + timedelta(days=365),  # never due: the bench's clusters leave them alone
        api_task_id=None if status == Status.QUEUED else f"seeded-{index}",
        progress_percent=100 if done else None,
        failure_reason="" if status != Status.FAILED else "The API reported the task failed",
        reported_seed=rng.randint(0, 2**31) if done else None,
        video=f"videos/bench/{index}.mp4" if done else "",
        poster=f"posters/bench/{index}.jpg" if done else "",
        video_duration=5.06 if done else None,
        video_bytes=1_800_000 if done else None,
        created_at=created,
        finished_at=created + timedelta(minutes=2) if status in (Status.SUCCEEDED,) else None,
    )


def retire_running_seeds():
    """The pipeline bench counts only its own work: the seeded 'running' rows stop here."""
    Generation.objects.filter(status__in=ACTIVE_STATUSES).update(status=Status.CANCELED)


def placeholders(deep_offset=40_000):
    """What {detail}, {owner} and {deep} in a path stand for."""
    recent = Generation.objects.order_by("-created_at", "-id")
    deep = recent.filter(status=Status.SUCCEEDED)[deep_offset]
    return {
        "detail": recent.values_list("pk", flat=True)[5],
        "owner": "bench05",  # one of the people whose prompts mention a harbour, never a fox
        "deep": quote(f"{deep.created_at.isoformat()}_{deep.pk}"),
    }


def resolved(page, values):
    return page.path.format(**values)


def count_queries(user, pages, values):
    """SQL queries of the first request to each page and of the next one (with what the first
    cached), as the logged-in user, in this process."""
    client = Client()
    client.force_login(user)
    counts = {}
    for page in pages:
        path = resolved(page, values)
        counts[page.name] = [
            queries_of(client, path, page.headers),
            queries_of(client, path, page.headers),
        ]
    return counts, client.cookies["sessionid"].value


def queries_of(client, path, headers):
    with CaptureQueriesContext(connection) as queries:
        answer = client.get(path, headers=headers, HTTP_HOST="127.0.0.1")
    return len(queries) if answer.status_code < 400 else f"HTTP {answer.status_code}"


def measure(port, user, values, seconds, rounds, concurrency):
    """Rounds of (floor, page, page, ...), each page for `seconds`: noise hits them alike."""
    pages = [FLOOR, *PAGES]
    queries, session = count_queries(user, pages, values)
    results = {page.name: LoadResult() for page in pages}
    for page in pages:  # warm every worker's caches and connections first
        hammer(port, resolved(page, values), cookie(session, page), 1.0, concurrency)
    for _ in range(rounds):
        for page in pages:
            path = resolved(page, values)
            results[page.name].add(hammer(port, path, cookie(session, page), seconds, concurrency))
    floor = results[FLOOR.name].per_second
    return [
        {
            "page": page.name,
            "req/s": results[page.name].per_second,
            "of floor": results[page.name].per_second / floor if floor else 0.0,
            "p50 ms": results[page.name].median * 1000,
            "p95 ms": results[page.name].percentile(0.95) * 1000,
            "queries": queries[page.name][1],
            "first": queries[page.name][0],
            "errors": results[page.name].errors,
        }
        for page in pages
    ]


def cookie(session, page):
    return {"Cookie": f"sessionid={session}", "Host": "127.0.0.1", **page.headers}
