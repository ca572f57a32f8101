"""Property-based tests: over shapes, dtypes, sparsity, NaN/inf, constant genes, duplicated names, tiny and empty
data, every outcome of the public functions is a correct result or an error of ours that names the problem."""

from __future__ import annotations

import traceback
from pathlib import Path

import anndata as ad
import numpy as np
import pandas as pd
import torch
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from scipy import sparse

import cnnc

PACKAGE = Path(cnnc.__file__).parent
OUR_ERRORS = (ValueError, KeyError, TypeError)
SETTINGS = {
    "deadline": None,
    "derandomize": True,  # the same examples on every run: CI stays reproducible
    "database": None,  # and nothing is written into the checkout
    "suppress_health_check": [HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.data_too_large],
    "print_blob": True,
}
GENE_KINDS = ["varied", "varied", "varied", "sparse", "zero", "constant", "nan", "inf", "negative"]


def assert_our_error(error: BaseException) -> None:
    """An error raised by cnnc itself (not deep inside numpy or pandas), of a documented kind, with a message."""
    assert isinstance(error, OUR_ERRORS), f"unexpected {type(error).__name__}: {error}"
    event(f"refused: {str(error)[:40]}")
    frames = traceback.extract_tb(error.__traceback__)
    assert Path(frames[-1].filename).is_relative_to(PACKAGE), (
        f"{type(error).__name__} raised outside cnnc ({frames[-1].filename}:{frames[-1].lineno}): {error}"
    )
    assert len(str(error)) > 20


@st.composite
def expressions(draw, *, min_cells=0, max_cells=40, min_genes=2, max_genes=6, kinds=GENE_KINDS):
    """An AnnData of log-like values with awkward genes, and what each gene is."""
    n_cells = draw(st.integers(min_cells, max_cells))
    n_genes = draw(st.integers(min_genes, max_genes))
    values = draw(
        arrays(np.float64, (n_cells, n_genes), elements=st.floats(0.001, 8, allow_nan=False, allow_infinity=False))
    )
    zeros = draw(arrays(np.bool_, (n_cells, n_genes)))
    X = np.where(zeros, 0.0, values)
    gene_kinds = [draw(st.sampled_from(kinds)) for _ in range(n_genes)]
    for g, kind in enumerate(gene_kinds):
        if kind == "sparse":
            X[:, g] = np.where(np.arange(n_cells) % 7 == 0, X[:, g], 0.0)
        elif kind == "zero":
            X[:, g] = 0.0
        elif kind == "constant":
            X[:, g] = draw(st.floats(0.01, 8))
        elif kind in ("nan", "inf", "negative") and n_cells:
            X[draw(st.integers(0, n_cells - 1)), g] = {"nan": np.nan, "inf": np.inf, "negative": -0.5}[kind]
        elif kind in ("nan", "inf", "negative"):
            gene_kinds[g] = "varied"
    dtype = draw(st.sampled_from([np.float64, np.float32, np.float16]))
    X = X.astype(dtype)
    fmt = draw(st.sampled_from(["dense", "csr", "csc"]))
    matrix = X if fmt == "dense" or dtype == np.float16 else getattr(sparse, f"{fmt}_matrix")(X)
    names = [f"g{i}" for i in range(n_genes)]
    if draw(st.booleans()) and draw(st.integers(0, 4)) == 0:  # sometimes a duplicated name
        names[-1] = names[0]
    adata = ad.AnnData(matrix)
    adata.var_names = names
    return adata, X, gene_kinds


def reference_counts(xa: np.ndarray, xb: np.ndarray, bins: int = 32) -> np.ndarray:
    """numpy.histogram2d of log10(x + 0.01) in the data's dtype, constant genes in bin bins // 2 (the recipe)."""
    la, lb = np.log10(xa + 0.01), np.log10(xb + 0.01)

    def edges(lx):
        if lx.min() != lx.max():
            return bins
        e = np.histogram(lx, bins=bins)[1]
        e[bins // 2] = lx[0]
        return e

    return np.histogram2d(la, lb, bins=[edges(la), edges(lb)])[0]


def _expected_error(X: np.ndarray, kinds: list[str], genes: list[int], names: list[str], min_cells=1) -> tuple:
    """The errors cnnc may raise for these genes (any one of them), or () (checks in the order cnnc makes them)."""
    if len(set(names)) < len(names):
        return ("not unique",)
    if X.shape[0] == 0:
        return ("no cells",)
    if X.shape[0] < min_cells:
        return ("at least 20 cells",)
    bad = {"nan": "NaN or infinite", "inf": "NaN or infinite", "negative": "negative"}
    return tuple({bad[kinds[g]] for g in genes if kinds[g] in bad})


def _integer_gene(x: np.ndarray) -> bool:
    nonzero = x[x != 0]
    return len(nonzero) >= 1 and bool(np.all(nonzero == np.round(nonzero)))


# --- pair_histograms -------------------------------------------------------------------------------------------------


@settings(max_examples=40, **SETTINGS)
@given(data=expressions(), pairs_seed=st.integers(0, 2**16))
def test_pair_histograms_property(data, pairs_seed):
    adata, X, kinds = data
    n = adata.n_vars
    rng = np.random.default_rng(pairs_seed)
    pairs = [(int(a), int(b)) for a, b in rng.integers(0, n, (3, 2)) if a != b] or [(0, 1)]
    names = adata.var_names.tolist()
    named = [(names[a], names[b]) for a, b in pairs]
    expected = _expected_error(X, kinds, sorted({g for p in pairs for g in p}), names)
    before = (set(adata.uns), set(adata.obsm))
    try:
        cnnc.tl.pair_histograms(adata, named, transform="counts")
    except Exception as error:  # noqa: BLE001 - every failure is checked
        assert_our_error(error)
        assert expected, f"refused valid input: {error}"
        assert any(e in str(error) for e in expected), f"expected an error about {expected}, got: {error}"
        assert (set(adata.uns), set(adata.obsm)) == before  # nothing written
        return
    assert not expected, f"accepted input that must be refused ({expected})"
    event("result")
    images = adata.uns["cnnc"]["histograms"]
    assert images.shape == (len(pairs), 32, 32) and np.isfinite(images).all()
    for k, (a, b) in enumerate(pairs):
        np.testing.assert_array_equal(images[k], reference_counts(X[:, a], X[:, b]).T)


# --- predict_interactions --------------------------------------------------------------------------------------------


@settings(max_examples=25, **SETTINGS)
@given(data=expressions(min_genes=3, max_genes=6))
def test_predict_interactions_property(data, tiny_model):
    adata, X, kinds = data
    names = adata.var_names.tolist()
    before = (set(adata.uns), set(adata.varp))
    expected = _expected_error(X, kinds, list(range(adata.n_vars)), names, min_cells=20)
    try:
        cnnc.tl.predict_interactions(
            adata, model=tiny_model, tfs=[names[0]], settings=cnnc.tl.ScoringSettings(min_cells=0)
        )
    except Exception as error:  # noqa: BLE001 - every failure is checked
        assert_our_error(error)
        if "raw counts" in str(error):  # some gene's nonzero values are all integers up to 2 or more
            finite = np.where(np.isfinite(X), X, 0.5).astype(np.float64)
            assert any(_integer_gene(finite[:, g]) for g in range(adata.n_vars)), str(error)
        else:
            assert expected, f"refused valid input: {error}"
            assert any(e in str(error) for e in expected), f"expected an error about {expected}, got: {error}"
        assert (set(adata.uns), set(adata.varp)) == before
        return
    assert not expected, f"accepted input that must be refused ({expected})"
    event("result")
    edges = adata.uns["cnnc"]["edges"]
    assert len(edges) == adata.n_vars - 1
    p = edges[["p_none", "p_ab", "p_ba"]].to_numpy()
    assert np.isfinite(p).all() and np.isfinite(edges["score"]).all()
    np.testing.assert_allclose(p.sum(1), 1, atol=1e-5)
    assert (edges["score"].diff().dropna() <= 0).all()
    idle = {names[g] for g, kind in enumerate(kinds) if kind in ("zero", "constant")}
    varied_x = np.asarray(X, dtype=np.float64)
    idle |= {names[g] for g in range(adata.n_vars) if np.ptp(varied_x[:, g]) == 0}
    no_evidence = edges["regulator"].isin(idle) | edges["target"].isin(idle)
    assert (edges.loc[no_evidence, "score"] == 0).all() and (edges.loc[no_evidence, "p_none"] == 1).all()
    assert adata.varp["cnnc"].max() <= 1


# --- train -------------------------------------------------------------------------------------------------------


@settings(max_examples=8, **SETTINGS)
@given(
    data=expressions(min_cells=15, max_cells=60, min_genes=4, max_genes=7, kinds=["varied", "varied", "zero"]),
    edge_seed=st.integers(0, 2**16),
    n_edges=st.integers(1, 8),
    labelled=st.booleans(),
)
def test_train_property(data, edge_seed, n_edges, labelled):
    adata, X, kinds = data
    names = adata.var_names.tolist()
    rng = np.random.default_rng(edge_seed)
    edges = pd.DataFrame({"regulator": rng.choice(names, n_edges), "target": rng.choice(names, n_edges)}, dtype=object)
    if labelled:
        edges["label"] = rng.integers(0, 3, n_edges)
    torch.set_num_threads(1)
    try:
        model = cnnc.tl.train(
            adata,
            edges,
            folds=0,
            epochs=1,
            architecture={"filters": [2, 2, 2], "dense": 4},
            seed=0,
            recipe="cnnc-original",
        )
    except Exception as error:  # noqa: BLE001 - every failure is checked
        assert_our_error(error)
        return
    event("result")
    assert X.shape[0] >= 20 and len(set(names)) == len(names)
    assert all(bool(torch.isfinite(p).all()) for p in model.module.parameters())
    assert model.spec.training["n_known_edges"] >= 1


# --- evaluate ------------------------------------------------------------------------------------------------------


@settings(max_examples=40, **SETTINGS)
@given(
    n_genes=st.integers(2, 8),
    seed=st.integers(0, 2**16),
    n_truth=st.integers(0, 8),
    scores=st.sampled_from(["uniform", "ties", "nan", "inf"]),
    duplicated=st.sampled_from([False, False, False, True]),
)
def test_evaluate_property(n_genes, seed, n_truth, scores, duplicated):
    rng = np.random.default_rng(seed)
    names = [f"G{i}" for i in range(n_genes)]
    adata = ad.AnnData(np.zeros((3, n_genes)))
    adata.var_names = names
    regs = names[: max(1, n_genes // 3)]
    pairs = [(r, t) for r in regs for t in names if r != t]
    score = {"uniform": rng.random(len(pairs)), "ties": np.full(len(pairs), 0.5)}.get(scores)
    if score is None:
        score = rng.random(len(pairs))
        score[rng.integers(0, len(pairs))] = np.nan if scores == "nan" else np.inf
    edges = pd.DataFrame({"regulator": [p[0] for p in pairs], "target": [p[1] for p in pairs], "score": score})
    if duplicated and len(edges):
        edges = pd.concat([edges, edges.iloc[:1]], ignore_index=True)
    adata.uns["cnnc"] = {"edges": edges}
    # ground truth: mostly edges of the scored regulators (names in any case), some of other genes
    truth = [(str(rng.choice(regs)).lower(), str(rng.choice(names))) for _ in range(n_truth)]
    truth += [(names[i], names[j]) for i, j in rng.integers(0, n_genes, (n_truth // 3, 2))]
    try:
        metrics = cnnc.tl.evaluate(adata, truth)
    except Exception as error:  # noqa: BLE001 - every failure is checked
        assert_our_error(error)
        assert set(adata.uns["cnnc"]) == {"edges"}
        return
    event("result")
    assert not duplicated  # a pair listed twice is refused; a NaN score only when the pair is a candidate
    assert np.isfinite(metrics[["auroc", "auprc", "epr"]].to_numpy(dtype=float)).all()
    row = metrics.loc["all"]
    assert 0 <= row["auroc"] <= 1 and 0 < row["positive_rate"] < 1
    assert 0 < row["auprc"] <= 1 and row["n_positive"] >= 1
