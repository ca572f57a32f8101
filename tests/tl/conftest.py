"""Fixtures shared by the tool tests: a CITE-seq-like MuData and a tiny rank-image model."""

from __future__ import annotations

import anndata as ad
import mudata as md
import numpy as np
import pandas as pd
import pytest
import torch

from cnnc.models import CNNC, Model, ModelSpec
from cnnc.models._spec import PairImageParams


@pytest.fixture
def rank_model() -> Model:
    """An untrained model on rank images (any continuous variables), seeded: for checks of plumbing, not skill."""
    torch.manual_seed(0)
    net = CNNC(image_size=16, filters=[4], dense=8)
    spec = ModelSpec(
        name="rank-test",
        task="direction",
        classes=["none", "a->b", "b->a"],
        image=PairImageParams(bins=16, scaling="rank").to_dict(),
        architecture=net.config,
        gene_matching="exact",
        expects="any continuous variables",
    )
    return Model(net.eval(), spec)


@pytest.fixture
def cite() -> md.MuData:
    """RNA (log counts) and proteins (centred log-ratios, negative) over partly shared cells; prot1 drives gene0."""
    rng = np.random.default_rng(2)
    cells = [f"c{i}" for i in range(400)]
    prot = rng.standard_normal((400, 2))
    rna = np.log1p(rng.poisson(np.exp(0.8 * prot[:, [0, 1, 0]] + rng.standard_normal((400, 3)) * 0.3)))
    r = ad.AnnData(rna.astype(np.float32), obs=pd.DataFrame(index=cells))
    r.var_names = ["Gene0", "Gene1", "Gene2"]
    p = ad.AnnData(prot[60:].astype(np.float32), obs=pd.DataFrame(index=cells[60:]))
    p.var_names = ["CD3", "CD4"]
    with md.set_options(pull_on_update=False):
        return md.MuData({"rna": r, "prot": p})
