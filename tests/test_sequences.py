"""Sequences: the edit's checks, the export's frames (joins, crossfades, fitting), the API."""

import json
import os
import re
import threading
import time

import pytest

from generations import sequences
from generations.models import (
    ExportStatus,
    Generation,
    LedgerEntry,
    ReviewState,
    Sequence,
    Status,
)

from .support.clips import decoded_frames, frame_at, stored_clip


@pytest.fixture
def make_clip(make_generation, tmp_path):
    def make(**options):
        return stored_clip(make_generation, tmp_path, **options)

    return make


@pytest.fixture
def parent(make_clip):
    """A 17-frame clip (1.0625 s at 16 fps)."""
    return make_clip()


@pytest.fixture
def child(make_clip, parent):
    """parent's extension from its last frame: 17 frames more."""
    return make_clip(hue=60, parent=parent, parent_frame_index=16, parent_frame_time=1.0)


def make_sequence(user, clips, **settings):
    form = sequences.SequenceForm({"clips": clips, **settings}, user=user)
    assert form.is_valid(), form.errors
    return form.save(owner=user)


def exported(sequence, media_root):
    assert sequence.request_export()
    sequences.export(sequence.pk)
    sequence.refresh_from_db()
    assert sequence.status == ExportStatus.SUCCEEDED, sequence.failure_reason
    return decoded_frames(media_root / sequence.video.name)


# --- the export ------------------------------------------------------------------------------


def test_a_child_after_its_parent_drops_the_repeated_frame(user, parent, child, media_root):
    sequence = make_sequence(user, [{"generation": parent.pk}, {"generation": child.pk}])

    count, codec, pix_fmt, width, height, duration = exported(sequence, media_root)

    assert count == 17 + 17 - 1
    assert duration == pytest.approx(33 / 16, abs=0.01)
    assert (codec, pix_fmt) == ("h264", "yuv420p")
    assert (width, height) == (832, 480)
    assert sequence.video_frames == 33
    assert sequence.progress_percent == 100


def test_two_unrelated_clips_joined_by_a_cut_keep_every_frame(user, parent, make_clip, media_root):
    other = make_clip(hue=200)
    sequence = make_sequence(user, [{"generation": parent.pk}, {"generation": other.pk}])

    assert exported(sequence, media_root)[0] == 34


@pytest.mark.parametrize("fade, shared", [(0.25, 4), (0.5, 8)])
def test_a_crossfade_shortens_the_total_by_its_length(
    user, parent, make_clip, media_root, fade, shared
):
    other = make_clip(hue=200)
    clips = [{"generation": parent.pk}, {"generation": other.pk}]
    sequence = make_sequence(user, clips, transition="crossfade", crossfade_seconds=fade)

    count, *_, duration = exported(sequence, media_root)

    assert count == 34 - shared
    assert duration == pytest.approx((34 - shared) / 16, abs=0.01)


def test_a_crossfade_blends_the_two_clips(user, parent, make_clip, media_root):
    other = make_clip(hue=200)
    clips = [{"generation": parent.pk}, {"generation": other.pk}]
    sequence = make_sequence(
        user, clips, transition="crossfade", crossfade_seconds=0.0625, fit="crop"
    )
    exported(sequence, media_root)

    # 17 frames of the first clip, the 17th blended half and half with the other's first.
    middle = frame_at(media_root / sequence.video.name, 16).resize((1, 1)).getpixel((0, 0))
    first = frame_at(media_root / parent.video.name, 16).resize((1, 1)).getpixel((0, 0))
    second = frame_at(media_root / other.video.name, 0).resize((1, 1)).getpixel((0, 0))
    assert middle[0] == pytest.approx((first[0] + second[0]) / 2, abs=6)


def test_trims_choose_the_frames(user, parent, child, media_root):
    clips = [{"generation": parent.pk, "in": 0.25, "out": 0.75}, {"generation": child.pk}]
    sequence = make_sequence(user, clips)

    # 8 frames of the parent (4..11); the child's first frame is no repeat once trimmed.
    assert exported(sequence, media_root)[0] == 8 + 17


def test_a_seamless_join_stays_a_cut_when_the_sequence_crossfades(user, parent, child, media_root):
    clips = [{"generation": parent.pk}, {"generation": child.pk}]
    sequence = make_sequence(user, clips, transition="crossfade", crossfade_seconds=0.5)

    assert exported(sequence, media_root)[0] == 33


def test_a_portrait_sequence_fits_a_landscape_clip(user, parent, media_root):
    sequence = make_sequence(user, [{"generation": parent.pk}], orientation="portrait")

    *_, width, height, _ = exported(sequence, media_root)

    assert (width, height) == (480, 832)
    corner = frame_at(media_root / sequence.video.name, 0).getpixel((5, 5))
    assert max(corner) < 20  # letterboxed: black above the picture


def test_cropped_to_720p(user, parent, media_root):
    sequence = make_sequence(user, [{"generation": parent.pk}], clarity="720p", fit="crop")

    *_, width, height, _ = exported(sequence, media_root)

    assert (width, height) == (1280, 720)
    assert max(frame_at(media_root / sequence.video.name, 0).getpixel((5, 5))) > 60


def test_double_frame_rate(user, parent, media_root):
    sequence = make_sequence(user, [{"generation": parent.pk}], double_frame_rate=True)

    count, *_, duration = exported(sequence, media_root)

    assert count == 34
    assert duration == pytest.approx(17 / 16, abs=0.01)


def test_the_export_is_stored_with_its_sha256_and_poster(user, parent, media_root):
    import hashlib

    sequence = make_sequence(user, [{"generation": parent.pk}])
    exported(sequence, media_root)

    content = (media_root / sequence.video.name).read_bytes()
    assert sequence.video_sha256 == hashlib.sha256(content).hexdigest()
    assert sequence.video_bytes == len(content)
    assert (media_root / sequence.poster.name).read_bytes()[:3] == b"\xff\xd8\xff"
    assert content[4:8] == b"ftyp" and content.index(b"moov") < content.index(b"mdat")


def test_a_clip_whose_file_is_gone_fails_the_export(user, parent, media_root):
    sequence = make_sequence(user, [{"generation": parent.pk}])
    (media_root / parent.video.name).unlink()

    assert sequence.request_export()
    sequences.export(sequence.pk)
    sequence.refresh_from_db()

    assert sequence.status == ExportStatus.FAILED
    assert sequence.failure_reason


def test_an_export_waiting_is_not_queued_twice(user, parent, django_capture_on_commit_callbacks):
    sequence = make_sequence(user, [{"generation": parent.pk}])

    with django_capture_on_commit_callbacks() as callbacks:
        assert sequences.start_export(sequence)
        assert not sequences.start_export(sequence)

    assert len(callbacks) == 1


# --- the edit's checks -------------------------------------------------------------------------


def errors_for(user, clips, **settings):
    form = sequences.SequenceForm({"clips": clips, **settings}, user=user)
    assert not form.is_valid()
    return form.errors


def test_an_empty_sequence_is_refused(user):
    assert "at least one clip" in errors_for(user, [])["clips"][0]


def test_in_after_out_is_refused(user, parent):
    errors = errors_for(user, [{"generation": parent.pk, "in": 0.8, "out": 0.4}])

    assert "before the out point" in errors["clips"][0]


def test_an_out_point_past_the_end_is_refused(user, parent):
    errors = errors_for(user, [{"generation": parent.pk, "out": 3}])

    assert "past the clip's end" in errors["clips"][0]


def test_a_failed_generation_is_not_a_clip(user, make_generation):
    failed = make_generation(status=Status.FAILED)

    assert "only finished clips" in errors_for(user, [{"generation": failed.pk}])["clips"][0]


def test_a_clip_the_person_may_not_see_is_refused(other_user, parent):
    Generation.objects.filter(pk=parent.pk).update(review_state=ReviewState.FLAGGED)

    assert "you may see" in errors_for(other_user, [{"generation": parent.pk}])["clips"][0]


def test_a_crossfade_longer_than_a_clip_is_refused(user, parent, make_clip):
    other = make_clip(hue=200)
    clips = [{"generation": parent.pk, "out": 0.5}, {"generation": other.pk}]

    errors = errors_for(user, clips, transition="crossfade", crossfade_seconds=1.0)

    assert "crossfade_seconds" in errors


# --- the API -------------------------------------------------------------------------------------


def post_sequence(api_client, body):
    return api_client.post("/api/sequences/", body, content_type="application/json")


def test_create_read_and_export_by_the_api(
    api_client, parent, child, media_root, django_capture_on_commit_callbacks
):
    clips = [{"generation": parent.pk, "in": 0, "out": 1.0625}, {"generation": child.pk}]
    created = post_sequence(api_client, {"clips": clips, "clarity": "480p"})
    assert created.status_code == 201
    body = created.json()
    assert body["status"] == "draft"
    assert [clip["generation"] for clip in body["clips"]] == [parent.pk, child.pk]

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        queued = api_client.post(f"/api/sequences/{body['id']}/export/")
    assert queued.status_code == 202
    assert queued.json()["status"] == "queued"
    assert len(callbacks) == 1
    sequences.export(body["id"])  # what the job runs

    done = api_client.get(f"/api/sequences/{body['id']}/").json()
    assert done["status"] == "succeeded"
    assert done["progress_percent"] == 100
    assert done["duration"] == pytest.approx(33 / 16, abs=0.01)
    assert done["video_url"].endswith(f"/sequences/{body['id']}/video.mp4")
    assert done["poster_url"]


@pytest.mark.parametrize(
    "body, field",
    [
        ({"clips": []}, "clips"),
        ({}, "clips"),
        ({"clips": [{"generation": 999999}]}, "clips"),
        ({"clips": "nope"}, "clips"),
        ({"clips": [{"generation": "PARENT", "in": 1, "out": 0.5}]}, "clips"),
        ({"clips": [{"generation": "PARENT"}], "clarity": "4k"}, "clarity"),
        ({"clips": [{"generation": "PARENT"}], "transition": "wipe"}, "transition"),
        ({"clips": [{"generation": "PARENT"}], "ending": "backwards"}, "ending"),
    ],
)
def test_bad_input_is_a_400_naming_the_field(api_client, parent, body, field):
    for clip in body.get("clips") or []:
        if isinstance(clip, dict) and clip.get("generation") == "PARENT":
            clip["generation"] = parent.pk

    response = post_sequence(api_client, body)

    assert response.status_code == 400
    assert field in response.json()["errors"]
    assert not Sequence.objects.exists()


def test_a_sequence_with_a_clip_hidden_from_a_person_is_hidden_too(
    api_client, api_client_for, other_user, parent, user
):
    sequence = make_sequence(user, [{"generation": parent.pk}])
    Generation.objects.filter(pk=parent.pk).update(review_state=ReviewState.FLAGGED)

    assert api_client.get(f"/api/sequences/{sequence.pk}/").status_code == 200
    assert api_client_for(other_user).get(f"/api/sequences/{sequence.pk}/").status_code == 404


def test_only_its_owner_exports_a_sequence(api_client_for, other_user, parent, user):
    sequence = make_sequence(user, [{"generation": parent.pk}])

    response = api_client_for(other_user).post(f"/api/sequences/{sequence.pk}/export/")

    assert response.status_code == 403


# --- the export in the gallery -------------------------------------------------------------------


def test_an_export_is_a_finished_video_in_the_gallery(member_client, user, parent, media_root):
    sequence = make_sequence(user, [{"generation": parent.pk}], title="Harbour cut")
    exported(sequence, media_root)

    item = Generation.objects.get(from_sequence=sequence)
    assert (item.status, item.owner, item.prompt) == (Status.SUCCEEDED, user, "Harbour cut")
    assert item.video_sha256 == sequence.video_sha256
    assert (media_root / item.video.name).read_bytes() == (
        media_root / sequence.video.name
    ).read_bytes()
    assert not LedgerEntry.objects.exists()  # local work: nothing charged

    sequences_only = member_client.get("/gallery/?kind=sequences")
    clips_only = member_client.get("/gallery/?kind=clips")
    assert gallery_ids(sequences_only) == [item.pk]
    assert b">Sequence</span>" in sequences_only.content
    assert gallery_ids(clips_only) == [parent.pk]
    detail = member_client.get(item.get_absolute_url())
    assert b"Open the edit" in detail.content and b"Reuse settings" not in detail.content


def test_an_export_can_be_favourited_reviewed_and_compared(
    member_client, reviewer_client, user, parent, media_root
):
    sequence = make_sequence(user, [{"generation": parent.pk}])
    exported(sequence, media_root)
    item = sequence.exports.get()

    member_client.post(f"/generations/{item.pk}/favourite/")
    reviewer_client.post(f"/review/{item.pk}/decide/", {"state": "approved", "note": "ship"})
    compared = member_client.get(f"/compare/?ids={item.pk}&ids={parent.pk}")

    assert gallery_ids(member_client.get("/gallery/?favourites=on")) == [item.pk]
    item.refresh_from_db()
    assert item.review_state == ReviewState.APPROVED
    assert compared.status_code == 200
    assert member_client.get(f"/generations/{item.pk}/video.mp4").status_code == 200


def test_exporting_again_keeps_the_first_export_in_the_gallery(user, parent, make_clip, media_root):
    sequence = make_sequence(user, [{"generation": parent.pk}])
    exported(sequence, media_root)
    first = sequence.exports.get()
    make_sequence(user, [{"generation": parent.pk}, {"generation": make_clip(hue=90).pk}])
    exported(sequence, media_root)

    assert sequence.exports.count() == 2
    assert (media_root / first.video.name).exists()
    sequence.delete()
    first.refresh_from_db()
    assert first.video and first.from_sequence is None


def test_the_api_links_a_sequence_and_its_exports(api_client, user, parent, media_root):
    sequence = make_sequence(user, [{"generation": parent.pk}])
    exported(sequence, media_root)
    item = sequence.exports.get()

    assert api_client.get(f"/api/sequences/{sequence.pk}/").json()["exports"] == [item.pk]
    assert api_client.get(f"/api/generations/{item.pk}/").json()["sequence"] == sequence.pk


def gallery_ids(response):
    assert response.status_code == 200
    return [int(pk) for pk in re.findall(rb'data-id="(\d+)"', response.content)]


# --- boomerang ----------------------------------------------------------------------------------


def test_a_boomerang_plays_forward_then_back_without_repeating_the_ends(
    user, parent, make_clip, media_root
):
    other = make_clip(hue=200, frames=40)  # longer than one group of the way back
    clips = [{"generation": parent.pk}, {"generation": other.pk}]
    sequence = make_sequence(user, clips, ending="boomerang", fit="crop")

    count, *_, duration = exported(sequence, media_root)

    forward = 17 + 40
    assert count == 2 * forward - 2
    assert duration == pytest.approx(count / 16, abs=0.01)
    path = media_root / sequence.video.name
    for back in (1, 20, forward - 2):  # frame forward-1+back mirrors frame forward-1-back
        mirrored = frame_at(path, forward - 1 + back).resize((1, 1)).getpixel((0, 0))
        original = frame_at(path, forward - 1 - back).resize((1, 1)).getpixel((0, 0))
        assert mirrored == pytest.approx(original, abs=6)


# --- memory -------------------------------------------------------------------------------------


def rss_bytes():
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def peak_rss_during(work):
    """The most memory the process held while work ran, sampled every 5 ms."""
    peak, done = [rss_bytes()], threading.Event()

    def sample():
        while not done.wait(0.005):
            peak[0] = max(peak[0], rss_bytes())

    sampler = threading.Thread(target=sample)
    sampler.start()
    try:
        work()
    finally:
        done.set()
        sampler.join()
    return peak[0]


def test_twenty_clips_export_in_flat_memory(user, make_clip, make_generation, media_root):
    clip = make_clip(frames=33, size=(832, 480))
    copies = [clip] + [
        make_generation(status=Status.SUCCEEDED, video=clip.video.name, video_duration=2.0625)
        for _ in range(19)
    ]
    crossfade = {"transition": "crossfade", "crossfade_seconds": 0.25}
    two = make_sequence(user, [{"generation": row.pk} for row in copies[:2]], **crossfade)
    twenty = make_sequence(user, [{"generation": row.pk} for row in copies], **crossfade)
    exported(two, media_root)  # PyAV and x264 loaded and warm before measuring
    before = rss_bytes()

    peak_two = peak_rss_during(lambda: exported(two, media_root))
    started = time.monotonic()
    peak_twenty = peak_rss_during(lambda: exported(twenty, media_root))
    seconds = time.monotonic() - started

    print(
        f"20 clips × 33 frames at 832×480: {seconds:.1f} s, peak RSS {peak_twenty / 1e6:.0f} MB "
        f"(2 clips: {peak_two / 1e6:.0f} MB, before: {before / 1e6:.0f} MB)"
    )
    assert twenty.video_frames == 20 * 33 - 19 * 4
    assert peak_twenty - peak_two < 30_000_000  # ten times the clips, not ten times the memory


# --- the pages -----------------------------------------------------------------------------------


def test_the_frame_picker_defaults_to_the_last_frame(member_client, parent):
    page = member_client.get(f"/generations/{parent.pk}/extend/")

    assert page.status_code == 200
    assert b'max="16"' in page.content and b'value="16"' in page.content


def test_picking_a_frame_opens_the_studio_form_with_it(member_client, parent):
    response = member_client.post(f"/generations/{parent.pk}/extend/", {"frame": "8"})

    assert response.status_code == 302
    assert response.url.startswith(f"/?reuse={parent.pk}&source_image=")
    assert "parent_frame_index=8&parent_frame_time=0.5" in response.url


def test_picking_a_frame_past_the_end_says_so(member_client, parent):
    response = member_client.post(f"/generations/{parent.pk}/extend/", {"frame": "40"})

    assert response.status_code == 400
    assert b"no frame 40" in response.content


def test_a_new_sequence_from_a_gallery_selection(member_client, parent, make_clip):
    other = make_clip(hue=200)

    response = member_client.post("/sequences/new/", {"generation": [parent.pk, other.pk]})

    sequence = Sequence.objects.get()
    assert response.url == sequence.get_absolute_url()
    assert [clip.generation_id for clip in sequence.clips.all()] == [parent.pk, other.pk]


def test_a_new_sequence_from_a_shot_takes_the_chain(member_client, parent, child):
    member_client.post("/sequences/new/", {"shot": child.pk})

    assert [c.generation_id for c in Sequence.objects.get().clips.all()] == [parent.pk, child.pk]


def test_the_editor_saves_the_order_and_trims(member_client, user, parent, child):
    sequence = make_sequence(user, [{"generation": parent.pk}, {"generation": child.pk}])
    clips = [{"generation": child.pk, "in": 0.25}, {"generation": parent.pk, "out": 0.5}]

    response = member_client.post(
        sequence.get_absolute_url(),
        {"clips": json.dumps(clips), "clarity": "720p", "double_frame_rate": ["false", "true"]},
    )

    assert response.status_code == 302
    sequence.refresh_from_db()
    assert [(c.generation_id, c.in_point, c.out_point) for c in sequence.clips.all()] == [
        (child.pk, 0.25, None), (parent.pk, 0.0, 0.5),
    ]  # fmt: skip
    assert (sequence.clarity, sequence.double_frame_rate) == ("720p", True)


def test_the_editor_shows_what_export_costs(member_client, user, parent):
    sequence = make_sequence(user, [{"generation": parent.pk}])

    page = member_client.get(sequence.get_absolute_url())

    assert page.status_code == 200
    assert b"costs no API money" in page.content
    assert b'id="clip-list"' in page.content


def test_export_from_the_page_polls_until_done(
    member_client, user, parent, media_root, django_capture_on_commit_callbacks
):
    sequence = make_sequence(user, [{"generation": parent.pk}])
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        panel = member_client.post(f"/sequences/{sequence.pk}/export/", HTTP_HX_REQUEST="true")
    assert len(callbacks) == 1
    assert b"every 1s" in panel.content

    sequences.export(sequence.pk)
    done = member_client.get(f"/sequences/{sequence.pk}/progress/", HTTP_HX_REQUEST="true")

    assert done.status_code == 286  # htmx stops polling
    assert b"Download MP4" in done.content
    video = member_client.get(f"/sequences/{sequence.pk}/video.mp4")
    assert video.status_code == 200 and video["Content-Type"] == "video/mp4"
    assert member_client.get(f"/sequences/{sequence.pk}/poster.jpg").status_code == 200


def test_someone_elses_sequence_is_read_only(client_for, other_user, user, parent):
    sequence = make_sequence(user, [{"generation": parent.pk}])
    browser = client_for(other_user)

    assert browser.get(sequence.get_absolute_url()).status_code == 200
    response = browser.post(sequence.get_absolute_url(), {"clips": "[]"})
    assert response.status_code == 403
    assert browser.post(f"/sequences/{sequence.pk}/export/").status_code == 403


def test_the_list_and_adding_clips(member_client, user, parent, make_clip):
    sequence = make_sequence(user, [{"generation": parent.pk}])
    other = make_clip(hue=200)

    member_client.post(f"/sequences/{sequence.pk}/add/", {"generation": [other.pk]})
    page = member_client.get("/sequences/")

    assert [c.generation_id for c in sequence.clips.all()] == [parent.pk, other.pk]
    assert page.status_code == 200 and b"sequence" in page.content
