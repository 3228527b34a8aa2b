"""Searching prompts: how much a person may ask for, wherever they search (gallery, admin)."""

# Each search word is one LIKE on the prompt: SQLite refuses patterns past 50,000 bytes and
# queries past 1,000 terms deep, and a person's search needs far fewer.
SEARCH_MAX_CHARACTERS = 200
SEARCH_MAX_WORDS = 20
