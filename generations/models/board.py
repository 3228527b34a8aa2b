"""Boards and tags: how a team organises its work by project, client or campaign.

Their items are generations. An exported sequence is a Generation too (`from_sequence`), so
boards and tags hold sequences through their exports, with nothing of their own.
"""

from django.conf import settings
from django.db import models
from django.db.models.functions import Lower
from django.urls import reverse
from django.utils import timezone

from .generation import Generation

BOARD_NAME_MAX_CHARS = 80
TAG_MAX_CHARS = 40


class Board(models.Model):
    """A named collection of generations; one generation may be on several."""

    name = models.CharField(max_length=BOARD_NAME_MAX_CHARS)
    description = models.TextField(blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    # The tile that stands for the board; without one, its newest item does.
    cover = models.ForeignKey(
        Generation, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    # What the board's work may cost a month (billed plus held), like a person's budget;
    # None means no limit.
    monthly_limit = models.DecimalField(max_digits=9, decimal_places=2, null=True, blank=True)
    generations = models.ManyToManyField(Generation, through="BoardItem", related_name="boards")

    class Meta:
        ordering = [Lower("name")]
        constraints = [
            models.UniqueConstraint(
                Lower("name"),
                name="one_board_per_name",
                violation_error_message="A board with this name already exists.",
            )
        ]

    def __str__(self):
        return self.name

    def get_absolute_url(self):
        return reverse("studio:board", args=[self.pk])


class BoardItem(models.Model):
    # No index of its own: the two below begin with the board.
    board = models.ForeignKey(Board, on_delete=models.CASCADE, related_name="items", db_index=False)
    generation = models.ForeignKey(Generation, on_delete=models.CASCADE, related_name="board_items")
    # A copy of the generation's created_at (which never changes): with it, a board's gallery
    # walks one index in the gallery's own order instead of sorting the whole board.
    generation_created_at = models.DateTimeField()
    added_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    added_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["board", "generation"], name="once_per_board")
        ]
        indexes = [
            models.Index(
                fields=["board", "generation_created_at", "generation"], name="board_gallery"
            )
        ]

    def __str__(self):
        return f"#{self.generation_id} on {self.board_id}"


class Tag(models.Model):
    """Free text on generations, kept as first typed; one tag per name whatever its case."""

    name = models.CharField(max_length=TAG_MAX_CHARS)
    created_at = models.DateTimeField(default=timezone.now)
    generations = models.ManyToManyField(Generation, through="GenerationTag", related_name="tags")

    class Meta:
        ordering = [Lower("name")]
        constraints = [models.UniqueConstraint(Lower("name"), name="one_tag_per_name")]

    def __str__(self):
        return self.name


class GenerationTag(models.Model):
    # No index of its own: tagged_once begins with the tag.
    tag = models.ForeignKey(Tag, on_delete=models.CASCADE, related_name="links", db_index=False)
    generation = models.ForeignKey(Generation, on_delete=models.CASCADE, related_name="tag_links")
    added_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    added_at = models.DateTimeField(default=timezone.now)

    class Meta:
        # Tag first: the gallery's tag filter reads it by tag.
        constraints = [models.UniqueConstraint(fields=["tag", "generation"], name="tagged_once")]

    def __str__(self):
        return f"{self.tag_id} on #{self.generation_id}"
