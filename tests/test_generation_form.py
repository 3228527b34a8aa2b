"""The "New generation" form: batches, presets, orientation, reuse, and every error."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from generations.models import Batch, Generation, LoraPreset, PromptPreset

from .support.pictures import jpeg_upload


def post(browser, picture, **fields):
    return browser.post("/", {"prompt": "a calm sea", "source_image": picture.pk, **fields})


def test_batch_of_two_prompts_by_two_seeds_makes_four(member_client, source_image):
    response = post(
        member_client,
        source_image,
        prompt="waves\nclouds",
        one_prompt_per_line="on",
        seed="100",
        seed_count="2",
    )

    rows = list(Generation.objects.order_by("pk").values_list("prompt", "seed"))
    assert rows == [("waves", 100), ("waves", 101), ("clouds", 100), ("clouds", 101)]
    batch = Batch.objects.get()
    assert response["Location"] == f"/batches/{batch.pk}/"
    assert set(Generation.objects.values_list("batch", flat=True)) == {batch.pk}


def test_random_seeds_in_a_batch_are_distinct_and_known(member_client, source_image):
    post(member_client, source_image, random_seed="on", seed_count="3")
    seeds = list(Generation.objects.values_list("seed", flat=True))
    assert len(set(seeds)) == 3 and min(seeds) >= 0


def test_lora_scale_values_multiply_the_batch(member_client, source_image):
    post(
        member_client,
        source_image,
        lora_1_path="Owner/Style",
        lora_1_scale="1",
        lora_scales="0.5, 1.5",
    )
    scales = sorted(g.loras.get().scale for g in Generation.objects.all())
    assert scales == [0.5, 1.5]
    assert sorted(Generation.objects.values_list("batch_lora_scale", flat=True)) == [0.5, 1.5]


def test_two_loras_with_their_own_scales(member_client, source_image):
    preset = LoraPreset.objects.create(
        name="Painting", path="Remade-AI/Painting", default_scale=0.7
    )
    post(
        member_client,
        source_image,
        lora_1_preset=str(preset.pk),
        lora_2_path="Owner/Other",
        lora_2_scale="2.5",
    )
    loras = list(Generation.objects.get().loras.values_list("path", "scale", "preset"))
    assert loras == [("Remade-AI/Painting", 0.7, preset.pk), ("Owner/Other", 2.5, None)]


def test_orientation_can_override_the_picture(member_client, source_image):
    post(member_client, source_image, orientation="portrait", clarity="720p")
    generation = Generation.objects.get()
    assert (generation.width, generation.height) == (720, 1280)


def test_saving_a_prompt_preset(member_client, source_image):
    post(member_client, source_image, negative_prompt="blur", save_preset_as="Calm sea")
    preset = PromptPreset.objects.get()
    assert (preset.name, preset.prompt, preset.negative_prompt) == (
        "Calm sea",
        "a calm sea",
        "blur",
    )


def test_reuse_prefills_every_setting(member_client, source_image):
    preset = LoraPreset.objects.create(name="Painting", path="Remade-AI/Painting")
    post(
        member_client,
        source_image,
        negative_prompt="blur",
        seed="4242",
        steps="12",
        guidance_scale="7.5",
        flow_shift="3",
        fast_mode="true",
        clarity="720p",
        lora_1_preset=str(preset.pk),
        lora_1_scale="0.6",
        lora_2_path="Owner/X",
        lora_2_scale="2",
    )
    original = Generation.objects.get()

    page = member_client.get(f"/?reuse={original.pk}").content.decode()

    for expected in [
        f'name="source_image" value="{source_image.pk}"',
        ">a calm sea</textarea>",
        ">blur</textarea>",
        'name="seed" id="id_seed" min="-1" max="9999999999" value="4242"',
        'name="steps" value="12"',
        'name="guidance_scale" value="7.5"',
        'name="flow_shift" value="3.0"',
        '<option value="720p" selected>',
        '<option value="true" selected>On</option>',
        f'<option value="{preset.pk}" data-default-scale="1.0" selected>',
        'step="0.05" placeholder="1.0" value="0.6"',
        'name="lora_2_path" placeholder="Owner/Name or URL" value="Owner/X"',
    ]:
        assert expected in page, expected


def test_reuse_takes_the_seed_the_api_used(member_client, source_image):
    post(member_client, source_image, random_seed="on")
    original = Generation.objects.get()
    Generation.objects.filter(pk=original.pk).update(reported_seed=987)
    page = member_client.get(f"/?reuse={original.pk}").content.decode()
    assert 'value="987"' in page


@pytest.mark.parametrize(
    "fields, field",
    [
        ({"prompt": ""}, "prompt"),
        ({"prompt": "x" * 2001}, "prompt"),
        ({"prompt": "ok\n" + "y" * 2001, "one_prompt_per_line": "on"}, "prompt"),
        ({"negative_prompt": "x" * 2001}, "negative_prompt"),
        ({"seed": "-5", "random_seed": ""}, "seed"),
        ({"seed_count": "17"}, "seed_count"),
        ({"steps": "0"}, "steps"),
        ({"guidance_scale": "11"}, "guidance_scale"),
        ({"flow_shift": "0"}, "flow_shift"),
        ({"clarity": "1080p"}, "clarity"),
        ({"orientation": "diagonal"}, "orientation"),
        ({"lora_1_path": "a/b", "lora_1_scale": "9"}, "loras"),
        ({"lora_1_preset": "999"}, "loras"),
        ({"lora_scales": "0.5, 1"}, "lora_scales"),
        ({"lora_1_path": "a/b", "lora_scales": "0.5, nine"}, "lora_scales"),
        ({"source_image": "999999"}, "source_image"),
    ],
)
def test_each_error_is_shown_next_to_its_field_and_input_is_kept(
    member_client, source_image, fields, field
):
    response = post(member_client, source_image, **fields)

    assert response.status_code == 400
    assert field in response.context["form"].errors
    assert f'id="id_{field}-error"' in response.content.decode()
    assert not Generation.objects.exists()


def test_a_picture_that_is_not_in_the_library_is_reported(member_client, db):
    response = member_client.post("/", {"prompt": "x", "source_image": "999999"})
    assert response.status_code == 400
    assert "source_image" in response.context["form"].errors
    assert "Select a valid choice" in response.content.decode()


def test_an_unreadable_upload_is_reported_under_the_picture(member_client, media_root):
    fake = SimpleUploadedFile("cat.png", b"<svg></svg>", content_type="image/png")
    response = member_client.post("/", {"prompt": "x", "image": fake})
    assert 'id="id_image-error"' in response.content.decode()


def test_too_many_in_one_batch_is_refused(member_client, source_image):
    prompts = "\n".join(f"p{n}" for n in range(9))
    response = post(
        member_client, source_image, prompt=prompts, one_prompt_per_line="on", seed_count="8"
    )
    assert response.status_code == 400
    assert "at most 64" in response.content.decode()


def test_kept_upload_survives_an_error(member_client, media_root):
    member_client.post("/", {"prompt": "", "image": jpeg_upload("p.jpg")})
    from generations.models import SourceImage

    kept = SourceImage.objects.get()
    member_client.post("/", {"prompt": "now with a prompt", "source_image": kept.pk})
    assert Generation.objects.get().source_image == kept


def test_the_page_shows_an_error_for_every_field_of_the_form(user, rf, db):
    """No field's error can be silently dropped by the template."""
    from django.template.loader import render_to_string

    from generations.forms import GenerationForm

    form = GenerationForm({"prompt": "x"}, user=user)
    form.is_valid()
    for name in form.fields:
        form.add_error(name, f"problem-with-{name}")
    request = rf.get("/")
    request.user = user

    page = render_to_string("studio/dashboard.html", {"form": form}, request=request)

    missing = [name for name in form.fields if f"problem-with-{name}" not in page]
    assert missing == []
