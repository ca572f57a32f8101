"""One pipeline per input and one edge-table schema: MuData pairs as AnnData pairs, every tool's table via cnnc.get."""

from __future__ import annotations

import anndata as ad
import numpy as np
import pandas as pd
import pytest
import torch

import cnnc
from cnnc._tables import EDGE_COLUMNS


@pytest.fixture(scope="module", autouse=True)
def _threads():
    torch.set_num_threads(1)


def test_pairs_across_modalities_get_the_anndata_columns_and_min_cells(cite, rank_model):
    model = rank_model
    pairs = [("CD3", "Gene0"), ("CD4", "Gene1")]
    cnnc.tl.predict_interactions(
        cite, model=model, pairs=pairs, mod=("prot", "rna"), settings=cnnc.tl.ScoringSettings(min_cells=0)
    )
    edges = cnnc.get.edges(cite).set_index(["regulator", "target"])
    assert list(cite.uns["cnnc"]["edges"].columns[:3]) == list(EDGE_COLUMNS)
    assert {"p_none", "p_ab", "p_ba", "sign", "corr", "n_cells", "regulator_mod", "target_mod"} <= set(edges.columns)
    common = cite.mod["prot"].obs_names
    x, y = cite.mod["prot"][common].X[:, 0], cite.mod["rna"][common].X[:, 0]
    row = edges.loc[("CD3", "Gene0")]
    assert row["n_cells"] == int(((x != 0) & (y != 0)).sum())  # both measured as nonzero
    assert row["corr"] == pytest.approx(np.corrcoef(x, y)[0, 1], abs=1e-5) and row["sign"] == 1
    needed = int(row["n_cells"]) + 1  # min_cells applies as for an AnnData
    cnnc.tl.predict_interactions(
        cite,
        model=model,
        pairs=pairs,
        mod=("prot", "rna"),
        settings=cnnc.tl.ScoringSettings(min_cells=needed),
        key_added="k",
    )
    kept = cite.uns["k"]["edges"]
    assert ("CD3", "Gene0") not in set(zip(kept["regulator"], kept["target"], strict=True))


def test_every_tool_table_reads_through_get_edges(rank_model):
    rng = np.random.default_rng(0)
    x = rng.standard_normal(800)
    z = np.tanh(x) + 0.5 * rng.standard_normal(800)
    y = np.exp(0.6 * z) + 0.5 * rng.standard_normal(800)
    adata = ad.AnnData(np.column_stack([x, z, y]).astype(np.float32), var=pd.DataFrame(index=["x", "z", "y"]))
    model = rank_model
    cnnc.tl.causal_network(adata, model=model)
    cnnc.tl.causal_scores(adata, model=model, n_boot=0)
    for key in ("cnnc_network", "cnnc_causal"):
        table = adata.uns[key]["edges"]
        assert list(table.columns[:3]) == list(EDGE_COLUMNS)
        got = cnnc.get.edges(adata, key=key)
        assert (np.diff(got["score"].to_numpy()) <= 0).all()
        assert len(cnnc.get.edges(adata, key=key, top=1, network=True)) == 1
    network = adata.uns["cnnc_network"]["edges"]
    np.testing.assert_allclose(network["score"], network["partial_corr"].abs())
