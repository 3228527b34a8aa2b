"""Money under concurrency, against a real web server: budgets and one-time submit keys hold
when many requests arrive at once (SQLite, and PostgreSQL in make test's second pass)."""

import re
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests

from .live_studio import LiveStudio
from .support.sessions import logged_in_session

pytestmark = pytest.mark.live

PRICES = '{"480p": "0.20", "480p_fast": "0.10", "720p": "0.40", "720p_fast": "0.30"}'

SETUP = """
import io
from decimal import Decimal
from django.contrib.auth import get_user_model
from PIL import Image
from generations import media
from generations.models import Budget, SourceImage
maya = get_user_model().objects.get(username="maya")
Budget.objects.update_or_create(user=maya, defaults={"monthly_limit": Decimal("2.00")})
noor = get_user_model().objects.create_user("noor", password="a-long-test-password")
buffer = io.BytesIO()
Image.new("RGB", (832, 480), (200, 120, 40)).save(buffer, "JPEG")
buffer.seek(0)
buffer.name = "harbour.jpg"
picture = SourceImage.objects.store(media.reencode_picture(buffer, 10_000_000), "h.jpg", maya)
print(picture.pk)
"""
COUNT = "from generations.models import Generation; print(Generation.objects.filter(owner__username='{}').count())"  # noqa: E501


@pytest.fixture(scope="module")
def studio(tmp_path_factory):
    live = LiveStudio(tmp_path_factory.mktemp("money-studio"), WAN_PRICE_TABLE=PRICES)
    live.start()
    live.picture = live.manage("shell", "-c", SETUP).splitlines()[-1]
    yield live
    live.stop()


def generations_of(studio, username):
    return int(studio.manage("shell", "-c", COUNT.format(username)).splitlines()[-1])


def in_parallel(calls, workers):
    """Each call's answer, or None when the development server dropped the connection (its
    listen backlog is small); the database, not the answers, is what the tests count."""

    def answer(call):
        try:
            return call()
        except requests.ConnectionError:
            return None

    with ThreadPoolExecutor(max_workers=workers) as pool:
        return [result for result in pool.map(answer, calls) if result is not None]


def test_a_budget_holds_against_300_submits_sent_30_at_a_time(studio):
    def submit(number):
        return lambda: studio.api(
            "POST",
            "/api/generations/",
            data={"prompt": f"race {number}", "source_image": studio.picture},
        )

    answers = in_parallel([submit(number) for number in range(300)], workers=30)

    statuses = [answer.status_code for answer in answers]
    assert statuses.count(201) <= 10  # 2.00 USD of 0.20 videos
    assert statuses.count(201) + statuses.count(400) == len(answers) >= 250
    refusal = next(answer.json() for answer in answers if answer.status_code == 400)
    assert "monthly budget is 2.00 USD" in refusal["errors"]["__all__"][0]
    assert generations_of(studio, "maya") == 10


def test_two_identical_form_posts_at_the_same_moment_make_one_generation(studio):
    session = logged_in_session(studio, "noor")
    page = session.get(studio.base_url + "/", timeout=30).text
    key = re.search(r'name="submission_key" value="([^"]+)"', page).group(1)
    form = {
        "prompt": "a double click",
        "source_image": studio.picture,
        "submission_key": key,
        "csrfmiddlewaretoken": session.cookies["csrftoken"],
    }

    def post():
        return session.post(studio.base_url + "/", data=form, timeout=30, allow_redirects=False)

    answers = in_parallel([post] * 8, workers=8)

    assert {answer.status_code for answer in answers} == {302}
    assert len({answer.headers["Location"] for answer in answers}) == 1
    assert generations_of(studio, "noor") == 1


def test_an_idempotency_key_sent_at_once_from_many_clients_makes_one(studio):
    token = studio.manage("apitoken", "noor")
    before = generations_of(studio, "noor")

    def post():
        return requests.post(
            studio.base_url + "/api/generations/",
            data={"prompt": "a retried request", "source_image": studio.picture},
            headers={"Authorization": f"Token {token}", "Idempotency-Key": "order-42"},
            timeout=30,
        )

    answers = in_parallel([post] * 12, workers=12)

    assert sorted(answer.status_code for answer in answers)[:-1] == [200] * (len(answers) - 1)
    assert len({answer.json()["id"] for answer in answers}) == 1
    assert generations_of(studio, "noor") == before + 1


BOARD_SETUP = """
from decimal import Decimal
from django.contrib.auth import get_user_model
from generations.models import Board
get_user_model().objects.create_user("lina", password="a-long-test-password")
print(Board.objects.create(name="Client launch", monthly_limit=Decimal("1.00")).pk)
"""
BOARD_ITEMS = (
    "from generations.models import BoardItem; print(BoardItem.objects.filter(board_id={}).count())"  # noqa: E501
)


def test_a_board_budget_holds_against_two_people_submitting_30_at_a_time(studio):
    board = studio.manage("shell", "-c", BOARD_SETUP).splitlines()[-1]
    tokens = [studio.manage("apitoken", name).splitlines()[-1] for name in ("noor", "lina")]

    def submit(number):
        return lambda: requests.post(
            studio.base_url + "/api/generations/",
            data={"prompt": f"launch {number}", "source_image": studio.picture, "board": board},
            headers={"Authorization": f"Token {tokens[number % 2]}"},
            timeout=30,
        )

    answers = in_parallel([submit(number) for number in range(60)], workers=30)

    statuses = [answer.status_code for answer in answers]
    assert statuses.count(201) == 5  # 1.00 USD of 0.20 videos, whoever sent them
    assert statuses.count(201) + statuses.count(400) == len(answers) >= 50
    refusal = next(answer.json() for answer in answers if answer.status_code == 400)
    assert "Client launch" in refusal["errors"]["__all__"][0]
    assert int(studio.manage("shell", "-c", BOARD_ITEMS.format(board)).splitlines()[-1]) == 5
