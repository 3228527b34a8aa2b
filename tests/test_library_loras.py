"""The LoRA library: everyone browses, admins add, edit, retire and bring back."""

import pytest

from generations.models import Generation, GenerationLora, LoraPreset

LORAS = "/library/loras/"
VALID = {
    "name": "Painting",
    "path": "Remade-AI/Painting",
    "default_scale": "0.8",
    "notes": "Thick brush strokes.",
    "is_active": "on",
}


@pytest.fixture
def painting(db):
    return LoraPreset.objects.create(name="Painting", path="Remade-AI/Painting", default_scale=0.8)


def test_logged_out_people_are_sent_to_log_in(client, db):
    for url in (LORAS, LORAS + "new/"):
        response = client.get(url)
        assert response.status_code == 302
        assert response["Location"].startswith("/login/")


def test_a_member_browses_the_presets(member_client, painting):
    response = member_client.get(LORAS)

    html = response.content.decode()
    assert response.status_code == 200
    assert "Remade-AI/Painting" in html
    assert "scale 0.8" in html
    assert f"/library/loras/{painting.pk}/" not in html  # no edit link


def test_the_list_shows_how_many_generations_used_a_preset(member_client, painting, finished):
    GenerationLora.objects.create(
        generation=finished, position=1, path=painting.path, scale=1, preset=painting
    )
    assert "used by 1 generation<" in member_client.get(LORAS).content.decode()


@pytest.mark.parametrize(
    "method, url",
    [
        ("get", LORAS + "new/"),
        ("post", LORAS + "new/"),
        ("get", LORAS + "{pk}/"),
        ("post", LORAS + "{pk}/"),
        ("post", LORAS + "{pk}/retire/"),
        ("post", LORAS + "{pk}/restore/"),
    ],
)
@pytest.mark.parametrize("role", ["member", "reviewer"])
def test_only_admins_change_presets(client_for, make_user, painting, method, url, role):
    browser = client_for(make_user(f"someone-{role}", role))

    response = getattr(browser, method)(url.format(pk=painting.pk), VALID)

    assert response.status_code == 403
    painting.refresh_from_db()
    assert painting.is_active and painting.notes == ""


def test_an_admin_adds_a_preset(admin_client):
    response = admin_client.post(LORAS + "new/", VALID)

    assert response.status_code == 302
    preset = LoraPreset.objects.get()
    assert (preset.name, preset.path) == ("Painting", "Remade-AI/Painting")
    assert preset.default_scale == 0.8
    assert preset.is_active


def test_a_preset_may_be_a_download_url(admin_client):
    admin_client.post(LORAS + "new/", {**VALID, "path": "https://example.com/lora.safetensors"})
    assert LoraPreset.objects.get().path == "https://example.com/lora.safetensors"


def test_an_admin_edits_a_preset(admin_client, painting):
    assert admin_client.get(f"{LORAS}{painting.pk}/").status_code == 200

    admin_client.post(
        f"{LORAS}{painting.pk}/", {**VALID, "default_scale": "1.5", "notes": "bolder"}
    )

    painting.refresh_from_db()
    assert (painting.default_scale, painting.notes) == (1.5, "bolder")


def test_editing_a_missing_preset_is_not_found(admin_client, db):
    assert admin_client.get(LORAS + "999/").status_code == 404


@pytest.mark.parametrize(
    "change, field, message",
    [
        ({"name": ""}, "name", "This field is required."),
        ({"path": ""}, "path", "This field is required."),
        ({"path": "not a repo"}, "path", "Hugging Face repo (Owner/Name)"),
        ({"path": "ftp://example.com/x"}, "path", "Hugging Face repo (Owner/Name)"),
        ({"default_scale": ""}, "default_scale", "This field is required."),
        ({"default_scale": "strong"}, "default_scale", "Enter a number."),
        ({"default_scale": "4.5"}, "default_scale", "between 0 and 4"),
        ({"default_scale": "-1"}, "default_scale", "between 0 and 4"),
        ({"name": "x" * 101}, "name", "at most 100 characters"),
    ],
)
def test_each_error_is_shown_next_to_its_field_and_input_is_kept(
    admin_client, change, field, message
):
    response = admin_client.post(LORAS + "new/", {**VALID, **change})

    assert response.status_code == 400
    html = response.content.decode()
    assert f'id="id_{field}-error"' in html
    assert message in html
    assert 'value="Remade-AI/Painting"' in html or field == "path"
    assert "Thick brush strokes." in html
    assert not LoraPreset.objects.exists()


def test_a_name_already_taken_is_an_error(admin_client, painting):
    response = admin_client.post(LORAS + "new/", {**VALID, "path": "Other/Painting"})

    assert response.status_code == 400
    assert "A LoRA preset with this name already exists." in response.content.decode()
    assert LoraPreset.objects.count() == 1


def test_retiring_hides_a_preset_from_the_studio_picker(admin_client, painting):
    admin_client.post(f"{LORAS}{painting.pk}/retire/")

    painting.refresh_from_db()
    assert not painting.is_active
    assert painting not in admin_client.get("/").context["lora_presets"]


def test_a_retired_preset_cannot_be_used_for_a_new_generation(admin_client, painting, source_image):
    admin_client.post(f"{LORAS}{painting.pk}/retire/")

    loras = f'[{{"preset": {painting.pk}, "scale": 1}}]'
    response = admin_client.post(
        "/", {"prompt": "p", "source_image": source_image.pk, "loras": loras}
    )

    assert response.status_code == 400
    assert "no active LoRA preset" in response.content.decode()


def test_retiring_keeps_the_generations_made_with_it(admin_client, painting, finished):
    GenerationLora.objects.create(
        generation=finished, position=1, path=painting.path, scale=1, preset=painting
    )

    admin_client.post(f"{LORAS}{painting.pk}/retire/")

    assert Generation.objects.get(pk=finished.pk).loras.get().preset == painting


def test_a_retired_preset_is_listed_and_brought_back(admin_client, painting):
    LoraPreset.objects.filter(pk=painting.pk).update(is_active=False)
    assert "Retired" in admin_client.get(LORAS).content.decode()

    admin_client.post(f"{LORAS}{painting.pk}/restore/")

    painting.refresh_from_db()
    assert painting.is_active


def test_retiring_needs_a_post(admin_client, painting):
    assert admin_client.get(f"{LORAS}{painting.pk}/retire/").status_code == 405
