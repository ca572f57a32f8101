from __future__ import annotations

import json

import pytest
import torch
from safetensors.torch import save_file

from cnnc.models import CNNC, Model, ModelSpec, load_file


@pytest.fixture
def saved(trained_model, tmp_path):
    return trained_model.save(tmp_path / "good.safetensors")


def _metadata(spec: ModelSpec, **overrides) -> dict:
    meta = {"cnnc_spec": spec.to_json(), "format": "cnnc-model", "format_version": "1"}
    meta.update(overrides)
    return {k: v for k, v in meta.items() if v is not None}


def _state(model: Model) -> dict:
    return {k: v.clone().contiguous() for k, v in model.module.state_dict().items()}


def test_missing_file_and_folder(tmp_path):
    with pytest.raises(FileNotFoundError, match="does not exist"):
        load_file(tmp_path / "nope.safetensors")
    with pytest.raises(IsADirectoryError, match="is a folder"):
        load_file(tmp_path)


@pytest.mark.parametrize(
    ("content", "hint"),
    [
        (b"", "the file has only 0 bytes"),
        (b"\x00" * 3, "the file has only 3 bytes"),
        (bytes(range(256)) * 4, "does not fit a file of 1024 bytes"),
        (
            b"<!DOCTYPE html>\n<html><head><title>404 Not Found</title></head><body>Not Found</body></html>\n",
            "It looks like an HTML page",
        ),
        (b"version https://git-lfs.github.com/spec/v1\noid sha256:abc\nsize 123\n", "Git LFS pointer"),
        (b"\x10\x00\x00\x00\x00\x00\x00\x00{not json at all}", "header is not JSON"),
    ],
)
def test_not_a_safetensors_file(tmp_path, content, hint):
    path = tmp_path / "bad.safetensors"
    path.write_bytes(content)
    with pytest.raises(ValueError, match="is not a valid cnnc model file \\(safetensors header could not be read") as e:
        load_file(path)
    assert hint in str(e.value)


def test_pickled_checkpoint_is_never_unpickled(tmp_path, trained_model):
    path = tmp_path / "model.pt"
    torch.save(trained_model.module.state_dict(), path)
    with pytest.raises(ValueError, match="pickle / torch.save checkpoint, which cnnc never loads"):
        load_file(path)


@pytest.mark.parametrize("keep", [0.3, 0.9, 0.999])
def test_truncated_file(saved, keep):
    data = saved.read_bytes()
    saved.write_bytes(data[: int(len(data) * keep)])
    with pytest.raises(ValueError, match=r"is not a valid cnnc model file|truncated"):
        load_file(saved)
    if keep >= 0.9:  # header intact: the message says it is truncated
        with pytest.raises(ValueError, match=r"it is truncated \(\d+ bytes, but its header describes \d+ bytes\)"):
            load_file(saved)


def test_safetensors_without_spec(tmp_path, trained_model):
    path = tmp_path / "plain.safetensors"
    save_file(_state(trained_model), path)
    with pytest.raises(ValueError, match="is a safetensors file but not a cnnc model: it has no 'cnnc_spec' metadata"):
        load_file(path)


@pytest.mark.parametrize(
    ("overrides", "match"),
    [
        ({"cnnc_spec": "{broken"}, "has an invalid cnnc model spec: Invalid model spec: not valid JSON"),
        ({"format": "other"}, "has metadata format='other', expected 'cnnc-model'"),
        ({"format_version": "2"}, r"format version '2', but this cnnc reads version '1'. Upgrade cnnc"),
    ],
)
def test_bad_metadata(tmp_path, trained_model, overrides, match):
    path = tmp_path / "m.safetensors"
    save_file(_state(trained_model), path, metadata=_metadata(trained_model.spec, **overrides))
    with pytest.raises(ValueError, match=match):
        load_file(path)


def test_spec_with_unknown_key(tmp_path, trained_model):
    d = json.loads(trained_model.spec.to_json())
    d["learning_rate"] = 0.1
    path = tmp_path / "m.safetensors"
    save_file(_state(trained_model), path, metadata=_metadata(trained_model.spec, cnnc_spec=json.dumps(d)))
    with pytest.raises(ValueError, match=r"invalid cnnc model spec: .*unknown keys \['learning_rate'\]"):
        load_file(path)


def test_weights_that_do_not_match_the_architecture(tmp_path, trained_model):
    path = tmp_path / "m.safetensors"
    other = CNNC(**{**trained_model.spec.architecture, "dense": 32})
    save_file(
        _state(Model(other, ModelSpec(**{**trained_model.spec.to_dict(), "architecture": other.config}))),
        path,
        metadata=_metadata(trained_model.spec),
    )
    with pytest.raises(ValueError, match=r"shape mismatch: hidden.0.weight is \(32, 128\) in the file but \(64, 128\)"):
        load_file(path)

    state = _state(trained_model)
    del state["head.bias"]
    state["head.scale"] = torch.ones(3)
    save_file(state, path, metadata=_metadata(trained_model.spec))
    with pytest.raises(ValueError, match=r"missing tensors \['head.bias'\]; unexpected tensors \['head.scale'\]"):
        load_file(path)


def test_nan_weights_are_refused(tmp_path, trained_model):
    state = _state(trained_model)
    state["features.2.weight"][0, 0, 0, 0] = float("nan")
    path = tmp_path / "m.safetensors"
    save_file(state, path, metadata=_metadata(trained_model.spec))
    with pytest.raises(ValueError, match=r"NaN or infinite weights in \['features.2.weight'\]"):
        load_file(path)


def test_loading_does_not_touch_the_global_random_generator(saved):
    torch.manual_seed(7)
    expected = torch.rand(3)
    torch.manual_seed(7)
    load_file(saved)
    assert torch.equal(torch.rand(3), expected)
