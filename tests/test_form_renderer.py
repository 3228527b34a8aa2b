"""Form fields render from Django's Jinja2 copies of its widget templates (lib/form_renderer):
each of the studio's forms must read exactly as Django's own templates write it, errors
included, and the admin's widgets (Django templates only) must still render."""

import html
import re

import pytest
from django.forms.renderers import DjangoTemplates

from generations.forms import GenerationForm
from generations.sequences import SequenceForm
from generations.shares import ShareForm
from lib.form_renderer import JinjaFirst
from studio import forms as studio_forms
from studio.gallery import GalleryFilters

BAD = {"q": "x" * 500, "since": "yesterday", "sort": "sideways", "width": "-3", "name": ""}


def markup(form):
    """The fields, their errors and the form's own errors as a browser reads them: the same
    entities either way (&quot; or &#34;), whitespace between tags ignored."""
    text = "".join(str(field) + str(field.errors) for field in form) + str(form.non_field_errors())
    return re.sub(r">\s+<", "><", html.unescape(text)).strip()


@pytest.mark.parametrize(
    "make",
    [
        lambda user, data, renderer: GenerationForm(
            data, user=user, renderer=renderer, initial={"submission_key": "k"}
        ),
        lambda user, data, renderer: GalleryFilters(data, renderer=renderer),
        lambda user, data, renderer: SequenceForm(data, user=user, renderer=renderer),
        lambda user, data, renderer: ShareForm(data, user=user, renderer=renderer),
        lambda user, data, renderer: studio_forms.BoardForm(data, renderer=renderer),
        lambda user, data, renderer: studio_forms.LoraPresetForm(data, renderer=renderer),
        lambda user, data, renderer: studio_forms.PictureUploadForm(data, renderer=renderer),
    ],
    ids=["studio", "gallery filters", "sequence", "share", "board", "lora preset", "picture"],
)
@pytest.mark.parametrize("data", [None, BAD], ids=["empty", "with errors"])
def test_every_form_reads_as_djangos_own_templates_write_it(make, data, user):
    django_form = make(user, data, DjangoTemplates())
    jinja_form = make(user, data, JinjaFirst())
    if data:
        assert not jinja_form.is_valid() and not django_form.is_valid()
    assert markup(jinja_form) == markup(django_form)
    assert "<input" in markup(jinja_form) or "<select" in markup(jinja_form)


def test_the_admins_own_widgets_still_render(superuser, client):
    client.force_login(superuser)
    response = client.get("/admin/generations/generation/add/")
    assert response.status_code == 200
    assert "related-widget-wrapper" in response.content.decode()
