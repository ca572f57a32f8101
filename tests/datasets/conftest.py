from __future__ import annotations

import pooch
import pytest


@pytest.fixture
def no_download(monkeypatch):
    """Make any download attempt fail loudly."""

    def _refuse(*args, **kwargs):
        raise AssertionError("a download was attempted")

    monkeypatch.setattr(pooch.HTTPDownloader, "__call__", _refuse)
    monkeypatch.setattr(pooch.Pooch, "fetch", _refuse)


@pytest.fixture
def data_dir(shared_data, monkeypatch):
    """CNNC_DATA_DIR set to the shared data folder for this test (whatever the session's setting)."""
    monkeypatch.setenv("CNNC_DATA_DIR", str(shared_data))
    return shared_data
