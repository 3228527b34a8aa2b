"""The bench's processes get the caller's environment plus the bench's own settings."""

import os

from bench.stack import Stack


def test_the_caller_s_settings_reach_the_bench_and_its_servers(monkeypatch, tmp_path):
    monkeypatch.setattr(os, "environ", {"WAN_PRICE_CURRENCY": "EUR", "PATH": "/usr/bin"})
    stack = Stack(tmp_path)
    stack.apply_env()
    assert (
        os.environ["WAN_PRICE_CURRENCY"] == "EUR"
    )  # what `WAN_PRICE_CURRENCY=EUR make bench` asks
    assert os.environ["PATH"] == "/usr/bin"
    assert os.environ["DJANGO_SETTINGS_MODULE"] == "bench.settings"
    assert stack.env()["WAN_PRICE_CURRENCY"] == "EUR"  # and so the servers it starts
