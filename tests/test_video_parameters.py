"""Every MP4 the studio stores carries its parameters as JSON in its `comment` tag, written by a
remux that copies the streams untouched and puts the moov atom first; dropping such a file on
the Studio form fills every field from it, each value judged by the form's own fields."""

import base64
import io
import shutil

import av
import pytest
from django.core.files import File
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.test import Client
from PIL import Image

from generations import media
from generations.forms import initial_from
from generations.models import GenerationLora, LoraPreset, Status
from studio.views import bulk
from wansim.render import render_video

from .support.chromium import chromium_page, log_in, wait_for_js
from .support.pictures import picture_bytes

URL = "/studio/settings-from-file/"


@pytest.fixture(scope="module")
def rendered(tmp_path_factory):
    """A real MP4 as the API returns it (as the simulator renders it), without parameters."""
    path = tmp_path_factory.mktemp("rendered") / "plain.mp4"
    render_video(Image.open(io.BytesIO(picture_bytes(640, 480))), "480p", path)
    return path


@pytest.fixture
def generation(make_generation, user):
    made = make_generation(
        status=Status.SUCCEEDED,
        prompt="Un phare “au crépuscule”, 灯台",
        negative_prompt="blur",
        width=480,
        height=832,
        seed=-1,
        reported_seed=424242,
        steps=24,
        guidance_scale=6.5,
        flow_shift=3.0,
        fast_mode=True,
        enable_safety_checker=False,
    )
    painting = LoraPreset.objects.create(name="Painting", path="Remade-AI/Painting")
    GenerationLora.objects.create(
        generation=made, position=1, path=painting.path, scale=0.8, preset=painting
    )
    GenerationLora.objects.create(
        generation=made, position=2, path="https://civitai.com/api/download/models/1", scale=1.5
    )
    return made


@pytest.fixture
def tagged(rendered, generation, tmp_path):
    path = tmp_path / "tagged.mp4"
    shutil.copy(rendered, path)
    media.tag_parameters(path, generation)
    return path


def packets(path):
    with av.open(str(path)) as container:
        return [bytes(packet) for packet in container.demux(video=0) if packet.size]


def upload(path, name="take.mp4"):
    return SimpleUploadedFile(name, path.read_bytes(), content_type="video/mp4")


# --- writing and reading the tag ---------------------------------------------------------------


def test_the_tag_carries_every_parameter(tagged, generation):
    parameters = media.read_parameters(tagged)

    assert parameters == {
        "wanstudio": 1,
        "generation": generation.pk,
        "prompt": "Un phare “au crépuscule”, 灯台",
        "negative_prompt": "blur",
        "width": 480,
        "height": 832,
        "seed": -1,
        "reported_seed": 424242,
        "steps": 24,
        "guidance_scale": 6.5,
        "flow_shift": 3.0,
        "loras": [
            {"path": "Remade-AI/Painting", "scale": 0.8},
            {"path": "https://civitai.com/api/download/models/1", "scale": 1.5},
        ],
        "fast_mode": True,
        "enable_safety_checker": False,
    }


def test_the_streams_are_copied_not_encoded_again(rendered, tagged):
    assert packets(tagged) == packets(rendered)
    assert media.probe_video(tagged) == media.probe_video(rendered)


def test_the_tagged_file_starts_with_its_moov_atom(tagged):
    head = tagged.read_bytes()[:64]

    ftyp_size = int.from_bytes(head[:4], "big")
    assert head[4:8] == b"ftyp"
    assert head[ftyp_size + 4 : ftyp_size + 8] == b"moov"


def test_tag_parameters_reports_the_size_and_sha256_of_the_tagged_file(
    rendered, generation, tmp_path
):
    (tmp_path / "download").mkdir()
    path = tmp_path / "download" / "video.mp4"
    shutil.copy(rendered, path)

    result = media.tag_parameters(path, generation)

    assert result.tagged
    assert result.size == path.stat().st_size
    assert result.sha256 == media.file_sha256(path)
    assert list(path.parent.iterdir()) == [path]  # no temporary file left beside it


def test_a_file_that_is_not_a_video_is_left_as_it_was(generation, tmp_path):
    path = tmp_path / "video.mp4"
    path.write_bytes(b"not a video at all")

    result = media.tag_parameters(path, generation)

    assert not result.tagged
    assert path.read_bytes() == b"not a video at all"
    assert result.size == 18


def test_a_video_without_our_tag_reads_as_none(rendered, tmp_path):
    assert media.read_parameters(rendered) is None
    foreign = tmp_path / "foreign.mp4"
    media.write_tagged(rendered, foreign, {"made with": "another tool"})
    assert media.read_parameters(foreign) is None


@pytest.mark.parametrize(
    "content",
    [b"#EXTM3U\n#EXTINF:1,\nfile:///etc/passwd\n", b"ffconcat version 1.0\nfile /etc/passwd\n"],
)
def test_a_playlist_is_never_opened_as_one(content):
    with pytest.raises(media.VideoError):
        media.read_parameters(io.BytesIO(content))


# --- settings from a file ----------------------------------------------------------------------


def test_a_dropped_video_fills_the_form_as_reuse_settings_does(member_client, tagged, generation):
    response = member_client.post(URL, {"file": upload(tagged)})

    assert response.status_code == 200, response.content
    answer = response.json()
    reused = initial_from(generation)
    for name, value in answer["fields"].items():
        assert value == reused[name], name
    assert set(reused) - set(answer["fields"]) == {"source_image"}
    assert answer["fields"]["seed"] == 424242  # the seed the API used
    assert answer["fields"]["random_seed"] is False


def test_loras_come_back_as_rows_with_their_preset(member_client, tagged):
    answer = member_client.post(URL, {"file": upload(tagged)}).json()

    painting = LoraPreset.objects.get(name="Painting")
    assert answer["loras"] == [
        {"preset": painting.pk, "path": "", "scale": 0.8},
        {"preset": "", "path": "https://civitai.com/api/download/models/1", "scale": 1.5},
    ]


def test_a_video_without_parameters_is_refused_by_name(member_client, rendered):
    response = member_client.post(URL, {"file": upload(rendered)})

    assert response.status_code == 400
    assert response.json() == {"error": "This video carries no WanStudio parameters."}


@pytest.mark.parametrize(
    "content, name", [(b"\x89PNG\r\n\x1a\n" + b"\0" * 64, "picture.png"), (b"", "empty.mp4")]
)
def test_a_file_that_is_not_an_mp4_is_refused(member_client, content, name):
    response = member_client.post(URL, {"file": SimpleUploadedFile(name, content)})

    assert response.status_code == 400
    assert response.json()["error"] == "This file is not an MP4 video."


def test_no_file_is_refused(member_client):
    response = member_client.post(URL, {})

    assert response.status_code == 400
    assert "Drop an MP4 video" in response.json()["error"]


def test_a_file_over_the_limit_is_refused(member_client, tagged, monkeypatch):
    monkeypatch.setattr(bulk, "SETTINGS_FILE_MAX_BYTES", 1000)

    response = member_client.post(URL, {"file": upload(tagged)})

    assert response.status_code == 400
    assert "the limit is" in response.json()["error"]


def forged(rendered, tmp_path, **changes):
    parameters = {
        "wanstudio": 1, "prompt": "p", "negative_prompt": "", "width": 832, "height": 480,
        "seed": 7, "reported_seed": None, "steps": 30, "guidance_scale": 5.0, "flow_shift": 5.0,
        "loras": [], "fast_mode": False, "enable_safety_checker": True, **changes,
    }  # fmt: skip
    path = tmp_path / "forged.mp4"
    media.write_tagged(rendered, path, parameters)
    return path


@pytest.mark.parametrize(
    "changes, named",
    [
        ({"steps": 400}, "steps"),
        ({"width": 123, "height": 456}, "width"),
        ({"prompt": {"not": "text"}}, "prompt"),
        ({"prompt": "x" * 2001}, "prompt"),
        ({"seed": "7"}, "seed"),
        ({"fast_mode": "yes"}, "fast mode"),
        ({"loras": [{"path": "http://127.0.0.1/steal", "scale": 1}]}, "loras"),
        ({"loras": [{"path": "Remade-AI/Painting", "scale": 9}]}, "loras"),
        ({"loras": "Remade-AI/Painting"}, "loras"),
        ({"wanstudio": 99}, "cannot read"),
    ],
)
def test_forged_parameters_are_judged_by_the_form(
    member_client, rendered, tmp_path, changes, named
):
    response = member_client.post(URL, {"file": upload(forged(rendered, tmp_path, **changes))})

    assert response.status_code == 400
    assert named in response.json()["error"]


def test_a_random_seed_stays_random(member_client, rendered, tmp_path):
    path = forged(rendered, tmp_path, seed=-1)

    fields = member_client.post(URL, {"file": upload(path)}).json()["fields"]

    assert fields["random_seed"] is True
    assert fields["seed"] == -1


def test_reading_settings_needs_the_csrf_token(client_for, user, tagged):
    browser = client_for(user, enforce_csrf_checks=True)

    assert browser.post(URL, {"file": upload(tagged)}).status_code == 403


def test_reading_settings_needs_a_login(tagged):
    response = Client().post(URL, {"file": upload(tagged)})

    assert response.status_code == 302


def test_reading_settings_is_a_post(member_client):
    assert member_client.get(URL).status_code == 405


# --- videos stored before they carried parameters ---------------------------------------------


@pytest.fixture
def stored_untagged(rendered, generation, media_root):
    with open(rendered, "rb") as handle:
        name = default_storage.save("videos/old.mp4", File(handle))
    generation.video = name
    generation.video_bytes = rendered.stat().st_size
    generation.video_sha256 = media.file_sha256(rendered)
    generation.save()
    return generation


def test_tag_videos_tags_a_stored_video_under_a_new_name(
    stored_untagged, media_root, django_capture_on_commit_callbacks
):
    old_name = stored_untagged.video.name

    with django_capture_on_commit_callbacks(execute=True):
        call_command("tag_videos", stdout=io.StringIO())

    stored_untagged.refresh_from_db()
    path = media_root / stored_untagged.video.name
    assert stored_untagged.video.name != old_name
    assert not default_storage.exists(old_name)
    assert media.read_parameters(path)["prompt"] == stored_untagged.prompt
    assert stored_untagged.video_sha256 == media.file_sha256(path)
    assert stored_untagged.video_bytes == path.stat().st_size


def test_tag_videos_a_second_time_finds_nothing_to_do(stored_untagged):
    call_command("tag_videos", stdout=io.StringIO())
    stored_untagged.refresh_from_db()
    name = stored_untagged.video.name

    out = io.StringIO()
    call_command("tag_videos", stdout=out)

    stored_untagged.refresh_from_db()
    assert stored_untagged.video.name == name
    assert out.getvalue().strip() == "1 already tagged"


def test_tag_videos_counts_what_it_could_not_tag(finished, stored_untagged, make_generation):
    make_generation(status=Status.SUCCEEDED, video="videos/gone.mp4")
    out = io.StringIO()

    call_command("tag_videos", stdout=out)

    counts = out.getvalue()
    assert "1 tagged" in counts
    assert "1 not an MP4 that can be remuxed" in counts  # the fixture's 12 bytes
    assert "1 stored video missing" in counts


def test_the_served_video_of_a_tagged_generation_carries_its_parameters(
    stored_untagged, member_client
):
    call_command("tag_videos", stdout=io.StringIO())

    response = member_client.get(stored_untagged.get_video_url())

    content = b"".join(response.streaming_content)
    assert media.read_parameters(io.BytesIO(content))["steps"] == 24


# --- in Chromium -------------------------------------------------------------------------------

PLAY = """async (data) => {
  const video = document.createElement("video");
  video.muted = true;
  document.body.append(video);
  const bytes = Uint8Array.from(atob(data), (c) => c.charCodeAt(0));
  video.src = URL.createObjectURL(new Blob([bytes], { type: "video/mp4" }));
  await new Promise((ready, failed) => {
    video.oncanplay = ready;
    video.onerror = () => failed(video.error?.message);
  });
  await video.play();
  await new Promise((later) => setTimeout(later, 500));
  return [video.videoWidth, video.videoHeight, video.currentTime];
}"""

DROP = """([data, name]) => {
  const bytes = Uint8Array.from(atob(data), (c) => c.charCodeAt(0));
  const transfer = new DataTransfer();
  transfer.items.add(new File([bytes], name, { type: "video/mp4" }));
  const target = document.getElementById("id_prompt");
  target.dispatchEvent(new DragEvent("dragover", { dataTransfer: transfer, bubbles: true }));
  target.dispatchEvent(new DragEvent("drop", { dataTransfer: transfer, bubbles: true }));
}"""


# Transactional, as the live server's thread needs the rows committed; serialized_rollback
# brings back the roles made by migration that an earlier transactional test flushed.
@pytest.mark.live
@pytest.mark.browser
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_tagged_video_plays_in_chromium(tagged):
    with chromium_page() as page:
        width, height, played = page.evaluate(PLAY, base64.b64encode(tagged.read_bytes()).decode())

    assert (width, height) == (736, 544)
    assert played > 0.2


@pytest.mark.live
@pytest.mark.browser
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_dropping_a_video_on_the_studio_form_fills_it(tagged, live_server):
    painting = LoraPreset.objects.get(name="Painting")  # not from inside Playwright's loop
    with chromium_page() as page:
        log_in(page, live_server.url)
        page.add_script_tag(url="/static/js/settings-drop.js")  # the lead's template adds it
        page.evaluate(DROP, [base64.b64encode(tagged.read_bytes()).decode(), "take.mp4"])
        wait_for_js(page, "document.getElementById('id_steps').value === '24'", timeout=15)

        assert page.input_value("#id_prompt") == "Un phare “au crépuscule”, 灯台"
        assert page.input_value("#id_negative_prompt") == "blur"
        assert page.input_value("#id_seed") == "424242"
        assert page.input_value("#id_guidance_scale") == "6.5"
        assert page.input_value("#id_orientation") == "portrait"
        assert page.input_value("#id_fast_mode") == "true"
        assert page.input_value("#id_enable_safety_checker") == "false"
        assert page.input_value("#lora_1_preset") == str(painting.pk)
        assert page.input_value("#lora_2_path") == "https://civitai.com/api/download/models/1"
        assert page.input_value("#lora_2_scale") == "1.5"
        assert "from take.mp4 are in the form" in page.inner_text("#settings-drop-note")
