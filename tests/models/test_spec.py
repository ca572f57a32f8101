from __future__ import annotations

import json

import numpy as np
import pytest

from cnnc._engine._params import PairImageParams
from cnnc.models import ModelSpec

CLASSES = ["none", "regulator->target", "target->regulator"]


def make_spec(**overrides) -> ModelSpec:
    kwargs = {
        "name": "test-model",
        "task": "direction",
        "classes": CLASSES,
        "image": {"bins": 32},
        "architecture": {"filters": [8, 16, 32], "dense": 64},
    }
    kwargs.update(overrides)
    return ModelSpec(**kwargs)


def test_defaults_are_completed():
    spec = make_spec()
    assert spec.image == PairImageParams().to_dict()
    assert spec.architecture["filters"] == [8, 16, 32]
    assert spec.architecture["n_classes"] == 3
    assert spec.architecture["conv_dropout"] == 0.25
    assert spec.gene_matching == "case-insensitive"
    assert spec.species == ["any"]
    assert "raw counts are refused" in spec.expects
    assert not hasattr(spec, "calibration")
    assert spec.created.endswith("+00:00")
    assert spec.image_params == PairImageParams()


def test_json_round_trip():
    spec = make_spec(
        image=PairImageParams(pseudocount=0.1),
        architecture={"filters": (8, 16, 32), "dense": 64, "n_extra_features": 2, "batchnorm": True},
        features=["pearson", "spearman"],
        species=["mouse", "human"],
        training={"datasets": ["mESC"], "n_pairs": np.int64(1200), "seed": 0, "epochs": 20},
        metrics={"auroc": np.float32(0.875), "per_fold": np.array([0.8, 0.9])},
    )
    text = spec.to_json()
    again = ModelSpec.from_json(text)
    assert again == ModelSpec.from_json(again.to_json())
    assert again.image["pseudocount"] == 0.1
    assert again.architecture == spec.architecture
    assert again.features == ["pearson", "spearman"]
    assert again.training["n_pairs"] == 1200
    assert again.metrics["auroc"] == pytest.approx(0.875)
    assert again.metrics["per_fold"] == [0.8, 0.9]
    legacy = {**json.loads(text), "calibration": None}  # files of earlier versions: an empty calibration
    assert ModelSpec.from_dict(legacy) == again
    assert json.loads(text)["name"] == "test-model"


def test_from_json_names_missing_and_unknown_keys():
    d = json.loads(make_spec().to_json())
    del d["classes"]
    del d["species"]
    d["colour"] = "blue"
    with pytest.raises(ValueError, match=r"missing keys \['classes', 'species'\] and unknown keys \['colour'\]"):
        ModelSpec.from_json(json.dumps(d))


def test_from_json_rejects_invalid_json():
    with pytest.raises(ValueError, match="not valid JSON"):
        ModelSpec.from_json("{'name': ")
    with pytest.raises(ValueError, match="must be a JSON object"):
        ModelSpec.from_json("[1, 2]")


@pytest.mark.parametrize(
    ("overrides", "match"),
    [
        ({"name": ""}, "name must be a non-empty string"),
        ({"task": "regression"}, "task must be one of"),
        ({"classes": ["a", "b"]}, r"2 class names .* n_classes=3"),
        ({"classes": ["a", "a", "b"]}, "classes must be distinct"),
        ({"task": "interaction"}, "task 'interaction' needs n_classes 1"),
        (
            {"task": "direction", "classes": ["x", "y"], "architecture": {"n_classes": 2}},
            "task 'direction' needs n_classes=3",
        ),
        ({"image": {"bins": 16}}, r"image_size=32 but the pair images have bins=16"),
        ({"image": {"bins": 32, "colour": 1}}, r"image: Unknown pair-image parameters \['colour'\]"),
        ({"image": {"transform": "sqrt"}}, "transform must be one of"),
        ({"architecture": {"kernel": 5}}, r"architecture: Unknown CNNC architecture keys \['kernel'\]"),
        ({"architecture": {"image_size": 16}}, "too small for 3 convolution blocks"),
        ({"features": ["pearson"]}, r"1 feature names \['pearson'\] for a network with n_extra_features=0"),
        ({"gene_matching": "fuzzy"}, "gene_matching must be one of"),
        ({"species": []}, "species must be a non-empty list"),
        ({"metrics": [0.9]}, "metrics must be a dict"),
    ],
)
def test_validation_errors(overrides, match):
    with pytest.raises(ValueError, match=match):
        make_spec(**overrides)


def test_interaction_specs():
    one = make_spec(task="interaction", classes=["interaction"], architecture={"n_classes": 1})
    two = make_spec(task="interaction", classes=["none", "interaction"], architecture={"n_classes": 2})
    assert ModelSpec.from_json(one.to_json()).architecture["n_classes"] == 1
    assert ModelSpec.from_json(two.to_json()).classes == ["none", "interaction"]


def test_unserialisable_values_are_named():
    spec = make_spec(training={"optimizer": object()})
    with pytest.raises(TypeError, match="object is not JSON serializable"):
        spec.to_json()
