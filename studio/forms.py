"""Forms of the team's libraries: source pictures, LoRA presets and prompt presets."""

from django import forms
from django.conf import settings

from generations import media, wan_api
from generations.models import LoraPreset, PromptPreset, SourceImage


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
