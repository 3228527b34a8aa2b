"""Pages under gunicorn as a team asks for them, each beside the framework floor.

Every page kind is a stream of requests drawn from the seeded history: a different person
each time (their session, or their API token for the JSON API), and for pages that take
parameters a different URL each time: filters by person, state, LoRA, review, day or
favourites; words people wrote and misspellings nobody did; cursors followed from the answers
before, and cursors computed from anywhere in the history; ids each person may see.
"""

import html
import re
import threading
from bisect import bisect
from collections import deque
from dataclasses import dataclass
from datetime import timedelta
from itertools import accumulate
from random import Random
from urllib.parse import urlencode

from django.conf import settings
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from generations.models import ACTIVE_STATUSES, ApiToken, Generation, ReviewState, Status

from .load import LoadResult, Request, hammer
from .seed import STATUS_CODES

HTMX = {"HX-Request": "true"}
LEGEND = """\
of floor: req/s over the floor's, measured right before each page; p95 of floor's likewise.
queries: SQL statements per request (ten requests of each kind, in the bench's process).
asked: requests made; different: distinct (URL, person) pairs among them (a page without
parameters has one URL per person). next page: the "load more" link of an earlier gallery
answer, as htmx follows it when a person scrolls ({followed} requests in all; a cursor from
anywhere in the history when no link was at hand)."""
# The gallery's "load more" element: where the next page starts, for whoever scrolls on.
MORE = re.compile(rb'hx-get="(/gallery/\?[^"]*after=[^"]*)"')
STOP_WORDS = {"a", "an", "in", "at", "on", "the", "by", "of", "two", "over", "into", "under"}


class Team:
    """The people at work: a session and an API token each, and the next pages their
    gallery answers pointed to."""

    def __init__(self, seeded):
        self.seeded = seeded
        self.people = seeded.people
        self.cookies, self.tokens = {}, {}
        for person in self.people:
            client = Client()
            client.force_login(person.user)
            session = client.cookies[settings.SESSION_COOKIE_NAME].value
            self.cookies[person.user.pk] = f"{settings.SESSION_COOKIE_NAME}={session}"
            self.tokens[person.user.pk] = f"Token {ApiToken.issue(person.user).key}"
        self.next_pages = deque(maxlen=5000)  # Requests harvested from gallery answers
        self.followed = 0

    def page(self, person, path, htmx=False):
        headers = {"Cookie": self.cookies[person.user.pk], **(HTMX if htmx else {})}
        return Request(path, headers, person)

    def api(self, person, path):
        return Request(path, {"Authorization": self.tokens[person.user.pk]}, person)

    def remember_next_page(self, request, body):
        """on_answer for gallery pages: the person may scroll on to the page after it."""
        if request.path.startswith("/gallery/") and (found := MORE.search(body)):
            path = html.unescape(found.group(1).decode())
            self.next_pages.append(self.page(request.person, path, htmx=True))


# --- what people ask for: one generator of Requests per page kind ------------------------


def floor(team, rng):
    while True:
        yield team.page(rng.choice(team.people), "/bench/floor/")


def frame(team, rng):
    while True:
        yield team.page(rng.choice(team.people), "/bench/frame/")


def gallery_first(team, rng):
    while True:
        yield team.page(rng.choice(team.people), "/gallery/")


def gallery_filtered(team, rng):
    seeded = team.seeded
    first_day = seeded.created_at(1).date()

    def who(person):
        return {"who": "mine" if rng.random() < 0.4 else rng.choice(team.people).user.username}

    def state(person):
        return {"status": rng.choice(["failed", "all", "canceled", "all"])}

    def lora(person):
        return {"lora": rng.choice(seeded.lora_paths)}

    def review(person):
        states = [ReviewState.APPROVED, ReviewState.PENDING, ReviewState.REJECTED]
        return {"review": rng.choice(states + [ReviewState.FLAGGED] * person.sees_flagged)}

    def days(person):
        since = first_day + timedelta(days=rng.randrange(365))
        return {"since": since, "until": since + timedelta(days=rng.choice([1, 7, 30]))}

    def favourites(person):
        return {"favourites": "on"}

    filters = [who, state, lora, review, days, favourites]
    while True:
        person = rng.choice(team.people)
        query = {}
        for chosen in rng.sample(filters, rng.choice([1, 1, 2])):
            query.update(chosen(person))
        if rng.random() < 0.15:
            query["sort"] = "oldest"
        yield team.page(person, f"/gallery/?{urlencode(query)}")


def searched_words(seeded):
    """Words people would search for: written in at least 20 prompts (any, in a tiny history)."""
    words = {
        word: count
        for word, count in seeded.word_counts.items()
        if len(word) >= 3 and word.isalpha() and word not in STOP_WORDS
    }
    return sorted(word for word, count in words.items() if count >= 20) or sorted(words)


def gallery_search_finds_some(team, rng):
    words = searched_words(team.seeded)
    while True:
        person = rng.choice(team.people)
        query = {"q": rng.choice(words)}
        if rng.random() < 0.3:
            query["who"] = rng.choice(team.people).user.username
        yield team.page(person, f"/gallery/?{urlencode(query)}")


def misspellings(seeded, rng):
    """Words nobody wrote: a written word with two letters swapped, one dropped or doubled,
    kept when four letters long or more and no written word contains it (the search matches
    parts of words)."""
    written = list(seeded.word_counts)
    found = set()
    for word in searched_words(seeded):
        for at in range(1, len(word) - 1):
            for typo in (
                word[:at] + word[at + 1] + word[at] + word[at + 2 :],
                word[:at] + word[at + 1 :],
                word[:at] + word[at] + word[at:],
            ):
                if len(typo) >= 4 and not any(typo in other for other in written):
                    found.add(typo)
    typos = sorted(found)
    rng.shuffle(typos)
    return typos


def gallery_search_finds_none(team, rng):
    typos = misspellings(team.seeded, rng)
    while True:
        person = rng.choice(team.people)
        query = {"q": rng.choice(typos)}
        if rng.random() < 0.5:  # one person's whole history is read to find nothing
            query["who"] = rng.choice(team.people).user.username
        yield team.page(person, f"/gallery/?{urlencode(query)}")


def gallery_next_page(team, rng):
    """The page after one an earlier answer showed, as htmx asks when a person scrolls on;
    a cursor from anywhere in the history when no answer has pointed on yet."""
    fallback = gallery_deep(team, rng, htmx=True)
    while True:
        try:
            request = team.next_pages.pop()
        except IndexError:
            yield next(fallback)
        else:
            team.followed += 1
            yield request


def gallery_deep(team, rng, htmx=False):
    """A page starting anywhere in the history (a link kept, a long scroll), in the team's
    gallery or in the gallery of the person who made the row it starts after."""
    seeded = team.seeded
    while True:
        person = rng.choice(team.people)
        pk = visible_pick(seeded, person, rng, finished=True)
        query = {}
        if rng.random() < 0.3:
            query["who"] = seeded.owner(pk).user.username
        query["after"] = seeded.cursor(pk)
        yield team.page(person, f"/gallery/?{urlencode(query)}", htmx=htmx)


def visible_pick(seeded, person, rng, finished=False):
    """A generation `person` may see (a finished video, with `finished`), drawn at random;
    any generation after a hundred draws, so a tiny history cannot stall the load."""
    succeeded = STATUS_CODES.index(Status.SUCCEEDED)
    for _ in range(100):
        pk = rng.randint(1, seeded.total)
        if finished and seeded.statuses[pk - 1] != succeeded:
            continue
        if seeded.visible_to(pk, person):
            break
    return pk


def live_queue(team, rng):
    while True:
        yield team.page(rng.choice(team.people), "/generations/rows/", htmx=True)


def json_detail(team, rng):
    while True:
        person = rng.choice(team.people)
        pk = visible_pick(team.seeded, person, rng)
        yield team.api(person, f"/api/generations/{pk}/")


def json_list(team, rng):
    while True:
        yield team.api(rng.choice(team.people), "/api/generations/?limit=50")


def dashboard(team, rng):
    while True:
        yield team.page(rng.choice(team.people), "/")


def idle_pulse(team, rng):
    """An open page asking whether anything moved, when nothing did: each person's last
    ETag, answered 304."""
    tags = {}
    client = Client()
    for person in team.people:
        client.force_login(person.user)
        tags[person.user.pk] = client.get("/pulse/", HTTP_HOST="127.0.0.1")["ETag"]
    while True:
        person = rng.choice(team.people)
        request = team.page(person, "/pulse/")
        yield Request(
            request.path, {**request.headers, "If-None-Match": tags[person.user.pk]}, person
        )


# How often each page comes up in a team's day: every open page asks the pulse, and the
# live queue is read again when it says work moved.
MIX = [
    (idle_pulse, 30),
    (live_queue, 10),
    (gallery_first, 10),
    (gallery_filtered, 10),
    (gallery_next_page, 10),
    (json_detail, 10),
    (dashboard, 10),
    (gallery_search_finds_some, 7),
    (gallery_deep, 5),
    (json_list, 5),
    (gallery_search_finds_none, 3),
]


def team_mix(team, rng):
    streams = [requests(team, Random(rng.random())) for requests, _ in MIX]
    cumulative = list(accumulate(weight for _, weight in MIX))
    while True:
        yield next(streams[bisect(cumulative, rng.random() * cumulative[-1])])


@dataclass(frozen=True)
class Kind:
    name: str
    requests: object  # (team, rng) -> endless iterator of Requests
    leads_on: bool = False  # its answers point to a next page someone may scroll to


FLOOR = Kind("floor: bare view, same middleware", floor)
KINDS = [
    Kind("signed-in empty page (the studio's frame)", frame),
    Kind("gallery, first page", gallery_first, leads_on=True),
    Kind("gallery, filtered", gallery_filtered, leads_on=True),
    Kind("gallery, search finds some", gallery_search_finds_some, leads_on=True),
    Kind("gallery, search finds none", gallery_search_finds_none),
    Kind("gallery, next page (followed)", gallery_next_page, leads_on=True),
    Kind("gallery, deep (any cursor)", gallery_deep, leads_on=True),
    Kind("live queue partial", live_queue),
    Kind("JSON detail", json_detail),
    Kind("JSON list, 50 rows", json_list),
    Kind("dashboard", dashboard),
    Kind("pulse of an idle open page (304)", idle_pulse),
    Kind("a team's mix of all the above", team_mix, leads_on=True),
]


class Stream:
    """A kind's requests, handed to the load's threads one at a time; a (URL, person) pair
    already asked is skipped (pages without parameters have only as many as there are
    people)."""

    def __init__(self, kind, team, rng_seed):
        self.kind = kind
        self.requests = kind.requests(team, Random(rng_seed))
        self.asked = set()
        self.count = 0
        self.lock = threading.Lock()

    def __call__(self):
        with self.lock:
            for _ in range(3):
                request = next(self.requests)
                key = (request.path, request.person.user.pk)
                if key not in self.asked:
                    break
            self.asked.add(key)
            self.count += 1
            return request


# --- measuring ----------------------------------------------------------------------------


def count_queries(team, kind, samples=10):
    """SQL queries of a few of the kind's requests, run in this process as their people."""
    client = Client()
    counts = []
    for request in Stream(kind, team, rng_seed=99).requests:
        with CaptureQueriesContext(connection) as queries:
            answer = client.get(request.path, headers=request.headers, HTTP_HOST="127.0.0.1")
        if answer.status_code >= 400:
            return f"HTTP {answer.status_code}"
        counts.append(len(queries))
        if len(counts) == samples:
            break
    return f"{min(counts)}" if min(counts) == max(counts) else f"{min(counts)}-{max(counts)}"


def measure(port, team, seconds, floor_seconds, rounds, concurrency):
    """Rounds of (floor, page) for each page kind: the floor is measured right before each
    page, so what else the machine does weighs on both alike."""
    streams = {kind: Stream(kind, team, index) for index, kind in enumerate([FLOOR, *KINDS])}
    queries = {kind: count_queries(team, kind) for kind in streams}
    results = {kind: LoadResult() for kind in streams}
    floors = {kind: LoadResult() for kind in KINDS}  # the floor right before each kind
    team.next_pages.clear()

    def load(kind, duration):
        on_answer = team.remember_next_page if kind.leads_on else None
        return hammer(port, streams[kind], duration, concurrency, on_answer)

    for kind in streams:  # every worker imports, connects and reads once before the clock
        load(kind, 1.0)
    for _ in range(rounds):
        for kind in KINDS:
            floor_result = load(FLOOR, floor_seconds)
            floors[kind].add(floor_result)
            results[FLOOR].add(floor_result)
            results[kind].add(load(kind, seconds))
    rows = [row(FLOOR, results[FLOOR], results[FLOOR], queries, streams)]
    rows += [row(kind, results[kind], floors[kind], queries, streams) for kind in KINDS]
    slowest = {kind.name: sorted(results[kind].slowest, reverse=True) for kind in KINDS}
    return rows, slowest


# An open page asks the pulse this often while nothing runs (studio/static/js/pulse.js).
IDLE_PULSE_SECONDS = 2.5


def idle_pages_line(rows, pages=50):
    """What `pages` open, idle pages cost this server: their pulse requests a second over the
    rate it answers them."""
    pulse = next(row for row in rows if row["page"].startswith("pulse"))
    asked = pages / IDLE_PULSE_SECONDS
    return (
        f"\n{pages} idle open pages ask {asked:.0f} pulse requests a second (one every "
        f"{IDLE_PULSE_SECONDS:g} s each, answered 304 after one query): "
        f"{asked / pulse['req/s']:.1%} of the {pulse['req/s']:.0f} a second this server answers, "
        f"p95 {pulse['p95 ms']:.0f} ms."
    )


def slowest_lines(slowest):
    """Where the time goes: the slowest answers of each page kind, with their URLs."""
    lines = ["\nSlowest answers of each page:"]
    for name, answers in slowest.items():
        shown = ", ".join(f"{seconds * 1000:.0f} ms {path}" for seconds, path in answers[:2])
        lines.append(f"  {name}: {shown}")
    return "\n".join(lines)


def row(kind, result, floor, queries, streams):
    return {
        "page": kind.name,
        "req/s": result.per_second,
        "of floor": result.per_second / floor.per_second if floor.per_second else 0.0,
        "p50 ms": result.median * 1000,
        "p95 ms": result.percentile(0.95) * 1000,
        "p95 of floor's": result.percentile(0.95) / floor.percentile(0.95),
        "queries": queries[kind],
        "asked": streams[kind].count,
        "different": len(streams[kind].asked),
        "errors": ", ".join(f"{n}×{status or 'no answer'}" for status, n in result.errors.items())
        or "0",
    }


def retire_running_seeds():
    """The pipeline bench counts only its own work: the seeded 'running' rows stop here."""
    Generation.objects.filter(status__in=ACTIVE_STATUSES).update(status=Status.CANCELED)
