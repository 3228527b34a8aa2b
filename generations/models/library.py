"""Pictures and presets: what a generation is made from."""

import uuid

from django.conf import settings
from django.core import signing
from django.core.files.base import ContentFile
from django.db import IntegrityError, models, transaction
from django.urls import reverse
from django.utils import timezone

from lib.storage_links import source_picture_link

SOURCE_LINK_SALT = "generations.source-link"


def random_media_name(folder, extension):
    return f"{folder}/{timezone.now():%Y/%m}/{uuid.uuid4().hex}.{extension}"


def source_upload_to(instance, filename):
    return random_media_name("sources", "jpg")


class SourceImageManager(models.Manager):
    def store(self, picture, original_name, user):
        """Keep a re-encoded picture; the same pixels uploaded twice reuse one row."""
        existing = self.filter(sha256=picture.sha256).first()
        if existing is None:
            existing = self.model(
                sha256=picture.sha256,
                width=picture.width,
                height=picture.height,
                original_name=(original_name or "")[:255],
                uploaded_by=user if user and user.is_authenticated else None,
            )
            existing.image.save("picture.jpg", ContentFile(picture.content), save=False)
            try:
                with transaction.atomic():
                    existing.save()
            except IntegrityError:  # the same picture, uploaded at the same moment
                existing.image.delete(save=False)
                existing = self.get(sha256=picture.sha256)
        if existing.is_retired:
            existing.is_retired = False
            existing.save(update_fields=["is_retired"])
        return existing


class SourceImage(models.Model):
    """An uploaded picture, stored re-encoded (no EXIF, orientation applied)."""

    image = models.FileField(upload_to=source_upload_to, db_index=True)
    sha256 = models.CharField(max_length=64, unique=True)
    width = models.PositiveIntegerField()
    height = models.PositiveIntegerField()
    original_name = models.CharField(max_length=255, blank=True)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    is_retired = models.BooleanField(default=False)

    objects = SourceImageManager()

    class Meta:
        ordering = ["-created_at"]

    def __str__(self):
        return self.original_name or f"Picture {self.pk}"

    @property
    def is_portrait(self):
        return self.height > self.width

    def signed_url(self):
        """A short-lived public link for the API's servers to fetch this one picture."""
        if bucket_link := source_picture_link(self.image.name):  # media in S3: presigned
            return bucket_link
        token = signing.dumps(self.pk, salt=SOURCE_LINK_SALT)
        return settings.PUBLIC_BASE_URL + reverse("studio:source-link", args=[token])

    @classmethod
    def from_signed_token(cls, token):
        """The picture a link names, or None when the link is tampered with or expired."""
        try:
            pk = signing.loads(token, salt=SOURCE_LINK_SALT, max_age=settings.SOURCE_LINK_MAX_AGE)
        except signing.BadSignature:
            return None
        return cls.objects.filter(pk=pk).first()


class LoraPreset(models.Model):
    name = models.CharField(max_length=100, unique=True)
    path = models.CharField(
        max_length=500, help_text="A Hugging Face repo name (Owner/Name) or a download URL."
    )
    default_scale = models.FloatField(default=1.0)
    notes = models.TextField(blank=True)
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return self.name


class PromptPreset(models.Model):
    name = models.CharField(max_length=100, unique=True)
    prompt = models.TextField()
    negative_prompt = models.TextField(blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return self.name
