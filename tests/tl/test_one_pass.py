"""One pass over the cells feeds the context prior, the pair evidence and the null: the same edge table whether the
cells are in memory or read lazily from an .h5ad, and the same as separate passes over the data give."""

from __future__ import annotations

import anndata as ad
import h5py
import numpy as np
import pandas as pd
import pytest
import scanpy as sc
from scipy import sparse

import cnnc
from cnnc import _significance
from cnnc._evidence import evidence_from_pass, pair_evidence
from cnnc._prior import data_pass
from cnnc._prior._pass import DataPass
from cnnc.tl import _predict

pytest.importorskip("dask.array", reason="dask is part of cnnc's test extra")

FEATURES = cnnc.models.load("default").spec.features


@pytest.fixture(scope="module")
def pbmc():
    """scanpy's reduced PBMCs (700 cells), log-normalised counts of 765 genes, CSR."""
    raw = sc.datasets.pbmc68k_reduced().raw
    return ad.AnnData(sparse.csr_matrix(raw.X, dtype=np.float32), var=pd.DataFrame(index=raw.var_names))


def _edges(adata, tfs):
    out = cnnc.tl.predict_interactions(adata, tfs=tfs, settings=cnnc.tl.ScoringSettings(distributed=False), copy=True)
    return cnnc.get.edges(out).sort_values(["regulator", "target"]).reset_index(drop=True)


@pytest.fixture
def small_null(monkeypatch):
    """The null reads a random subsample of the cells (here 300 of 700), as it does on large data."""
    monkeypatch.setattr(_significance, "NULL_MAX_CELLS", 300)


def test_out_of_core_equals_in_memory(pbmc, small_null, tmp_path):
    tfs = list(pbmc.var_names[:40])
    here = _edges(pbmc, tfs)
    path = tmp_path / "pbmc.h5ad"
    pbmc.write_h5ad(path)
    with h5py.File(path, "r") as f:
        lazy = ad.AnnData(
            X=ad.experimental.read_elem_lazy(f["X"], chunks=(160, pbmc.n_vars)),
            obs=ad.io.read_elem(f["obs"]),
            var=ad.io.read_elem(f["var"]),
        )
        assert type(lazy.X).__module__.startswith("dask")
        read = _edges(lazy, tfs)
    assert len(here) > 1000 and here["pvalue"].min() < 0.01  # a real table, with significant edges
    pd.testing.assert_frame_equal(read, here)


def test_one_pass_equals_separate_passes(pbmc, small_null, monkeypatch):
    tfs = list(pbmc.var_names[:40])
    one = _edges(pbmc, tfs)
    monkeypatch.setattr(_predict, "data_pass", lambda *args, **kwargs: None)  # evidence, prior, null: own passes
    separate = _edges(pbmc, tfs)
    pd.testing.assert_frame_equal(one, separate, check_exact=False, atol=1e-6)
    np.testing.assert_array_equal(one["n_cells"], separate["n_cells"])
    np.testing.assert_array_equal(one["pvalue"], separate["pvalue"])


@pytest.mark.parametrize("n_regulators", [5, 500])  # few rows of co-detections, or those of every gene
def test_pass_sums_are_those_of_the_data(pbmc, n_regulators):
    x = pbmc.X.toarray().astype(np.float64)
    x[:, 7] = 0.0  # a gene never detected: constant
    rng = np.random.default_rng(0)
    a = np.repeat(np.arange(n_regulators), 30)
    b = rng.integers(0, pbmc.n_vars, len(a))
    cells = np.sort(rng.choice(len(x), 50, replace=False))
    one = data_pass(sparse.csr_matrix(x), a, features=FEATURES, chunk_cells=128, sample_cells=cells)
    assert isinstance(one, DataPass) and one.n_cells == len(x)
    np.testing.assert_allclose(one.cross(a, b), np.einsum("ij,ij->j", x[:, a], x[:, b]), rtol=1e-10)
    np.testing.assert_array_equal(one.both(a, b), ((x[:, a] > 0) & (x[:, b] > 0)).sum(axis=0))
    np.testing.assert_array_equal(one.constant(np.arange(x.shape[1])), x.min(axis=0) == x.max(axis=0))
    corr, both = evidence_from_pass(one, a, b)
    np.testing.assert_array_equal(one.take_sample().toarray(), x[cells])
    assert one.take_sample().shape == (0, x.shape[1])  # handed over: the pass keeps none
    ref_corr, ref_both = pair_evidence(sparse.csr_matrix(x), a, b)
    np.testing.assert_allclose(corr, ref_corr, atol=1e-6)
    np.testing.assert_array_equal(both, ref_both)


def test_null_from_the_pass_sample_equals_the_null_that_reads(pbmc, small_null):
    x = pbmc.X
    a = np.repeat(np.arange(10), pbmc.n_vars)
    b = np.tile(np.arange(pbmc.n_vars), 10)
    a, b = a[a != b], b[a != b]
    cells = _significance.null_cells(x.shape[0])
    assert len(cells) == 300 and np.all(np.diff(cells) > 0)
    sample = sparse.csr_matrix(x[cells])
    read, n_perm = _significance.null_statistics(x, a, b, min_cells=10)
    kept, same_perm = _significance.null_statistics(x, a, b, min_cells=10, sample=lambda: sample)
    assert n_perm == same_perm > 1
    np.testing.assert_array_equal(kept, read)
    with pytest.raises(ValueError, match="null's sample"):
        _significance.null_statistics(x, a, b, min_cells=10, sample=lambda: sample[:10])
