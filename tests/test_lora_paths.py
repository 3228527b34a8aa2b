"""One LoRA path check for the studio form, the JSON API and the LoRA library: a path the
API could never load is refused before anything is sent or billed."""

import pytest
from django.utils.html import escape

from generations import wan_api
from generations.models import Generation, LoraPreset

HOSTILE = [
    "../../etc/passwd",
    "a/b/c",
    "javascript:alert(1)",
    "file:///etc/passwd",
    "http://127.0.0.1:8000/lora.safetensors",
    "http://10.1.2.3/lora.safetensors",
    "http://[::1]/lora.safetensors",
    "http://localhost/lora.safetensors",
    "http://169.254.169.254/latest/meta-data",
    "https://nas.local/lora.safetensors",
    "../Painting",
    "owner/..",
]
GOOD = ["Remade-AI/Painting", "https://civitai.com/api/download/models/135931"]


@pytest.mark.parametrize("path", HOSTILE)
def test_the_contract_refuses_a_path_the_api_cannot_load(path):
    assert wan_api.lora_path_error(path)


@pytest.mark.parametrize("path", GOOD)
def test_the_contract_accepts_repos_and_public_links(path):
    assert wan_api.lora_path_error(path) is None


@pytest.mark.parametrize("path", HOSTILE)
def test_the_studio_form_refuses_it_next_to_the_field(member_client, source_image, path):
    form = {"prompt": "x", "source_image": source_image.pk, "lora_1_path": path}

    response = member_client.post("/", form)

    assert response.status_code == 400
    assert escape(wan_api.lora_path_error(path)) in response.content.decode()
    assert not Generation.objects.exists()


@pytest.mark.parametrize("path", HOSTILE)
def test_the_json_api_refuses_it_with_the_field_name(api_client, source_image, path):
    loras = f'[{{"path": "{path}", "scale": 1}}]'

    response = api_client.post(
        "/api/generations/", {"prompt": "x", "source_image": source_image.pk, "loras": loras}
    )

    assert response.status_code == 400
    assert response.json()["errors"]["loras"][0] == wan_api.lora_path_error(path)
    assert not Generation.objects.exists()


@pytest.mark.parametrize("path", HOSTILE)
def test_the_library_refuses_it(admin_client, path):
    response = admin_client.post(
        "/library/loras/new/", {"name": "x", "path": path, "default_scale": "1"}
    )
    assert response.status_code == 400
    assert not LoraPreset.objects.exists()
