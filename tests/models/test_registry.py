from __future__ import annotations

import hashlib
import json
from importlib.resources import files
from pathlib import Path

import numpy as np
import pytest

import cnnc.models as models
from cnnc.models import _registry


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _cache_files(cache: Path) -> list[str]:
    return sorted(p.name for p in cache.iterdir()) if cache.exists() else []


@pytest.fixture
def served_model(trained_model, http_server):
    """The tiny trained model, saved into the folder the local HTTP server serves."""
    path = trained_model.save(http_server.root / "tiny.safetensors")
    return path, _sha(path)


def test_shipped_registry_models_load_and_match_their_hashes(registry):
    raw = json.loads(files("cnnc.models").joinpath("weights", "registry.json").read_text())
    assert raw["format_version"] == 1
    assert raw["default"] == "cnnc-pairs" and {"cnnc-pairs", "cnnc-context", "cnnc-original"} <= set(raw["models"])
    table = models.available()
    assert list(table.columns) == [
        "description",
        "task",
        "species",
        "bundled",
        "default",
        "downloaded",
        "file",
        "url",
        "sha256",
    ]
    assert set(table.index) == set(raw["models"])
    for name, entry in raw["models"].items():
        assert entry["bundled"], f"{name}: shipped models are bundled so they work offline"
        model = models.load(name)
        assert model.sha256 == entry["sha256"]
        assert model.spec.task == entry["task"]
    default = models.load()
    assert default.name == "cnnc-pairs"
    assert "cnnc-pairs" in models.info("default")


def test_cache_dir_default_and_override(monkeypatch, tmp_path):
    monkeypatch.delenv(_registry.ENV_CACHE, raising=False)
    assert _registry.cache_dir().parts[-2:] == ("cnnc", "models")
    monkeypatch.setenv(_registry.ENV_CACHE, str(tmp_path / "x"))
    assert _registry.cache_dir() == tmp_path / "x"


def test_download_with_the_right_hash(registry, http_server, served_model, trained_model, synthetic):
    path, sha = served_model
    models.register(
        "tiny",
        "tiny.safetensors",
        sha,
        http_server.url("tiny.safetensors"),
        description="tiny synthetic model",
        task="direction",
        species=["any"],
        default=True,
    )
    table = models.available()
    assert table.loc["tiny", "description"] == "tiny synthetic model"
    assert bool(table.loc["tiny", "default"]) and not bool(table.loc["tiny", "downloaded"])

    brief = models.info("tiny")
    assert "not downloaded yet" in brief and "direction" in brief
    assert http_server.requests == []  # info never downloads

    model = models.load("default")
    assert _cache_files(registry) == ["tiny.safetensors"]
    assert model.sha256 == sha and model.path == registry / "tiny.safetensors"
    x, _ = synthetic["test"]
    np.testing.assert_array_equal(model.predict_proba(x), trained_model.predict_proba(x))
    assert bool(models.available().loc["tiny", "downloaded"])

    models.load("tiny")  # second time: from the cache, no new request
    assert http_server.requests == ["/tiny.safetensors"]
    card = models.info("tiny")
    assert "raw counts are refused" in card and "accuracy" in card and sha in card


@pytest.mark.parametrize("case", ["wrong hash", "truncated file", "html error page", "dropped connection", "404"])
def test_bad_downloads_are_refused_and_leave_nothing(registry, http_server, served_model, case):
    path, sha = served_model
    data = path.read_bytes()
    name = "tiny.safetensors"
    if case == "wrong hash":
        sha = hashlib.sha256(b"something else").hexdigest()
    elif case == "truncated file":
        (http_server.root / "cut.safetensors").write_bytes(data[: len(data) // 2])
        name = "cut.safetensors"
    elif case == "html error page":
        page = b"<!DOCTYPE html><html><body><h1>Service unavailable</h1></body></html>"
        http_server.canned["/page.safetensors"] = (200, "text/html; charset=utf-8", page)
        name = "page.safetensors"
    elif case == "dropped connection":
        http_server.cut["/drop.safetensors"] = (data, len(data) // 3)
        name = "drop.safetensors"
    else:
        name = "missing.safetensors"
    models.register("tiny", "tiny.safetensors", sha, http_server.url(name))
    if case in ("dropped connection", "404"):
        with pytest.raises(ConnectionError, match=r"Could not download model 'tiny' from http://127\.0\.0\.1:\d+/"):
            models.load("tiny")
    else:
        with pytest.raises(ValueError, match=r"The download of model 'tiny' .* is not the expected file") as e:
            models.load("tiny")
        assert "Nothing was kept in the cache" in str(e.value)
        assert "pass its path to cnnc.models.load" in str(e.value)
    assert http_server.requests  # the server was asked
    assert not registry.exists()  # the cache folder made for this download is removed too


def test_corrupted_cache_file_is_downloaded_again(registry, http_server, served_model):
    path, sha = served_model
    models.register("tiny", "tiny.safetensors", sha, http_server.url("tiny.safetensors"))
    registry.mkdir(parents=True)
    (registry / "tiny.safetensors").write_bytes(b"<html>stale error page</html>")
    assert models.load("tiny").sha256 == sha
    assert _sha(registry / "tiny.safetensors") == sha


def test_stale_cache_file_is_named_when_the_new_download_fails(registry, http_server, served_model):
    path, sha = served_model
    models.register("tiny", "tiny.safetensors", sha, http_server.url("missing.safetensors"))
    registry.mkdir(parents=True)
    (registry / "tiny.safetensors").write_bytes(b"an older file")
    stale = hashlib.sha256(b"an older file").hexdigest()
    with pytest.raises(ConnectionError, match=rf"cached file .* has SHA256 {stale}, not the registry's {sha}"):
        models.load("tiny")
    assert registry.is_dir()  # a folder that existed before is left alone


def test_models_dir_that_is_a_file(registry, monkeypatch, tmp_path, served_model):
    path, sha = served_model
    models.register("tiny", "tiny.safetensors", sha, "https://example.org/tiny.safetensors")
    not_a_folder = tmp_path / "file"
    not_a_folder.write_text("x")
    monkeypatch.setenv(_registry.ENV_CACHE, str(not_a_folder))
    with pytest.raises(NotADirectoryError, match=r"is a file, not a folder\. Set CNNC_MODELS_DIR to a folder"):
        models.load("tiny")
    assert not_a_folder.read_text() == "x"


def test_bundled_model(registry, monkeypatch, tmp_path, trained_model):
    package = tmp_path / "package"
    (package / "weights").mkdir(parents=True)
    path = trained_model.save(package / "weights" / "tiny.safetensors")
    monkeypatch.setattr(_registry, "files", lambda _: package)
    models.register("tiny", "tiny.safetensors", _sha(path), None, bundled=True, description="bundled")
    model = models.load("tiny")
    assert model.spec == trained_model.spec and model.sha256 == _sha(path)
    assert bool(models.available().loc["tiny", "downloaded"])
    assert "bundled with cnnc" in models.info("tiny")
    assert _cache_files(registry) == []

    path.write_bytes(path.read_bytes()[:-10] + b"\x00" * 10)
    with pytest.raises(ValueError, match="bundled file of model 'tiny' .* the installation is damaged"):
        models.load("tiny")


def test_load_and_info_by_path(tmp_path, trained_model, registry):
    path = trained_model.save(tmp_path / "mine.safetensors")
    assert models.load(path).sha256 == trained_model.sha256
    assert models.load(str(path)).spec == trained_model.spec
    assert "tiny-synthetic" in models.info(path)
    with pytest.raises(FileNotFoundError, match="does not exist"):
        models.load(str(tmp_path / "other.safetensors"))


def test_unknown_names_and_bad_registrations(registry):
    with pytest.raises(
        ValueError, match=r"Unknown model 'mesc': .*registered models: \['cnnc-.*path of a .safetensors"
    ):
        models.load("mesc")
    with pytest.raises(TypeError, match="name_or_path must be a model name or a path"):
        models.load(3)
    sha = "a" * 64
    models.register("a", "a.safetensors", sha, "https://example.org/a.safetensors")
    with pytest.raises(ValueError, match="already registered; pass overwrite=True"):
        models.register("a", "a.safetensors", sha, "https://example.org/a.safetensors")
    models.register("a", "a.safetensors", sha, "https://example.org/b.safetensors", overwrite=True)
    assert models.available().loc["a", "url"].endswith("b.safetensors")
    with pytest.raises(ValueError, match=r"Unknown model 'b': .*registered models: \[.*'a'.*\]"):
        models.load("b")
    bad = [
        ({"name": "default"}, "Invalid model name 'default'"),
        ({"sha256": "abc"}, "sha256 must be 64 hexadecimal digits"),
        ({"file": "a.pt"}, "file must be a bare file name ending in .safetensors"),
        ({"file": "../a.safetensors"}, "file must be a bare file name"),
        ({"url": None}, "needs a download url"),
        ({"url": "www.example.org/a"}, "needs a download url"),
        ({"colour": "red"}, r"unknown keys \['colour'\]"),
    ]
    for change, match in bad:
        kwargs = {"name": "c", "file": "c.safetensors", "sha256": sha, "url": "https://example.org/c", **change}
        with pytest.raises(ValueError, match=match):
            models.register(**kwargs)
    assert "c" not in models.available().index


def test_public_namespace():
    assert sorted(models.__all__) == sorted(
        ["CNNC", "Model", "ModelSpec", "load", "available", "info", "register", "load_file", "train_causal"]
        + ["train_causal_resolutions"]  # the ensemble over image resolutions of the causal selection
        + ["ContextStatistics", "context_z", "MEASURES", "MARGINAL_FEATURES"]  # the context prior of the features
    )
