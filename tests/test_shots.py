"""Extending a clip: the frame taken, the picture kept, the chain, and the API's extend."""

import pytest
from PIL import ImageChops, ImageStat

from generations import shots
from generations.models import Generation, ReviewState, SourceImage, Status

from .support.clips import frame_at, stored_clip


@pytest.fixture
def make_clip(make_generation, tmp_path):
    def make(**options):
        return stored_clip(make_generation, tmp_path, **options)

    return make


@pytest.fixture
def clip(make_clip):
    """maya's finished clip: 17 frames at 16 fps, 320×256."""
    return make_clip()


def mean_difference(first, second):
    return sum(ImageStat.Stat(ImageChops.difference(first, second)).mean) / 3


def test_the_last_frame_is_the_default(clip):
    picked = shots.take_frame(clip)

    assert picked.index == 16
    assert picked.time == pytest.approx(1.0)


def test_the_frame_at_a_time_is_the_decoded_frame_of_the_parent(clip, media_root):
    picked = shots.take_frame(clip, seconds=0.5)

    assert picked.index == 8
    assert picked.image.size == (320, 256)  # the video's full size
    expected = frame_at(media_root / clip.video.name, 8)
    assert picked.image.tobytes() == expected.tobytes()


def test_a_time_between_two_frames_names_the_one_on_screen(clip):
    assert shots.take_frame(clip, seconds=0.5 + 1 / 32).index == 8


def test_a_frame_by_its_number(clip, media_root):
    picked = shots.take_frame(clip, index=3)

    assert picked.time == pytest.approx(3 / 16)
    assert picked.image.tobytes() == frame_at(media_root / clip.video.name, 3).tobytes()


@pytest.mark.parametrize("where", [{"seconds": 1.2}, {"index": 17}, {"seconds": -1}])
def test_a_frame_past_the_end_is_refused(clip, where):
    with pytest.raises(shots.FrameError):
        shots.take_frame(clip, **where)


def test_the_frame_is_kept_as_a_source_picture_like_an_upload(clip, user, media_root):
    picked = shots.take_frame(clip, seconds=0.5)

    picture = shots.store_frame(clip, picked, user)

    assert (picture.width, picture.height) == (320, 256)
    assert picture.image.name.endswith(".jpg")
    with picture.image.open("rb") as handle:
        from PIL import Image

        stored = Image.open(handle).convert("RGB")
    assert mean_difference(stored, picked.image) < 3  # re-encoded as JPEG, the same pixels


def test_the_same_frame_twice_is_one_picture(clip, user):
    picked = shots.take_frame(clip)

    first = shots.store_frame(clip, picked, user)
    second = shots.store_frame(clip, shots.take_frame(clip), user)

    assert first.pk == second.pk


def test_a_shot_lists_the_chain_and_its_branches(clip, make_clip):
    child = make_clip(hue=40, parent=clip, parent_frame_index=16)
    grandchild = make_clip(hue=80, parent=child, parent_frame_index=16)
    branch = make_clip(hue=120, parent=clip, parent_frame_index=8)

    shot = shots.shot_of(grandchild, clip.owner)

    assert [(row.pk, depth) for row, depth in shot] == [
        (clip.pk, 0), (child.pk, 1), (grandchild.pk, 2), (branch.pk, 1),
    ]  # fmt: skip
    assert shots.chain_through(clip, clip.owner) == [clip, child, grandchild]


def test_a_shot_leaves_out_what_the_person_may_not_see(clip, make_clip, other_user):
    child = make_clip(hue=40, parent=clip, parent_frame_index=16)
    Generation.objects.filter(pk=child.pk).update(review_state=ReviewState.FLAGGED)

    assert [row.pk for row, _ in shots.shot_of(clip, other_user)] == [clip.pk]


# --- POST /api/generations/<id>/extend/ ------------------------------------------------------


def extend(api_client, generation, **body):
    return api_client.post(
        f"/api/generations/{generation.pk}/extend/", body, content_type="application/json"
    )


def test_extend_makes_a_queued_generation_with_the_parents_settings(
    api_client, clip, django_capture_on_commit_callbacks
):
    Generation.objects.filter(pk=clip.pk).update(steps=20, reported_seed=77)

    with django_capture_on_commit_callbacks() as callbacks:
        response = extend(api_client, clip, frame="last")

    assert response.status_code == 201
    body = response.json()
    assert body["status"] == "queued"
    assert body["parent"] == clip.pk
    assert body["parent_frame_time"] == pytest.approx(1.0)
    assert body["parameters"]["steps"] == 20
    assert body["parameters"]["seed"] == 77  # the seed the parent was made with
    assert body["parameters"]["prompt"] == clip.prompt
    made = Generation.objects.get(pk=body["id"])
    assert made.parent_frame_index == 16
    assert (made.source_image.width, made.source_image.height) == (320, 256)
    assert len(callbacks) == 1  # the submit job


def test_extend_from_a_time_with_overrides(api_client, clip):
    response = extend(api_client, clip, frame=0.25, prompt="the boat turns", seed=5)

    body = response.json()
    assert response.status_code == 201
    assert body["parent_frame_time"] == pytest.approx(0.25)
    assert body["parameters"]["prompt"] == "the boat turns"
    assert body["parameters"]["seed"] == 5


def test_extend_as_form_fields(api_client, clip):
    response = api_client.post(f"/api/generations/{clip.pk}/extend/", {"frame": "0.5"})

    assert response.status_code == 201
    assert Generation.objects.get(pk=response.json()["id"]).parent_frame_index == 8


def test_extend_with_the_same_idempotency_key_makes_one(api_client, clip):
    first = api_client.post(
        f"/api/generations/{clip.pk}/extend/", {"frame": "last"}, HTTP_IDEMPOTENCY_KEY="k-1"
    )
    second = api_client.post(
        f"/api/generations/{clip.pk}/extend/", {"frame": "last"}, HTTP_IDEMPOTENCY_KEY="k-1"
    )

    assert (first.status_code, second.status_code) == (201, 200)
    assert first.json()["id"] == second.json()["id"]
    assert Generation.objects.filter(parent=clip).count() == 1


def test_a_frame_past_the_end_is_a_400_and_nothing_is_queued(
    api_client, clip, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks() as callbacks:
        response = extend(api_client, clip, frame=9.5)

    assert response.status_code == 400
    assert "past its end" in response.json()["errors"]["frame"][0]
    assert not Generation.objects.filter(parent=clip).exists()
    assert callbacks == []


def test_a_frame_that_is_not_a_time_is_a_400(api_client, clip):
    response = extend(api_client, clip, frame="middle")

    assert response.status_code == 400
    assert "frame" in response.json()["errors"]


def test_a_failed_generation_cannot_be_extended(api_client, make_generation):
    failed = make_generation(status=Status.FAILED)

    response = extend(api_client, failed)

    assert response.status_code == 400
    assert "generation" in response.json()["errors"]


def test_a_clip_the_person_may_not_see_is_a_404(api_client_for, other_user, clip):
    Generation.objects.filter(pk=clip.pk).update(review_state=ReviewState.FLAGGED)

    response = extend(api_client_for(other_user), clip)

    assert response.status_code == 404
    assert not Generation.objects.filter(parent=clip).exists()


def test_an_extension_is_not_a_batch(api_client, clip):
    response = extend(api_client, clip, seed_count=4)

    assert response.status_code == 400
    assert "seed_count" in response.json()["errors"]


def test_the_budget_applies_to_an_extension(api_client, clip, user):
    from decimal import Decimal

    from generations.models import Budget

    Budget.objects.update_or_create(user=user, defaults={"monthly_limit": Decimal("0.01")})

    response = extend(api_client, clip)

    assert response.status_code == 400
    assert response.json()["errors"]["__all__"]
    assert not Generation.objects.filter(parent=clip).exists()


# --- the Studio form's prefill --------------------------------------------------------------


def test_the_studio_form_records_the_parent(member_client, clip, user):
    picture = shots.store_frame(clip, shots.take_frame(clip), user)

    member_client.post(
        "/",
        {
            "prompt": "on it goes",
            "source_image": picture.pk,
            "parent": clip.pk,
            "parent_frame_index": 16,
            "parent_frame_time": 1.0,
        },
    )

    made = Generation.objects.get(parent=clip)
    assert (made.parent_frame_index, made.parent_frame_time) == (16, 1.0)
    assert made.source_image == picture


def test_a_parent_the_person_may_not_see_is_refused_by_the_form(client_for, other_user, clip):
    Generation.objects.filter(pk=clip.pk).update(review_state=ReviewState.FLAGGED)
    picture = SourceImage.objects.first()

    client_for(other_user).post(
        "/",
        {"prompt": "x", "source_image": picture.pk, "parent": clip.pk, "parent_frame_index": 0},
    )

    assert not Generation.objects.filter(parent=clip).exists()


def test_extension_initial_reads_the_pickers_query(clip):
    query = {"source_image": "9", "parent_frame_index": "16", "parent_frame_time": "1.0"}

    assert shots.extension_initial(clip, query) == {
        "source_image": 9, "parent": clip.pk, "parent_frame_index": 16, "parent_frame_time": 1.0,
    }  # fmt: skip
    assert shots.extension_initial(clip, {"source_image": "²"}) == {}
