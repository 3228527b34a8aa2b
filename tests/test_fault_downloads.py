"""A bad download never gives up a paid result at once: a fresh link is asked for first."""

import pytest

from generations import pipeline, wan_api
from generations.models import Generation, Status

NOT_MP4 = wan_api.DownloadResult(wan_api.DownloadOutcome.INVALID, message="not an MP4 video")


class BadDownloads:
    def download(self, url, dest, *, max_bytes):
        return NOT_MP4


@pytest.fixture
def downloading(source_image, user, monkeypatch):
    monkeypatch.setattr(pipeline, "api_client", BadDownloads)
    generation = Generation.objects.create_queued(owner=user, source_image=source_image, prompt="p")
    Generation.objects.filter(pk=generation.pk).update(
        status=Status.DOWNLOADING, api_task_id="task-1"
    )
    return generation


def test_an_error_page_instead_of_the_video_asks_for_a_fresh_link(downloading):
    pipeline.download_result(downloading.pk, "https://cdn.example/v.mp4")

    downloading.refresh_from_db()
    assert downloading.status == Status.PROCESSING
    assert "not a usable video" in downloading.events.last().note


def test_a_link_that_never_serves_a_video_ends_failed_with_the_reason(downloading):
    for _ in range(pipeline.MAX_POLL_TROUBLES["expired"]):
        Generation.objects.filter(pk=downloading.pk).update(status=Status.DOWNLOADING)
        pipeline.download_result(downloading.pk, "https://cdn.example/v.mp4")

    downloading.refresh_from_db()
    assert downloading.status == Status.FAILED
    assert downloading.failure_reason == "The result could not be used: not an MP4 video"
