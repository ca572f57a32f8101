"""cnnc.models.train_causal on a few pairs: both image recipes (one and two views) and every generator."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import cnnc

ONE_VIEW = {
    "image": {"bins": 8, "scaling": "rank"},
    "architecture": {"in_channels": 1, "image_size": 8, "filters": [4], "dense": 8, "n_classes": 3},
}
TWO_VIEWS = {
    "image": {"bins": 8, "scaling": "rank+standard"},
    "architecture": {"in_channels": 2, "image_size": 8, "filters": [4], "dense": 8, "n_classes": 3},
}


@pytest.mark.parametrize("views", [ONE_VIEW, TWO_VIEWS], ids=["rank", "rank+standard"])
def test_train_causal_small(views):
    torch.set_num_threads(1)
    model = cnnc.models.train_causal(
        n_pairs=60,
        n_validation=30,
        epochs=1,
        sizes=[[200, 1.0]],
        generators={"rcc": 0.5, "cells": 0.5},
        **views,
    )
    assert model.spec.image_params.scaling == views["image"]["scaling"]
    assert {"synthetic validation direction rcc", "synthetic validation direction cells"} <= set(model.spec.metrics)
    adata = cnnc.datasets.causal_pairs(5, n_cells=200, seed=4, generator="rcc")
    pairs = list(zip(adata.uns["pairs"]["gene_a"], adata.uns["pairs"]["gene_b"], strict=True))
    edges = cnnc.tl.predict_interactions(adata, model=model, pairs=pairs, copy=True).uns["cnnc"]["edges"]
    p = edges[["p_none", "p_ab", "p_ba"]].to_numpy()
    assert len(edges) == 5 and np.allclose(p.sum(1), 1, atol=1e-5)


def test_train_causal_resolutions_share_the_pairs():
    from cnnc._training._causal import CAUSAL_RECIPE, causal_training_sets, train_causal_resolutions

    torch.set_num_threads(1)
    recipe = {**CAUSAL_RECIPE, "sizes": [[200, 1.0]]}
    recipe["generators"] = {"rcc": 0.5, "cells": 0.5}
    images = [{"bins": 8, "scaling": "rank+standard"}, {"bins": 12, "scaling": "rank+standard"}]
    sets = causal_training_sets(recipe, images, 20, seed=3)
    assert [s["x"].shape[-1] for s in sets] == [8, 12]
    assert np.array_equal(sets[0]["y"], sets[1]["y"])  # the same pairs, imaged twice
    views = {
        "a": TWO_VIEWS,
        "b": {
            "image": {"bins": 12, "scaling": "rank+standard"},
            "architecture": {"in_channels": 2, "image_size": 12, "filters": [4], "dense": 8, "n_classes": 3},
        },
    }
    seen = []
    models = train_causal_resolutions(
        views, recipe, on_best=lambda name, m: seen.append(name), n_pairs=40, n_validation=20, epochs=1
    )
    assert list(models) == ["a", "b"] and set(seen) == {"a", "b"}
    assert [m.spec.image_params.bins for m in models.values()] == [8, 12]
    with pytest.raises(ValueError, match="Unknown recipe settings"):
        train_causal_resolutions(views, recipe, n_pair=40)
