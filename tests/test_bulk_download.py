"""The gallery's selection as one ZIP: each video the person may see, named <id>-<prompt>.mp4,
carrying its parameters, and a manifest.json of every parameter, sha256 and review state,
streamed while it is written, so the web process's memory stays flat however many it holds."""

import hashlib
import io
import json
import tracemalloc
import zipfile

import pytest
from django.core.files import File
from django.core.files.storage import default_storage
from django.test import Client
from django.utils import timezone
from PIL import Image

from generations import media
from generations.models import Generation, GenerationLora, ReviewState, Status
from studio import downloads
from wansim.render import render_video

from .support import stored
from .support.pictures import picture_bytes

URL = "/gallery/download.zip"
MEMORY_BOUND_MB = 20  # what the 200-video ZIP (about 53 MB) may add to the process's peak


@pytest.fixture(scope="module")
def rendered(tmp_path_factory):
    """A real MP4 of about 260 KB as the API returns it (rendered by the simulator)."""
    checkers = Image.open(io.BytesIO(picture_bytes(640, 480))).convert("RGB")
    grain = Image.effect_noise((640, 480), 40).convert("RGB")
    path = tmp_path_factory.mktemp("rendered") / "plain.mp4"
    render_video(Image.blend(checkers, grain, 0.25), "480p", path)
    return path


@pytest.fixture
def make_video(make_generation, rendered, media_root):
    """make_video(owner=maya, tagged=True, **fields): a succeeded generation whose stored
    video is a real MP4 carrying its parameters (or not, as before they were written)."""
    folder = media_root / "videos"
    folder.mkdir(parents=True, exist_ok=True)

    def make(owner=None, *, tagged=True, **fields):
        generation = make_generation(owner, status=Status.SUCCEEDED, reported_seed=7, **fields)
        name = f"videos/{generation.pk}.mp4"
        if tagged:
            media.write_tagged(rendered, media_root / name, media.video_parameters(generation))
        else:
            with open(rendered, "rb") as handle:
                default_storage.save(name, File(handle))
        path = media_root / name
        Generation.objects.filter(pk=generation.pk).update(
            video=name,
            video_bytes=path.stat().st_size,
            video_sha256=media.file_sha256(path),
            video_duration=5.06,
        )
        generation.refresh_from_db()
        return generation

    return make


def download(browser, ids, method="get"):
    return getattr(browser, method)(URL, {"ids": [str(pk) for pk in ids]})


def archive(response):
    assert response.status_code == 200, response.content
    return zipfile.ZipFile(io.BytesIO(b"".join(response.streaming_content)))


def manifest(zipped):
    return json.loads(zipped.read("manifest.json"))


# --- 200 videos ------------------------------------------------------------------------------


@pytest.fixture
def two_hundred(make_video):
    return [make_video(prompt=f"harbour at dusk, take {number}") for number in range(200)]


def test_a_zip_of_200_videos_matches_its_manifest(two_hundred, member_client):
    zipped = archive(download(member_client, [g.pk for g in two_hundred], "post"))

    listed = manifest(zipped)
    assert [entry["id"] for entry in listed["videos"]] == [g.pk for g in two_hundred]
    assert listed["skipped"] == []
    for entry, generation in zip(listed["videos"], two_hundred, strict=True):
        content = zipped.read(entry["file"])
        assert hashlib.sha256(content).hexdigest() == entry["sha256"] == generation.video_sha256
        assert len(content) == entry["bytes"]
    assert len(zipped.namelist()) == 201
    assert zipped.testzip() is None  # every member's CRC


def memory_kb(key):
    with open("/proc/self/status") as status:
        line = next(line for line in status if line.startswith(key + ":"))
    return int(line.split()[1])


def test_streaming_200_videos_keeps_memory_flat(two_hundred, member_client, tmp_path):
    ids = [g.pk for g in two_hundred]
    with open(tmp_path / "warm-up.zip", "wb") as out:  # the first use of zipfile, PyAV...
        out.writelines(download(member_client, ids[:2]).streaming_content)

    with open("/proc/self/clear_refs", "w") as clear_refs:
        clear_refs.write("5")  # the peak starts again from the present size
    before = memory_kb("VmRSS")
    tracemalloc.start()
    with open(tmp_path / "200.zip", "wb") as out:
        for chunk in download(member_client, ids, "post").streaming_content:
            out.write(chunk)
    python_peak = tracemalloc.get_traced_memory()[1] / 2**20
    tracemalloc.stop()
    increase = (memory_kb("VmHWM") - before) / 1024

    size = (tmp_path / "200.zip").stat().st_size / 2**20
    print(f"\nZIP of 200 videos, {size:.0f} MB: peak RSS +{increase:.1f} MB, "
          f"Python allocations peak {python_peak:.1f} MB")  # fmt: skip
    assert size > 2 * MEMORY_BOUND_MB
    assert increase < MEMORY_BOUND_MB
    assert python_peak < 5


# --- what goes in ----------------------------------------------------------------------------


def test_members_are_named_by_id_and_prompt(make_video, member_client):
    first = make_video(prompt="Harbour at dusk: boats, gulls & rain!")
    second = make_video(prompt="灯台")  # nothing left for a slug

    zipped = archive(download(member_client, [first.pk, second.pk]))

    assert zipped.namelist() == [
        f"{first.pk}-harbour-at-dusk-boats-gulls-rain.mp4",
        f"{second.pk}.mp4",
        "manifest.json",
    ]


def test_the_manifest_carries_every_parameter(make_video, member_client, user):
    generation = make_video(
        prompt="harbour", negative_prompt="blur", width=480, height=832, seed=-1, steps=24,
        guidance_scale=6.5, flow_shift=3.0, fast_mode=True, enable_safety_checker=False,
        review_state=ReviewState.APPROVED,
    )  # fmt: skip
    GenerationLora.objects.create(
        generation=generation, position=1, path="Remade-AI/Painting", scale=0.8
    )

    entry = manifest(archive(download(member_client, [generation.pk])))["videos"][0]

    assert entry == {
        "id": generation.pk,
        "file": f"{generation.pk}-harbour.mp4",
        "bytes": entry["bytes"],
        "sha256": entry["sha256"],
        "carries_parameters": True,
        "prompt": "harbour",
        "negative_prompt": "blur",
        "width": 480,
        "height": 832,
        "seed": -1,
        "reported_seed": 7,
        "steps": 24,
        "guidance_scale": 6.5,
        "flow_shift": 3.0,
        "loras": [{"path": "Remade-AI/Painting", "scale": 0.8}],
        "fast_mode": True,
        "enable_safety_checker": False,
        "duration_seconds": 5.06,
        "review_state": "approved",
        "owner": "maya",
        "created_at": generation.created_at.isoformat(),
        "finished_at": None,
    }


def test_every_member_carries_its_parameters(make_video, member_client):
    generation = make_video(prompt="harbour")

    zipped = archive(download(member_client, [generation.pk]))

    member = io.BytesIO(zipped.read(f"{generation.pk}-harbour.mp4"))
    assert media.read_parameters(member) == media.video_parameters(generation)


def test_a_video_stored_before_videos_carried_parameters_is_tagged_on_the_way(
    make_video, member_client
):
    generation = make_video(prompt="harbour", tagged=False)

    zipped = archive(download(member_client, [generation.pk]))

    content = zipped.read(f"{generation.pk}-harbour.mp4")
    entry = manifest(zipped)["videos"][0]
    assert media.read_parameters(io.BytesIO(content))["prompt"] == "harbour"
    assert entry["carries_parameters"] is True
    assert entry["sha256"] == hashlib.sha256(content).hexdigest() != generation.video_sha256
    assert media.file_sha256(default_storage.path(generation.video.name)) == (
        generation.video_sha256
    )  # the stored file is left as it is: tag_videos swaps it, in one transaction


def test_a_stored_file_that_is_not_an_mp4_goes_in_as_it_is(finished, member_client):
    zipped = archive(download(member_client, [finished.pk]))

    assert zipped.read(f"{finished.pk}-p.mp4") == stored.VIDEO
    assert manifest(zipped)["videos"][0]["carries_parameters"] is False


# --- what is left out, and why -----------------------------------------------------------------


def test_what_may_not_be_seen_or_is_not_finished_is_skipped_with_why(
    make_video, make_generation, member_client, other_user
):
    shown = make_video()
    hidden = make_video(other_user, review_state=ReviewState.FLAGGED)
    queued = make_generation()
    failed = make_generation(status=Status.FAILED)
    gone = make_video()
    default_storage.delete(gone.video.name)

    zipped = archive(
        download(member_client, [shown.pk, hidden.pk, queued.pk, failed.pk, gone.pk, 999])
    )

    listed = manifest(zipped)
    assert [entry["id"] for entry in listed["videos"]] == [shown.pk]
    assert listed["skipped"] == [
        {"id": hidden.pk, "why": "no such generation, or not one you may see"},
        {"id": queued.pk, "why": "not finished: queued"},
        {"id": failed.pk, "why": "not finished: failed"},
        {"id": 999, "why": "no such generation, or not one you may see"},
        {"id": gone.pk, "why": "its stored video is missing"},
    ]
    assert len(zipped.namelist()) == 2


def test_a_reviewer_gets_flagged_work_of_others(make_video, reviewer_client, other_user):
    flagged = make_video(other_user, review_state=ReviewState.FLAGGED)

    listed = manifest(archive(download(reviewer_client, [flagged.pk])))

    assert [entry["id"] for entry in listed["videos"]] == [flagged.pk]
    assert listed["videos"][0]["review_state"] == "flagged"


def test_a_finished_generation_without_a_video_is_skipped(make_generation, member_client):
    empty = make_generation(status=Status.SUCCEEDED)

    listed = manifest(archive(download(member_client, [empty.pk])))

    assert listed["skipped"] == [{"id": empty.pk, "why": "finished without a stored video"}]


# --- the request -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "query, message",
    [
        ("", "Choose at least one video to download."),
        ("?ids=", "Choose at least one video to download."),
        ("?ids=12&ids=abc", "“abc” is not a generation id"),
        ("?ids=-3", "“-3” is not a generation id"),
        ("?ids=%C2%B2", "“²” is not a generation id"),
        ("?ids=99999999999999999999999", "is not a generation id"),
        ("?ids=" + ",".join(str(n) for n in range(1, 502)), "at most 500 videos; 501 were chosen"),
    ],
)
def test_bad_ids_are_refused_with_a_clear_message(member_client, query, message):
    response = member_client.get(URL + query)

    assert response.status_code == 400
    assert message in response.content.decode()


def test_ids_may_be_repeated_or_listed_with_commas(make_video, member_client):
    first, second = make_video(), make_video()

    response = member_client.get(f"{URL}?ids={first.pk},{second.pk}&ids={first.pk}")

    assert [entry["id"] for entry in manifest(archive(response))["videos"]] == [first.pk, second.pk]


def test_the_zip_is_an_attachment_never_cached(make_video, member_client):
    response = download(member_client, [make_video().pk])

    assert response["Content-Type"] == "application/zip"
    assert response["Content-Disposition"].startswith('attachment; filename="wanstudio-')
    assert response["Content-Disposition"].endswith('-1-video.zip"')
    assert response["Cache-Control"] == "private, no-store"


def test_a_post_needs_the_csrf_token(make_video, client_for, user):
    browser = client_for(user, enforce_csrf_checks=True)

    assert download(browser, [make_video().pk], "post").status_code == 403


def test_a_download_needs_a_login(make_video):
    response = download(Client(), [make_video().pk])

    assert response.status_code == 302
    assert response["Location"].startswith("/login/")


def test_an_empty_selection_of_visible_videos_still_explains_itself(make_generation, member_client):
    queued = make_generation()

    zipped = archive(download(member_client, [queued.pk]))

    assert zipped.namelist() == ["manifest.json"]
    assert manifest(zipped)["skipped"] == [{"id": queued.pk, "why": "not finished: queued"}]


def test_a_member_date_is_when_the_video_was_made(make_video, member_client):
    generation = make_video()
    Generation.objects.filter(pk=generation.pk).update(finished_at=timezone.now())
    generation.refresh_from_db()

    info = archive(download(member_client, [generation.pk])).infolist()[0]

    made = timezone.localtime(generation.finished_at)
    assert info.date_time[:5] == made.timetuple()[:5]
    assert info.compress_type == zipfile.ZIP_STORED
    assert info.external_attr >> 16 == 0o100644


def test_the_zip_name_counts_the_videos(make_video):
    selection = downloads.Selection(videos=[make_video(), make_video()])

    assert downloads.archive_name(selection).endswith("-2-videos.zip")
