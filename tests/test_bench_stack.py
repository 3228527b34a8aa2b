"""The bench's processes get the caller's environment plus the bench's own settings."""

import os

from bench.stack import Stack


def test_the_caller_s_settings_reach_the_bench_and_its_servers(monkeypatch, tmp_path):
    monkeypatch.setattr(os, "environ", {"GALLERY_FRESHNESS": "0", "PATH": "/usr/bin"})
    stack = Stack(tmp_path)
    stack.apply_env()
    assert os.environ["GALLERY_FRESHNESS"] == "0"  # what `GALLERY_FRESHNESS=0 make bench` asks
    assert os.environ["PATH"] == "/usr/bin"
    assert os.environ["DJANGO_SETTINGS_MODULE"] == "bench.settings"
    assert stack.env()["GALLERY_FRESHNESS"] == "0"  # and so the servers it starts
