"""gunicorn's workers give freed memory back after each request (webapp/malloc_trim.py)."""

from __future__ import annotations

import platform
import types

import pytest

from webapp import gunicorn_conf, malloc_trim


def test_each_request_trims(monkeypatch):
    calls = []
    monkeypatch.setattr(malloc_trim, "_libc_trim", lambda: calls.append)
    for _ in range(3):
        gunicorn_conf.post_request(types.SimpleNamespace(), None, {}, None)
    assert calls == [0, 0, 0]  # malloc_trim(0)


def test_without_malloc_trim_nothing_is_done(monkeypatch):
    monkeypatch.setattr(malloc_trim, "_libc_trim", lambda: None)
    assert malloc_trim.trim() is False


@pytest.mark.skipif(platform.libc_ver()[0] != "glibc", reason="glibc only")
def test_glibc_has_it():
    assert malloc_trim._libc_trim() is not None
    assert malloc_trim.trim() is True
