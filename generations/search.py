"""Searching prompts: how much a person may ask for, and which rows hold every word they typed.

A word matches anywhere in a prompt, in any case, whatever it contains: quotes, `*`, `-`,
`NEAR` or `AND` are text to find, never syntax. Each store keeps a trigram index of prompts
(SQLite: the FTS5 table of migration 0011; PostgreSQL: the GIN index of 0007), so a word
found nowhere is answered by the index instead of a walk through every row.
"""

from django.db import connection

# Each search word is one LIKE on the prompt: SQLite refuses patterns past 50,000 bytes and
# queries past 1,000 terms deep, and a person's search needs far fewer.
SEARCH_MAX_CHARACTERS = 200
SEARCH_MAX_WORDS = 20

# Both indexes hold runs of three characters: a shorter word can only be checked row by row.
INDEXED_LENGTH = 3
# Up to this many matches, the page is read by id from what the index found. Past it, the
# words are in one prompt in a thousand or more at 1,000,000 generations, and walking the
# gallery's own order finds a page as soon: both take about 10 ms there on SQLite.
FEW_MATCHES = 1000

PROMPT_INDEX = "generations_prompt_search"  # migrations/0011_prompt_full_text.py


def matching(rows, text):
    """rows whose prompt holds every word of text (split on spaces, in any order)."""
    words = text.split()
    for word in words:
        rows = rows.filter(prompt__icontains=word)  # the meaning, on both stores
    indexed = [word for word in words if len(word) >= INDEXED_LENGTH]
    # PostgreSQL's planner knows from its statistics how common a word is, and chooses the
    # GIN index or the ordered walk itself. SQLite's cannot know, so the index is asked.
    if connection.vendor != "sqlite" or not indexed:
        return rows
    found = prompts_holding(full_text_query(indexed), FEW_MATCHES + 1)
    return rows if len(found) > FEW_MATCHES else rows.filter(pk__in=found)


def full_text_query(words):
    """An FTS5 query for rows holding every word: each one a quoted string, so no word is
    read as an operator. The index folds case more widely than LIKE does: matching() checks
    what it finds with LIKE too, so the index and the walk find the same rows."""
    return " AND ".join('"' + word.replace('"', '""') + '"' for word in words)


def prompts_holding(expression, limit):
    """Ids of up to `limit` generations whose prompt matches the FTS5 expression."""
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT rowid FROM {PROMPT_INDEX} WHERE {PROMPT_INDEX} MATCH %s LIMIT %s",
            [expression, limit],
        )
        return [pk for (pk,) in cursor.fetchall()]
