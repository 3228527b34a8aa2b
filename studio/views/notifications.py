"""A person's notifications: what they hear about by e-mail and by their webhook, the webhook's
address, format and secret, a test, and the last deliveries with what came of each.

The secret is shown in full only in the answer that made it; later the page shows its end."""

from django import forms
from django.contrib import messages
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django_htmx.http import HttpResponseStopPolling

from generations import notify
from generations.models import CHOOSABLE_KINDS, EventKind, NotificationSettings, WebhookDelivery
from generations.models.notification import validate_webhook_url

RECENT_DELIVERIES = 20
KIND_CHOICES = [(kind.value, kind.label) for kind in CHOOSABLE_KINDS]


class NotificationSettingsForm(forms.ModelForm):
    email = forms.EmailField(
        required=False,
        label="E-mail address",
        help_text="Yours, for these notifications and nothing else.",
    )
    email_kinds = forms.MultipleChoiceField(
        choices=KIND_CHOICES,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        label="E-mail me when",
    )
    webhook_kinds = forms.MultipleChoiceField(
        choices=KIND_CHOICES,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        label="Call my webhook when",
    )
    # Not a URLField: its own check would answer "Enter a valid URL." for ftp:// before the
    # model's says what is wrong.
    webhook_url = forms.CharField(
        required=False,
        max_length=2000,
        validators=[validate_webhook_url],
        label="Webhook address",
        help_text="An http:// or https:// address that takes a POST of JSON. Empty: no webhook.",
        widget=forms.URLInput(attrs={"placeholder": "https://hooks.example.com/wanstudio"}),
    )

    class Meta:
        model = NotificationSettings
        fields = ["email_kinds", "webhook_kinds", "webhook_url", "slack_format"]
        labels = {"slack_format": 'Slack-compatible: send {"text": …} only'}
        help_texts = {
            "slack_format": "For Slack, Mattermost or Discord (its /slack address) incoming "
            "webhooks. Off: the full event as JSON."
        }

    def __init__(self, *args, person, **kwargs):
        super().__init__(*args, **kwargs)
        self.person = person
        self.fields["email"].initial = person.email

    def kind_rows(self):
        """(label, its e-mail checkbox, its webhook checkbox) per kind: the page's table."""
        labels = [label for _, label in KIND_CHOICES]
        return list(zip(labels, self["email_kinds"], self["webhook_kinds"], strict=True))

    def save(self):
        """Save the choices and the address; the secret made for a first webhook, or None."""
        self.person.email = self.cleaned_data["email"]
        self.person.save(update_fields=["email"])
        preferences = super().save(commit=False)
        preferences.person = self.person
        new_secret = preferences.ensure_secret()
        preferences.save()
        return new_secret


def page(request, form, *, new_secret=None, status=200):
    context = {
        "form": form,
        "preferences": form.instance,
        "new_secret": new_secret,
        **deliveries_context(request.user),
    }
    return render(request, "studio/notifications.html", context, status=status)


def deliveries_context(person):
    deliveries = list(WebhookDelivery.objects.filter(person=person)[:RECENT_DELIVERIES])
    return {
        "deliveries": deliveries,
        "expecting_news": any(delivery.is_expected_soon for delivery in deliveries),
    }


@require_http_methods(["GET", "POST"])
def notification_settings(request):
    preferences = NotificationSettings.for_person(request.user)
    data = request.POST if request.method == "POST" else None
    form = NotificationSettingsForm(data, instance=preferences, person=request.user)
    if data is None or not form.is_valid():
        return page(request, form, status=400 if form.errors else 200)
    new_secret = form.save()
    messages.success(request, "Your notification settings are saved.")
    if new_secret:
        return page(request, form, new_secret=new_secret)
    return redirect("studio:notifications")


@require_POST
def new_webhook_secret(request):
    preferences = NotificationSettings.for_person(request.user)
    secret = preferences.generate_secret()
    preferences.save()
    messages.success(request, "A new secret signs your webhooks from now on; the old one is void.")
    form = NotificationSettingsForm(instance=preferences, person=request.user)
    return page(request, form, new_secret=secret)


@require_POST
def send_test(request):
    preferences = NotificationSettings.for_person(request.user)
    places = [place for place in (preferences.webhook_url, request.user.email) if place]
    if not places:
        messages.error(request, "Add a webhook address or an e-mail address first, then save.")
    else:
        notify.announce(EventKind.TEST, person=request.user)
        messages.success(request, f"A test is on its way to {' and '.join(places)}.")
    return redirect("studio:notifications")


@require_GET
def deliveries(request):
    """The list of last deliveries, polled while one of them is about to be sent."""
    context = deliveries_context(request.user)
    response = render(request, "studio/partials/notification_deliveries.html", context)
    if request.htmx and not context["expecting_news"]:
        response.status_code = HttpResponseStopPolling.status_code
    return response
