from __future__ import annotations

import copy
import hashlib
import json
import os
import stat

import numpy as np
import pytest
import torch
from safetensors import safe_open

from cnnc.models import CNNC, Model, ModelSpec, load_file
from cnnc.models._device import resolve_device


def test_the_tiny_model_really_learned(training_record, trained_model, synthetic):
    losses = training_record["losses"]
    assert np.mean(losses[-5:]) < 0.5 * np.mean(losses[:5])
    assert training_record["accuracy"] >= 0.9
    x, y = synthetic["test"]
    proba = trained_model.predict_proba(x)
    assert (proba.argmax(1) == y).mean() == pytest.approx(training_record["accuracy"])


def test_properties_and_repr(trained_model):
    assert trained_model.name == "tiny-synthetic"
    assert isinstance(trained_model.module, CNNC)
    assert trained_model.spec.classes[0] == "none"
    assert trained_model.sha256 is None and trained_model.path is None
    assert "tiny-synthetic" in repr(trained_model) and "parameters=" in repr(trained_model)


def test_predict_proba_is_a_probability(trained_model, synthetic):
    x, _ = synthetic["test"]
    proba = trained_model.predict_proba(x)
    assert proba.dtype == np.float32 and proba.shape == (len(x), 3)
    np.testing.assert_allclose(proba.sum(1), 1, atol=1e-5)
    # same as the module's own softmax in eval mode
    with torch.inference_mode():
        expected = torch.softmax(trained_model.module.eval()(torch.from_numpy(x)), 1).numpy()
    np.testing.assert_allclose(proba, expected, rtol=1e-5, atol=1e-6)


def test_predict_proba_input_forms_and_batching(trained_model, synthetic):
    x, _ = synthetic["test"]
    full = trained_model.predict_proba(x)
    np.testing.assert_allclose(trained_model.predict_proba(x[:, 0]), full, atol=1e-6)  # (N, H, W)
    np.testing.assert_allclose(trained_model.predict_proba(x.astype(np.float64), batch_size=7), full, atol=1e-6)
    assert trained_model.predict_proba(x[:0]).shape == (0, 3)


def test_predict_proba_uses_eval_mode_and_restores_training_flag(trained_model, synthetic):
    x, _ = synthetic["test"]
    trained_model.module.train()
    a = trained_model.predict_proba(x[:20])
    b = trained_model.predict_proba(x[:20])
    np.testing.assert_array_equal(a, b)  # no dropout at prediction time
    assert trained_model.module.training


def test_predict_proba_input_errors(trained_model, synthetic):
    x, _ = synthetic["test"]
    with pytest.raises(
        ValueError, match=r"expects pair images of shape \(N, 1, 32, 32\) or \(N, 32, 32\).*got \(4, 1, 16, 16\)"
    ):
        trained_model.predict_proba(np.zeros((4, 1, 16, 16), np.float32))
    bad = x[:10].copy()
    bad[6, 0, 3, 3] = np.nan
    with pytest.raises(ValueError, match="Pair image 6 contains NaN"):
        trained_model.predict_proba(bad, batch_size=4)
    with pytest.raises(ValueError, match="takes no extra features"):
        trained_model.predict_proba(x[:3], np.zeros((3, 1)))
    with pytest.raises(ValueError, match="batch_size must be a positive integer"):
        trained_model.predict_proba(x[:3], batch_size=0)
    with pytest.raises(ValueError, match="images must be numeric"):
        trained_model.predict_proba(np.full((2, 32, 32), "a"))


def _spec(**kw) -> ModelSpec:
    base = {
        "name": "m",
        "task": "direction",
        "classes": ["none", "regulator->target", "target->regulator"],
        "image": {},
    }
    base.update(kw)
    return ModelSpec(**base)


def test_softmax_and_sigmoid():
    torch.manual_seed(1)
    net = CNNC(filters=(4, 8, 16), dense=16).eval()
    x = np.random.default_rng(0).random((6, 1, 32, 32), dtype=np.float32)
    logits = net(torch.from_numpy(x)).detach()
    model = Model(net, _spec(architecture=net.config))
    np.testing.assert_allclose(model.predict_proba(x), torch.softmax(logits, 1).numpy(), rtol=1e-5)

    torch.manual_seed(1)
    net1 = CNNC(filters=(4, 8, 16), dense=16, n_classes=1).eval()
    single = Model(net1, _spec(task="interaction", classes=["interaction"], architecture=net1.config))
    p = single.predict_proba(x)
    assert p.shape == (6, 1)
    np.testing.assert_allclose(p, torch.sigmoid(net1(torch.from_numpy(x))).detach().numpy(), rtol=1e-5)


def test_extra_features_are_required_and_used():
    torch.manual_seed(2)
    net = CNNC(filters=(4, 8, 16), dense=16, n_extra_features=1)
    model = Model(net, _spec(architecture=net.config, features=["pearson"]))
    x = np.random.default_rng(0).random((5, 32, 32), dtype=np.float32)
    with pytest.raises(ValueError, match=r"needs extra per-pair features \['pearson'\]"):
        model.predict_proba(x)
    with pytest.raises(ValueError, match=r"extra must have shape \(5, 1\)"):
        model.predict_proba(x, np.zeros((4, 1)))
    with pytest.raises(ValueError, match="extra features contain NaN"):
        model.predict_proba(x, np.full(5, np.nan))
    a = model.predict_proba(x, np.zeros(5))
    b = model.predict_proba(x, np.full((5, 1), 3.0))
    assert not np.allclose(a, b)


def test_module_must_match_spec():
    net = CNNC(filters=(4, 8, 16), dense=16)
    with pytest.raises(ValueError, match=r"differs from spec.architecture in \['dense'\]"):
        Model(net, _spec(architecture={"filters": [4, 8, 16], "dense": 32}))
    with pytest.raises(TypeError, match="module must be a cnnc.models.CNNC"):
        Model(torch.nn.Linear(2, 2), _spec(architecture=net.config))


def test_save_load_round_trip_float32_is_exact(trained_model, synthetic, tmp_path):
    x, _ = synthetic["test"]
    path = trained_model.save(tmp_path / "tiny")
    assert path == tmp_path / "tiny.safetensors"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["tiny.safetensors"]  # no temporary file left
    assert trained_model.sha256 == hashlib.sha256(path.read_bytes()).hexdigest()
    assert trained_model.path == path
    umask = os.umask(0)
    os.umask(umask)
    assert stat.S_IMODE(path.stat().st_mode) == 0o666 & ~umask  # not the private mode of the temporary file
    with safe_open(path, "pt") as f:
        meta = f.metadata()
    assert meta["format"] == "cnnc-model" and meta["format_version"] == "1"
    assert json.loads(meta["cnnc_spec"])["name"] == "tiny-synthetic"

    loaded = load_file(path)
    assert loaded.spec == trained_model.spec
    assert loaded.sha256 == trained_model.sha256
    assert not loaded.module.training
    np.testing.assert_array_equal(loaded.predict_proba(x), trained_model.predict_proba(x))
    for k, v in trained_model.module.state_dict().items():
        assert torch.equal(loaded.module.state_dict()[k], v), k


def test_save_float16_is_smaller_and_close(trained_model, synthetic, tmp_path):
    x, _ = synthetic["test"]
    p32 = trained_model.save(tmp_path / "m32.safetensors")
    p16 = trained_model.save(tmp_path / "m16.safetensors", dtype="float16")
    assert trained_model.path == p16
    assert p16.stat().st_size < 0.6 * p32.stat().st_size
    loaded = load_file(p16)
    assert all(t.dtype == torch.float32 for t in loaded.module.state_dict().values())
    np.testing.assert_allclose(loaded.predict_proba(x), trained_model.predict_proba(x), atol=5e-3)
    with pytest.raises(ValueError, match="dtype must be one of"):
        trained_model.save(tmp_path / "m8", dtype="int8")


def test_loaded_model_can_be_trained_further(trained_model, tmp_path):
    loaded = load_file(trained_model.save(tmp_path / "m"))
    params = list(loaded.module.parameters())
    assert all(p.requires_grad for p in params)
    loaded.module.train()
    loaded.module(torch.rand(4, 1, 32, 32)).sum().backward()
    assert all(p.grad is not None for p in params)


def test_save_overwrites_atomically_and_refuses_bad_weights(trained_model, tmp_path):
    path = trained_model.save(tmp_path / "m.safetensors")
    first = path.read_bytes()
    other = copy.deepcopy(trained_model.module)
    with torch.no_grad():
        other.head.bias += 1
    model2 = Model(other, trained_model.spec)
    model2.save(path)
    assert path.read_bytes() != first
    with torch.no_grad():
        other.head.weight[0, 0] = float("nan")
    with pytest.raises(ValueError, match=r"Weight 'head.weight' is not finite"):
        model2.save(path)
    with torch.no_grad():
        other.head.weight[0, 0] = 1e6  # fine in float32, overflows float16
    model2.save(path)
    with pytest.raises(ValueError, match="outside the range of torch.float16"):
        model2.save(path, dtype="float16")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m.safetensors"]
    with pytest.raises(FileNotFoundError, match="does not exist; create it first"):
        trained_model.save(tmp_path / "missing" / "m")


def test_card_describes_the_model(trained_model):
    card = trained_model.card()
    for text in ["tiny-synthetic", "direction", "raw counts are refused", "bins=32", "accuracy", "limits", "MFLOP"]:
        assert text in card


# --- devices ---------------------------------------------------------------------------------------------------


def test_resolve_device_on_cpu(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    assert resolve_device(None) == torch.device("cpu")
    assert resolve_device("cpu") == torch.device("cpu")
    assert resolve_device(torch.device("cpu")) == torch.device("cpu")
    with pytest.raises(ValueError, match="CUDA is not available here"):
        resolve_device("cuda")


def test_resolve_device_prefers_cuda_when_available(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 1)
    assert resolve_device(None) == torch.device("cuda")
    assert resolve_device("cuda:0") == torch.device("cuda:0")
    with pytest.raises(ValueError, match=r"only 1 CUDA device\(s\) exist"):
        resolve_device("cuda:3")


@pytest.mark.parametrize(
    ("device", "match"),
    [("meta", "holds no values"), ("quantum", "Unknown device 'quantum'"), (3.5, "device must be None")],
)
def test_resolve_device_errors(device, match):
    with pytest.raises(ValueError, match=match):
        resolve_device(device)


def test_predict_proba_devices_agree(trained_model, synthetic):
    x, _ = synthetic["test"]
    auto = trained_model.predict_proba(x[:16])  # no GPU here: CPU
    np.testing.assert_array_equal(trained_model.predict_proba(x[:16], device="cpu"), auto)
    np.testing.assert_array_equal(trained_model.predict_proba(x[:16], device=torch.device("cpu")), auto)
    assert next(trained_model.module.parameters()).device.type == "cpu"


def test_bfloat16_precision_is_close_and_leaves_weights_alone(trained_model, synthetic):
    x, y = synthetic["test"]
    before = {k: v.clone() for k, v in trained_model.module.state_dict().items()}
    exact = trained_model.predict_proba(x)
    fast = trained_model.predict_proba(x, precision="bfloat16")
    assert fast.dtype == np.float32
    np.testing.assert_allclose(fast, exact, atol=2e-2)
    assert (fast.argmax(1) == exact.argmax(1)).mean() >= 0.98
    for k, v in trained_model.module.state_dict().items():
        assert v.dtype == before[k].dtype and torch.equal(v, before[k])
        assert v.is_contiguous(), f"{k} left in channels-last layout"
    with pytest.raises(ValueError, match=r"precision must be one of \('float32', 'bfloat16'\)"):
        trained_model.predict_proba(x[:3], precision="half")


def test_weights_stay_savable_after_prediction(trained_model, synthetic, tmp_path):
    x, _ = synthetic["test"]
    expected = trained_model.predict_proba(x[:50])
    clone = Model(copy.deepcopy(trained_model.module), trained_model.spec)
    clone.predict_proba(x[:5])  # runs channels-last internally
    path = clone.save(tmp_path / "clone.safetensors")
    np.testing.assert_allclose(load_file(path).predict_proba(x[:50]), expected, atol=1e-6)
