"""The prompt library: members add; people edit and delete their own; admins any."""

import pytest

from generations.models import PromptPreset

PROMPTS = "/library/prompts/"
VALID = {"name": "Dusk", "prompt": "a harbour at dusk, boats rocking", "negative_prompt": "blur"}


@pytest.fixture
def dusk(user):
    return PromptPreset.objects.create(name="Dusk", prompt="a harbour at dusk", created_by=user)


def test_logged_out_people_are_sent_to_log_in(client, db):
    for url in (PROMPTS, PROMPTS + "new/"):
        response = client.get(url)
        assert response.status_code == 302
        assert response["Location"].startswith("/login/")


@pytest.mark.parametrize("role", ["member", "reviewer", "admin"])
def test_every_role_browses_and_adds(client_for, make_user, dusk, role):
    browser = client_for(make_user(f"someone-{role}", role))

    assert "a harbour at dusk" in browser.get(PROMPTS).content.decode()
    response = browser.post(PROMPTS + "new/", {**VALID, "name": f"Dusk {role}"})
    assert response.status_code == 302


def test_a_new_preset_belongs_to_its_author(member_client, user):
    member_client.post(PROMPTS + "new/", VALID)

    preset = PromptPreset.objects.get()
    assert (preset.prompt, preset.negative_prompt, preset.created_by) == (
        VALID["prompt"],
        "blur",
        user,
    )


def test_a_new_preset_is_offered_in_the_studio(member_client):
    member_client.post(PROMPTS + "new/", VALID)
    assert PromptPreset.objects.get() in member_client.get("/").context["prompt_presets"]


@pytest.mark.parametrize(
    "change, field, message",
    [
        ({"name": ""}, "name", "This field is required."),
        ({"name": "x" * 101}, "name", "at most 100 characters"),
        ({"prompt": ""}, "prompt", "This field is required."),
        ({"prompt": "   "}, "prompt", "This field is required."),
        ({"prompt": "x" * 2001}, "prompt", "At most 2000 characters"),
        ({"negative_prompt": "x" * 2001}, "negative_prompt", "At most 2000 characters"),
    ],
)
def test_each_error_is_shown_next_to_its_field_and_input_is_kept(
    member_client, change, field, message
):
    response = member_client.post(PROMPTS + "new/", {**VALID, **change})

    assert response.status_code == 400
    html = response.content.decode()
    assert f'id="id_{field}-error"' in html
    assert message in html
    if field != "prompt":
        assert VALID["prompt"] in html
    assert not PromptPreset.objects.exists()


def test_a_name_already_taken_is_an_error(member_client, dusk):
    response = member_client.post(PROMPTS + "new/", VALID)

    assert response.status_code == 400
    assert "A prompt preset with this name already exists." in response.content.decode()


def test_the_author_edits_a_preset(member_client, dusk):
    assert member_client.get(f"{PROMPTS}{dusk.pk}/").status_code == 200

    member_client.post(f"{PROMPTS}{dusk.pk}/", {**VALID, "prompt": "a harbour at dawn"})

    dusk.refresh_from_db()
    assert dusk.prompt == "a harbour at dawn"


def test_an_empty_edit_shows_errors(member_client, dusk):
    response = member_client.post(f"{PROMPTS}{dusk.pk}/", {})

    assert response.status_code == 400
    assert 'id="id_prompt-error"' in response.content.decode()


def test_the_author_deletes_a_preset_after_confirming(member_client, dusk):
    confirm = member_client.get(f"{PROMPTS}{dusk.pk}/delete/")
    assert "Delete the prompt preset" in confirm.content.decode()
    assert PromptPreset.objects.exists()

    response = member_client.post(f"{PROMPTS}{dusk.pk}/delete/")

    assert response.status_code == 302
    assert not PromptPreset.objects.exists()


def test_a_teammate_may_not_edit_or_delete_anothers_preset(client_for, dusk, other_user):
    teammate = client_for(other_user)

    assert teammate.get(f"{PROMPTS}{dusk.pk}/").status_code == 403
    assert teammate.post(f"{PROMPTS}{dusk.pk}/", VALID).status_code == 403
    assert teammate.post(f"{PROMPTS}{dusk.pk}/delete/").status_code == 403
    assert PromptPreset.objects.get().prompt == "a harbour at dusk"


def test_a_teammate_sees_no_edit_links_on_anothers_preset(client_for, dusk, other_user):
    assert f"{PROMPTS}{dusk.pk}/" not in client_for(other_user).get(PROMPTS).content.decode()


def test_an_admin_edits_and_deletes_anyones_preset(admin_client, dusk):
    assert admin_client.post(f"{PROMPTS}{dusk.pk}/", VALID).status_code == 302
    assert admin_client.post(f"{PROMPTS}{dusk.pk}/delete/").status_code == 302
    assert not PromptPreset.objects.exists()


def test_without_the_add_permission_adding_is_refused(client_for, make_user):
    from django.contrib.auth.models import Permission

    person = make_user("viewer", role=None)
    person.user_permissions.add(Permission.objects.get(codename="view_promptpreset"))
    browser = client_for(person)

    assert browser.get(PROMPTS).status_code == 200
    assert browser.post(PROMPTS + "new/", VALID).status_code == 403


def test_a_missing_preset_is_not_found(member_client, db):
    assert member_client.get(PROMPTS + "999/").status_code == 404
    assert member_client.post(PROMPTS + "999/delete/").status_code == 404
