"""Prompt search: every word, anywhere in the prompt, in any case, typed text never read as
syntax; answered by a text index that stays in step with the rows it covers."""

import pytest
from django.db import connection, transaction
from django.db.migrations.executor import MigrationExecutor
from django.test.utils import CaptureQueriesContext

from generations import search
from generations.models import Generation

sqlite_only = pytest.mark.skipif(connection.vendor != "sqlite", reason="SQLite's FTS5 index")

PROMPTS = [
    "A harbour at dusk, slow push in",
    "lanterns drifting over a river",
    "a fox in fresh snow, looking up",
    "un café au bord de la mer",
    "CAFÉ sign in neon",
    "小猫在雪地里",
    'she says "hello" to the sea',
    "stars AND stripes",
    "NEAR the lighthouse (at night)",
    "a well-lit room, 50% grey",
    "title: ocean_waves * slow",
    "the end.",
]

QUERIES = [
    "harbour",
    "HARBOUR dusk",
    "dusk harbour",  # any order
    "arbou",  # anywhere in a word
    "harbour noon",  # every word must be there
    "a",
    "in",
    "café",
    "Café",
    "小猫",  # two characters: shorter than what the index holds
    "雪地里",
    '"hello"',
    '"hello',
    '"',
    "AND",
    "and stripes",
    "NEAR",
    "NEAR(the lighthouse)",
    "(at",
    "night)",
    "*",
    "ocean_waves",
    "ocean%waves",
    "50%",
    "title:",
    "-",
    "well-lit",
    "-lit",
    "^sea",
    "the end.",
    "zebra",
    "OR",
    "NOT sea",
]


def expected(text):
    """What search found before it had an index: a LIKE per word (case folds for ASCII
    letters on SQLite, for every letter on PostgreSQL)."""
    words = text.split()
    if connection.vendor == "sqlite":
        fold = bytes.maketrans(b"ABCDEFGHIJKLMNOPQRSTUVWXYZ", b"abcdefghijklmnopqrstuvwxyz")

        def lower(value):
            return value.encode().translate(fold).decode()
    else:

        def lower(value):
            return value.upper()

    return {prompt for prompt in PROMPTS if all(lower(word) in lower(prompt) for word in words)}


def found(text):
    return set(search.matching(Generation.objects.all(), text).values_list("prompt", flat=True))


@pytest.fixture
def prompts(make_generation):
    for prompt in PROMPTS:
        make_generation(prompt=prompt)


@pytest.mark.parametrize("text", QUERIES)
def test_search_finds_what_it_found_before_the_index(prompts, text):
    assert found(text) == expected(text)


@pytest.mark.parametrize("text", QUERIES)
def test_walking_the_rows_finds_the_same_as_asking_the_index(prompts, text, monkeypatch):
    monkeypatch.setattr(search, "FEW_MATCHES", 0)  # every indexed word counts as common
    assert found(text) == expected(text)


def test_typed_operators_are_text_to_find(prompts):
    assert found('"hello"') == {'she says "hello" to the sea'}
    assert found("AND") == {"stars AND stripes"}
    assert found("NEAR(the") == set()
    assert found("* slow") == {"title: ocean_waves * slow"}


def test_a_new_prompt_is_found_at_once(make_generation):
    made = make_generation(prompt="a paper boat on a canal")
    assert list(search.matching(Generation.objects.all(), "boat canal")) == [made]


def test_an_edited_prompt_is_found_by_its_new_words_only(make_generation):
    made = make_generation(prompt="a paper boat on a canal")
    made.prompt = "a tram in the rain"
    made.save()
    assert found("boat") == set()
    assert found("tram rain") == {"a tram in the rain"}

    Generation.objects.filter(pk=made.pk).update(prompt="a heron by the lake")
    assert found("tram") == set() and found("heron") == {"a heron by the lake"}


def test_other_changes_leave_a_prompt_findable(make_generation, reviewer):
    made = make_generation(prompt="a paper boat on a canal")
    Generation.objects.filter(pk=made.pk).update(status="succeeded")
    made.refresh_from_db()
    made.save()
    assert found("boat") == {"a paper boat on a canal"}


@sqlite_only
def test_the_index_forgets_edited_and_deleted_prompts(make_generation):
    kept, edited, deleted = (make_generation(prompt=f"boat {n}") for n in range(3))
    edited.prompt = "tram"
    edited.save()
    deleted.delete()

    assert sorted(search.prompts_holding('"boat"', 10)) == [kept.pk]
    assert search.prompts_holding('"tram"', 10) == [edited.pk]
    assert_index_matches_rows()


@sqlite_only
def test_a_write_rolled_back_leaves_the_index_as_it_was(make_generation):
    kept = make_generation(prompt="a paper boat")
    with pytest.raises(RuntimeError), transaction.atomic():
        make_generation(prompt="a paper boat too")
        Generation.objects.filter(pk=kept.pk).update(prompt="a tram")
        raise RuntimeError
    assert search.prompts_holding('"boat"', 10) == [kept.pk]
    assert_index_matches_rows()


@sqlite_only
def test_a_word_found_nowhere_is_answered_by_the_index_alone(prompts):
    with CaptureQueriesContext(connection) as queries:
        assert list(search.matching(Generation.objects.all(), "harbour zebra")[:24]) == []
    (only,) = queries  # the index says none: no page is read
    assert only["sql"].startswith(f"SELECT rowid FROM {search.PROMPT_INDEX} WHERE"), only


@sqlite_only
def test_a_page_of_few_matches_is_read_by_id(prompts):
    page = search.matching(Generation.objects.order_by("-created_at", "-id"), "harbour")[:24]
    sql, params = page.query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN QUERY PLAN {sql}", params)
        plan = [row[3] for row in cursor.fetchall()]
    assert plan[0] == "SEARCH generations_generation USING INTEGER PRIMARY KEY (rowid=?)", plan


@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL's trigram index")
def test_a_word_found_nowhere_can_be_answered_by_the_index_on_postgresql(prompts):
    rows = search.matching(Generation.objects.order_by(), "zebra")
    sql, params = rows.query.sql_with_params()
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")  # a handful of rows: a scan is cheaper
        cursor.execute(f"EXPLAIN {sql}", params)
        plan = "\n".join(row[0] for row in cursor.fetchall())
    assert "gallery_prompt_search" in plan, plan


def assert_index_matches_rows():
    """FTS5 compares its index with the rows of its content table (an error if they differ)."""
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {search.PROMPT_INDEX}({search.PROMPT_INDEX}, rank) "
            "VALUES ('integrity-check', 1)"
        )


# --- the migration that made the index ----------------------------------------------------

BEFORE_THE_INDEX = [("generations", "0010_delete_workerlease")]


def migrate(targets):
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)
    return executor.loader.project_state(targets).apps


@sqlite_only
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_prompts_written_before_the_index_are_found_after_it():
    apps = migrate(BEFORE_THE_INDEX)
    owner = apps.get_model("auth", "User").objects.create(username="maya")
    picture = apps.get_model("generations", "SourceImage").objects.create(
        image="sources/a.jpg", sha256="a" * 64, width=832, height=480, uploaded_by=owner
    )
    older = apps.get_model("generations", "Generation").objects.create(
        owner=owner, source_image=picture, prompt="a lighthouse in fog"
    )

    migrate(MigrationExecutor(connection).loader.graph.leaf_nodes())

    assert search.prompts_holding('"lighthouse"', 10) == [older.pk]
    assert_index_matches_rows()
