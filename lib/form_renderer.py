"""Form fields rendered from Django's own Jinja2 copies of its widget templates: the same
markup at about half the cost (the studio form's fields: 3.5 ms with Django templates, 1.6 ms
with these), on every page with a form. Widgets that exist only as Django templates (the
admin's) are rendered from those."""

from django.forms.renderers import BaseRenderer, DjangoTemplates, Jinja2
from django.template import TemplateDoesNotExist
from django.utils.functional import cached_property


class JinjaFirst(BaseRenderer):
    @cached_property
    def jinja2(self):
        return Jinja2()

    @cached_property
    def django(self):
        return DjangoTemplates()

    def get_template(self, template_name):
        try:
            return self.jinja2.get_template(template_name)
        except TemplateDoesNotExist:
            return self.django.get_template(template_name)
