"""Forms of the team's libraries (source pictures, LoRA presets and prompt presets), of
people, and of boards and tags."""

from django import forms
from django.conf import settings
from django.contrib.auth.forms import PasswordChangeForm, UserCreationForm
from django.db import IntegrityError, transaction
from django.utils.functional import lazy

from generations import boards, costs, media, roles, wan_api
from generations.models import Board, LoraPreset, PromptPreset, SourceImage


class PictureUploadForm(forms.Form):
    image = forms.FileField(
        label="Picture",
        widget=forms.FileInput(attrs={"accept": "image/jpeg,image/png,image/webp"}),
    )
    name = forms.CharField(required=False, max_length=255, label="Name (optional)")

    def clean_image(self):
        upload = self.cleaned_data["image"]
        try:
            return media.reencode_picture(upload, settings.UPLOAD_MAX_BYTES)
        except media.PictureError as error:
            raise forms.ValidationError(str(error)) from error

    def save(self, user):
        """The stored picture, and whether the library already had these pixels."""
        picture = self.cleaned_data["image"]
        known = SourceImage.objects.filter(sha256=picture.sha256).exists()
        name = self.cleaned_data["name"].strip() or self.files["image"].name
        return SourceImage.objects.store(picture, name, user), known


class PictureForm(forms.ModelForm):
    class Meta:
        model = SourceImage
        fields = ["original_name"]
        labels = {"original_name": "Name"}


class LoraPresetForm(forms.ModelForm):
    class Meta:
        model = LoraPreset
        fields = ["name", "path", "default_scale", "notes", "is_active"]
        labels = {"is_active": "Active (offered in the studio's LoRA pickers)"}
        widgets = {"notes": forms.Textarea(attrs={"rows": 3})}
        error_messages = {"name": {"unique": "A LoRA preset with this name already exists."}}

    def clean_path(self):
        path = self.cleaned_data["path"].strip()
        problem = wan_api.lora_path_error(path)
        if problem:
            raise forms.ValidationError(problem)
        return path

    def clean_default_scale(self):
        scale = self.cleaned_data["default_scale"]
        low, high = wan_api.LORA_SCALE_RANGE
        if not low <= scale <= high:
            raise forms.ValidationError(f"The scale must be between {low:g} and {high:g}.")
        return scale


class PromptPresetForm(forms.ModelForm):
    class Meta:
        model = PromptPreset
        fields = ["name", "prompt", "negative_prompt"]
        widgets = {
            "prompt": forms.Textarea(attrs={"rows": 4}),
            "negative_prompt": forms.Textarea(attrs={"rows": 2}),
        }
        error_messages = {"name": {"unique": "A prompt preset with this name already exists."}}

    def clean_prompt(self):
        return self.checked_text("prompt", required=True)

    def clean_negative_prompt(self):
        return self.checked_text("negative_prompt", required=False)

    def checked_text(self, field, required):
        """The API's own rule for prompts, so a preset can always be submitted."""
        text = self.cleaned_data[field].strip()
        error = wan_api.text_error(text, required=required)
        if error:
            raise forms.ValidationError(error)
        return text


# --- people: the team page (roles, budgets) and a person's own password ----------------------

# Django's help for these validators is an HTML list; a field's hint is one line.
PASSWORD_RULES = "At least 8 characters, not a common password, not like the username."

ROLE_CHOICES = [
    (roles.MEMBER, "Member"),
    (roles.REVIEWER, "Reviewer"),
    (roles.ADMIN, "Admin"),
]


class PersonForm(UserCreationForm):
    """A new person: username, password twice (Django's validators) and a role."""

    role = forms.ChoiceField(choices=ROLE_CHOICES, initial=roles.MEMBER)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["password1"].help_text = PASSWORD_RULES

    @transaction.atomic
    def save(self):
        person = super().save()
        roles.change_role(person, self.cleaned_data["role"])
        return person


class RoleForm(forms.Form):
    role = forms.ChoiceField(choices=ROLE_CHOICES)

    def __init__(self, *args, person, acting, **kwargs):
        super().__init__(*args, **kwargs)
        self.person, self.acting = person, acting

    def clean_role(self):
        role = self.cleaned_data["role"]
        if self.person == self.acting and role != roles.ADMIN:
            raise forms.ValidationError(
                "You can't take away your own admin role; ask another admin to do it."
            )
        return role

    def save(self):
        roles.change_role(self.person, self.cleaned_data["role"])

    def done_message(self):
        return f"{self.person}'s role is now {self.cleaned_data['role']}."


def monthly_budget_field():
    """A monthly budget in the studio's currency, as a person's and a board's are set."""
    return forms.DecimalField(
        required=False,
        min_value=0,
        max_digits=9,
        decimal_places=2,
        label=lazy(lambda: f"Monthly budget ({settings.WAN_PRICE_CURRENCY})", str)(),
        help_text="Empty means no limit.",
    )


class BudgetForm(forms.Form):
    monthly_limit = monthly_budget_field()

    def __init__(self, *args, person, **kwargs):
        super().__init__(*args, **kwargs)
        self.person = person

    def save(self):
        costs.set_monthly_limit(self.person, self.cleaned_data["monthly_limit"])

    def done_message(self):
        limit = self.cleaned_data["monthly_limit"]
        if limit is None:
            return f"{self.person} has no monthly budget now."
        return f"{self.person}'s monthly budget is now {limit:.2f} {settings.WAN_PRICE_CURRENCY}."


class ActiveForm(forms.Form):
    """Deactivate (active=0) or reactivate (active=1) an account; it is never deleted."""

    active = forms.TypedChoiceField(
        choices=[("1", "active"), ("0", "inactive")],
        coerce=lambda value: value == "1",
        widget=forms.HiddenInput,
    )

    def __init__(self, *args, person, acting, **kwargs):
        super().__init__(*args, **kwargs)
        self.person, self.acting = person, acting

    def clean_active(self):
        active = self.cleaned_data["active"]
        if self.person == self.acting and not active:
            raise forms.ValidationError(
                "You can't deactivate your own account; ask another admin to do it."
            )
        return active

    def save(self):
        roles.set_active(self.person, self.cleaned_data["active"])

    def done_message(self):
        if self.cleaned_data["active"]:
            return f"{self.person} can log in again."
        return f"{self.person} is deactivated: they can't log in; their videos and spend stay."


class PasswordForm(PasswordChangeForm):
    """A person changes their own password: Django's form, with a one-line hint."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["old_password"].label = "Current password"
        self.fields["new_password1"].help_text = PASSWORD_RULES
        self.fields["new_password2"].label = "New password again"


# --- boards and tags ----------------------------------------------------------------------------


class BoardForm(forms.ModelForm):
    """A board's name and description, and its monthly budget for who may set budgets
    (may_set_budget), as a person's is set on the team page."""

    monthly_limit = monthly_budget_field()

    class Meta:
        model = Board
        fields = ["name", "description", "monthly_limit"]
        widgets = {"description": forms.Textarea(attrs={"rows": 2})}

    def __init__(self, *args, may_set_budget=False, **kwargs):
        super().__init__(*args, **kwargs)
        if not may_set_budget:
            del self.fields["monthly_limit"]  # and the board keeps the budget it has

    def clean_name(self):
        name = " ".join(self.cleaned_data["name"].split())
        if not name:
            raise forms.ValidationError("Name the board.")
        others = Board.objects.filter(name__iexact=name).exclude(pk=self.instance.pk)
        if others.exists():
            raise forms.ValidationError(f"A board named “{others.first()}” already exists.")
        return name

    def save(self, person=None):
        """The board, or None when a board of this name was made meanwhile (the form then
        says so beside the name)."""
        if self.instance.pk is None:
            self.instance.created_by = person
        try:
            with transaction.atomic():
                return super().save()
        except IntegrityError:
            self.add_error("name", "A board with this name already exists.")
            return None


class BoardChoiceForm(forms.Form):
    """A board to put something on, chosen by its id."""

    board = forms.ModelChoiceField(
        queryset=Board.objects.all(),
        empty_label="Choose a board",
        error_messages={
            "required": "Choose a board.",
            "invalid_choice": "There is no such board: it may have been deleted.",
        },
    )


class TagForm(forms.Form):
    """One tag as a person types it (generations/boards.py says what a tag may be)."""

    tag = forms.CharField(label="Tag", required=False, strip=False)

    def clean_tag(self):
        return boards.clean_tag_name(self.cleaned_data["tag"])
