from __future__ import annotations

import anndata as ad
import dask.array as da
import mudata as md
import numpy as np
import pandas as pd
import pytest
import scanpy as sc
from scipy import sparse

import cnnc
from cnnc.tl import pair_histograms


def reference_counts(xa, xb, bins=32):
    return np.histogram2d(np.log10(xa + 0.01), np.log10(xb + 0.01), bins=bins)[0]


def reference_image(xa, xb):
    """CNNC's pixels, cast to float32 as stored."""
    return ((np.log10(reference_counts(xa, xb).T / len(xa) + 10**-4) + 4) / 4).astype(np.float32)


def numpy_codes(x):
    lx = np.log10(x + 0.01)
    _, edges = np.histogram(lx, bins=32)
    codes = np.searchsorted(edges, lx, side="right") - 1
    codes[lx == edges[-1]] = 31
    return codes


def column(adata_or_matrix, j):
    x = adata_or_matrix[:, j]
    return np.asarray(x.toarray() if sparse.issparse(x) else x).ravel()


@pytest.fixture(scope="module")
def pbmc_raw() -> ad.AnnData:
    return sc.datasets.pbmc68k_reduced()


@pytest.fixture
def pbmc(pbmc_raw) -> ad.AnnData:
    return pbmc_raw.copy()


@pytest.fixture
def small() -> ad.AnnData:
    rng = np.random.default_rng(0)
    genes = ["Sox2", "Pou5f1", "Nanog", "Gata6", "Actb", "Zero"]
    rates = np.array([0.3, 0.5, 0.1, 0.05, 1.0, 0.0])
    X = (rng.random((150, 6)) < rates) * np.log1p(rng.poisson(rng.gamma(2.0, 2.0, (150, 6))) + 1.0)
    adata = ad.AnnData(sparse.csr_matrix(X.astype(np.float32)), var=pd.DataFrame(index=genes))
    adata.obs_names = [f"cell{i}" for i in range(150)]
    adata.layers["doubled"] = adata.X * 2
    return adata


PBMC_PAIRS = [("SPI1", "FCGR3A"), ("GATA3", "CD3E"), ("CD3D", "MS4A1"), ("S100A8", "S100A9"), ("LYZ", "CST3")]


def test_pbmc_default_uses_raw_and_matches_numpy(pbmc):
    assert pair_histograms(pbmc, PBMC_PAIRS) is None
    store = pbmc.uns["cnnc"]
    assert set(store) == {"pairs", "histograms", "genes", "bin_edges", "params"}
    assert store["pairs"].columns.tolist() == ["gene_a", "gene_b"]
    assert store["pairs"].to_numpy().tolist() == [list(p) for p in PBMC_PAIRS]
    pd.testing.assert_index_equal(store["pairs"].index, pd.RangeIndex(5))  # row i labels image i
    assert store["histograms"].shape == (5, 32, 32) and store["histograms"].dtype == np.float32
    assert store["params"]["expression"] == "raw" and store["params"]["n_cells"] == 700
    raw = pbmc.raw.to_adata()
    for k, (a, b) in enumerate(PBMC_PAIRS):
        xa, xb = column(raw[:, a].X, 0), column(raw[:, b].X, 0)
        np.testing.assert_array_equal(store["histograms"][k], reference_image(xa, xb))
    bins = pbmc.obsm["cnnc_bins"]
    assert isinstance(bins, pd.DataFrame) and (bins.index == pbmc.obs_names).all()
    assert set(bins.columns) == set(store["genes"]) and (bins.dtypes == np.uint8).all()
    for g in bins.columns:
        np.testing.assert_array_equal(bins[g].to_numpy(), numpy_codes(column(raw[:, g].X, 0)))
    for g, edges in zip(store["genes"], store["bin_edges"], strict=True):
        expected = np.histogram(np.log10(column(raw[:, g].X, 0) + 0.01), bins=32)[1]
        np.testing.assert_array_equal(edges, expected)


def test_scaled_x_is_refused_and_adata_unchanged(pbmc):
    before = (set(pbmc.uns), set(pbmc.obsm))
    with pytest.raises(ValueError, match="negative values.*use_raw=True"):
        pair_histograms(pbmc, PBMC_PAIRS, use_raw=False)
    assert (set(pbmc.uns), set(pbmc.obsm)) == before


def test_counts_transform_and_layer(small):
    pairs = [("Sox2", "Pou5f1"), ("Nanog", "Zero"), ("Actb", "Gata6"), ("Zero", "Actb")]
    pair_histograms(small, pairs, layer="doubled", transform="counts", key_added="dbl")
    store = small.uns["dbl"]
    assert store["params"]["layer"] == "doubled" and store["params"]["expression"] == "layer 'doubled'"
    X = small.layers["doubled"].toarray()
    for k, (a, b) in enumerate(pairs):
        ia, ib = small.var_names.get_loc(a), small.var_names.get_loc(b)
        np.testing.assert_array_equal(store["histograms"][k], reference_counts(X[:, ia], X[:, ib]).T)
    assert "dbl_bins" in small.obsm and "cnnc" not in small.uns


def test_case_insensitive_names_and_dataframe_pairs(small):
    frame = pd.DataFrame({"regulator": ["sox2", "NANOG"], "target": ["pou5f1", "actb"], "label": [1, 0]})
    pair_histograms(small, frame, store_bins=False)
    store = small.uns["cnnc"]
    assert store["pairs"].to_numpy().tolist() == [["Sox2", "Pou5f1"], ["Nanog", "Actb"]]
    assert "cnnc_bins" not in small.obsm


def test_copy_returns_new_object_and_leaves_input(small):
    before = (set(small.uns), set(small.obsm), small.X.copy())
    out = pair_histograms(small, [("Sox2", "Nanog")], copy=True)
    assert out is not small and isinstance(out, ad.AnnData)
    assert "cnnc" in out.uns and "cnnc_bins" in out.obsm
    assert (set(small.uns), set(small.obsm)) == before[:2]
    assert (small.X != before[2]).nnz == 0


def test_chunked_and_dense_give_same_result(small):
    reference = pair_histograms(small, [("Sox2", "Nanog"), ("Actb", "Gata6")], copy=True)
    dense = small.copy()
    dense.X = dense.X.toarray()
    chunked = pair_histograms(dense, [("Sox2", "Nanog"), ("Actb", "Gata6")], chunk_cells=7, copy=True)
    np.testing.assert_array_equal(chunked.uns["cnnc"]["histograms"], reference.uns["cnnc"]["histograms"])
    pd.testing.assert_frame_equal(chunked.obsm["cnnc_bins"], reference.obsm["cnnc_bins"])


def _assert_same_store(a: dict, b: dict) -> None:
    assert set(a) == set(b)
    pd.testing.assert_frame_equal(a["pairs"], b["pairs"])
    for key in ("histograms", "bin_edges"):
        assert a[key].dtype == b[key].dtype
        np.testing.assert_array_equal(a[key], b[key])
    assert list(a["genes"]) == list(b["genes"])
    assert set(a["params"]) == set(b["params"])
    for key, value in a["params"].items():
        restored = b["params"][key]
        if value is None:
            assert restored is None, key
        elif isinstance(value, list):
            assert list(restored) == value, key
        else:
            assert restored == value, key


def test_h5ad_round_trip(small, tmp_path):
    pair_histograms(small, [("Sox2", "Nanog"), ("Gata6", "Actb")])
    path = tmp_path / "pairs.h5ad"
    small.write_h5ad(path)
    back = ad.read_h5ad(path)
    _assert_same_store(small.uns["cnnc"], back.uns["cnnc"])
    pd.testing.assert_frame_equal(small.obsm["cnnc_bins"], back.obsm["cnnc_bins"])
    # the stored parameters rebuild the recipe
    from cnnc._engine._params import PairImageParams

    params = back.uns["cnnc"]["params"]
    assert PairImageParams.from_dict({k: params[k] for k in PairImageParams.__dataclass_fields__}) == PairImageParams()


@pytest.mark.parametrize("sparse_x", [False, True])
def test_backed_anndata(small, tmp_path, sparse_x):
    if not sparse_x:
        small.X = small.X.toarray()
    del small.layers["doubled"]
    path = tmp_path / "backed.h5ad"
    small.write_h5ad(path)
    backed = ad.read_h5ad(path, backed="r")
    try:
        pair_histograms(backed, [("Sox2", "Nanog"), ("Gata6", "Actb")], chunk_cells=40)
        expected = pair_histograms(small, [("Sox2", "Nanog"), ("Gata6", "Actb")], copy=True)
        np.testing.assert_array_equal(backed.uns["cnnc"]["histograms"], expected.uns["cnnc"]["histograms"])
        pd.testing.assert_frame_equal(backed.obsm["cnnc_bins"], expected.obsm["cnnc_bins"])
    finally:
        backed.file.close()


def test_dask_x(small):
    lazy = small.copy()
    lazy.X = da.from_array(small.X.toarray(), chunks=(40, 3))
    pair_histograms(lazy, [("Sox2", "Nanog")])
    expected = pair_histograms(small, [("Sox2", "Nanog")], copy=True)
    np.testing.assert_array_equal(lazy.uns["cnnc"]["histograms"], expected.uns["cnnc"]["histograms"])


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"pairs": [("Sox2", "Nanogg")]}, KeyError, r"'Nanogg' is not in X var_names\. Did you mean \['Nanog'\]"),
        ({"pairs": []}, ValueError, "pair list is empty"),
        ({"pairs": [("Sox2", "sox2")]}, ValueError, "with itself"),
        ({"pairs": [("Sox2", "Nanog")], "layer": "missing"}, KeyError, "Layer 'missing' not found.*doubled"),
        ({"pairs": [("Sox2", "Nanog")], "layer": "doubled", "use_raw": True}, ValueError, "layer.*use_raw"),
        ({"pairs": [("Sox2", "Nanog")], "use_raw": True}, ValueError, "adata.raw is None"),
        ({"pairs": [("Sox2", "Nanog")], "mod": "rna"}, ValueError, "only for MuData"),
        ({"pairs": [("Sox2", "Nanog", "x")]}, ValueError, "tuple"),
        ({"pairs": [("Sox2", "Nanog")], "bins": 300}, ValueError, "bins"),
        ({"pairs": [("Sox2", "Nanog")], "transform": "sqrt"}, ValueError, "transform"),
    ],
)
def test_bad_input_is_refused_and_adata_unchanged(small, kwargs, error, match):
    before = (set(small.uns), set(small.obsm))
    with pytest.raises(error, match=match):
        pair_histograms(small, **kwargs)
    assert (set(small.uns), set(small.obsm)) == before


@pytest.mark.parametrize("value", [np.nan, np.inf, -1.0])
def test_bad_values_refused(small, value):
    X = small.X.toarray()
    X[3, small.var_names.get_loc("Gata6")] = value
    small.X = sparse.csr_matrix(X)
    before = (set(small.uns), set(small.obsm))
    with pytest.raises(ValueError, match="'Gata6'"):
        pair_histograms(small, [("Sox2", "Gata6")])
    assert (set(small.uns), set(small.obsm)) == before
    pair_histograms(small, [("Sox2", "Nanog")])  # other genes are fine


def test_duplicated_var_names_refused(small):
    small.var_names = ["Sox2", "Sox2", "Nanog", "Gata6", "Actb", "Zero"]
    with pytest.raises(ValueError, match="not unique.*var_names_make_unique"):
        pair_histograms(small, [("Nanog", "Gata6")])
    assert "cnnc" not in small.uns


def test_prefix_suggestions(pbmc):
    with pytest.raises(KeyError, match=r"'CD3' is not in raw var_names\. Did you mean") as err:
        pair_histograms(pbmc, [("CD3", "SPI1")])
    assert all(f"'{g}'" in str(err.value) for g in ("CD3D", "CD3E", "CD3G"))


@pytest.fixture
def mdata() -> md.MuData:
    rng = np.random.default_rng(1)
    rna_cells = [f"c{i}" for i in range(0, 80)]
    prot_cells = [f"c{i}" for i in range(30, 120)]
    rna = ad.AnnData(
        ((rng.random((80, 4)) < 0.4) * rng.gamma(2.0, 1.0, (80, 4))).astype(np.float32),
        obs=pd.DataFrame(index=rna_cells),
        var=pd.DataFrame(index=["Cd3e", "Cd4", "Ms4a1", "Zero"]),
    )
    rna.X[:, 3] = 0
    prot = ad.AnnData(
        np.log1p(rng.gamma(3.0, 20.0, (90, 2))).astype(np.float32),
        obs=pd.DataFrame(index=prot_cells),
        var=pd.DataFrame(index=["CD3", "CD4"]),
    )
    with md.set_options(pull_on_update=False):
        return md.MuData({"rna": rna, "prot": prot})


def test_mudata_one_modality(mdata):
    pair_histograms(mdata, [("Cd3e", "Cd4"), ("Ms4a1", "Zero")], mod="rna")
    store = mdata.uns["cnnc"]
    rna = mdata.mod["rna"]
    for k, (a, b) in enumerate([("Cd3e", "Cd4"), ("Ms4a1", "Zero")]):
        np.testing.assert_array_equal(store["histograms"][k], reference_image(rna[:, a].X.ravel(), rna[:, b].X.ravel()))
    bins = mdata.obsm["cnnc_bins"]
    assert bins.shape == (mdata.n_obs, 4)
    in_rna = mdata.obs_names.isin(rna.obs_names)
    assert (bins.loc[~in_rna] == 255).all().all() and (bins.loc[in_rna] < 32).all().all()


def test_mudata_protein_with_rna_over_common_cells(mdata):
    pairs = [("CD3", "Cd3e"), ("CD4", "Cd4"), ("CD3", "Zero")]
    pair_histograms(mdata, pairs, mod=("prot", "rna"))
    store = mdata.uns["cnnc"]
    common = mdata.mod["prot"].obs_names.intersection(mdata.mod["rna"].obs_names)
    assert len(common) == 50 and store["params"]["n_cells"] == 50
    assert store["params"]["mod"] == ["prot", "rna"]
    for k, (a, b) in enumerate(pairs):
        xa = mdata.mod["prot"][common, a].X.ravel()
        xb = mdata.mod["rna"][common, b].X.ravel()
        np.testing.assert_array_equal(store["histograms"][k], reference_image(xa, xb))
    assert list(store["genes"]) == ["prot:CD3", "prot:CD4", "rna:Cd3e", "rna:Cd4", "rna:Zero"]
    bins = mdata.obsm["cnnc_bins"]
    in_both = mdata.obs_names.isin(common)
    assert (bins.loc[~in_both] == 255).all().all()
    np.testing.assert_array_equal(bins.loc[common, "prot:CD3"], numpy_codes(mdata.mod["prot"][common, "CD3"].X.ravel()))


def test_mudata_needs_mod_and_known_modality(mdata):
    with pytest.raises(ValueError, match=r"needs `mod=`.*\['rna', 'prot'\]"):
        pair_histograms(mdata, [("Cd3e", "Cd4")])
    with pytest.raises(KeyError, match="Modality 'atac' not in the MuData"):
        pair_histograms(mdata, [("Cd3e", "Cd4")], mod="atac")
    with pytest.raises(KeyError, match="'Cd3e' is not in modality 'prot'"):
        pair_histograms(mdata, [("Cd3e", "Cd4")], mod=("prot", "rna"))
    assert "cnnc" not in mdata.uns and "cnnc_bins" not in mdata.obsm


def test_beeline_200_random_pairs_bit_identical(shared_data):
    path = shared_data / "beeline-genelink" / "Specific" / "mESC" / "TFs+500" / "BL--ExpressionData.csv.gz"
    expression = pd.read_csv(path, index_col=0).T  # genes × cells on disk
    adata = ad.AnnData(expression.to_numpy(), obs=pd.DataFrame(index=expression.index))
    adata.var_names = expression.columns
    X = expression.to_numpy()
    assert X.dtype == np.float64 and X.shape == (421, 1120)
    rng = np.random.default_rng(2024)
    ia = rng.integers(0, X.shape[1], 200)
    ib = (ia + rng.integers(1, X.shape[1], 200)) % X.shape[1]
    pairs = list(zip(adata.var_names[ia], adata.var_names[ib], strict=True))
    counts = pair_histograms(adata, pairs, transform="counts", copy=True).uns["cnnc"]["histograms"]
    pair_histograms(adata, pairs)
    images = adata.uns["cnnc"]["histograms"]
    for k in range(200):
        xa, xb = X[:, ia[k]], X[:, ib[k]]
        assert np.array_equal(counts[k], reference_counts(xa, xb).T), pairs[k]
        np.testing.assert_array_equal(images[k], reference_image(xa, xb))


def test_public_namespace():
    assert cnnc.tl.pair_histograms is pair_histograms


@pytest.mark.parametrize("form", ["tuples", "lists", "frame", "array"])
def test_every_pair_form_and_gene_extremes_match_numpy(small, form):
    # Genes expressed in every cell (Actb), in none (Zero) and in few (Gata6), in every pair form the reader takes.
    names = list(small.var_names)
    pairs = [(a, b) for a in names for b in names if a != b]
    given = {
        "tuples": pairs,
        "lists": [list(p) for p in pairs],
        "frame": pd.DataFrame(pairs, columns=["regulator", "target"]),
        "array": np.array(pairs),
    }[form]
    pair_histograms(small, given, store_bins=False)
    stored = small.uns["cnnc"]
    assert stored["pairs"][["gene_a", "gene_b"]].values.tolist() == [list(p) for p in pairs]
    X = small.X.toarray()
    for k, (a, b) in enumerate(pairs):
        xa, xb = X[:, names.index(a)], X[:, names.index(b)]
        if "Zero" in (a, b):  # all cells of a gene that never varies are in bin 16 (the recipe's rule)
            other = xb if a == "Zero" else xa
            counts = np.histogram(np.log10(other + np.float32(0.01)), bins=32)[0]
            line = stored["histograms"][k][:, 16] if a == "Zero" else stored["histograms"][k][16]
            expected = ((np.log10(counts / len(other) + 10**-4) + 4) / 4).astype(np.float32)
            np.testing.assert_array_equal(line, expected, err_msg=f"({a}, {b})")
            assert stored["histograms"][k].sum() == pytest.approx(line.sum())
        else:
            np.testing.assert_array_equal(stored["histograms"][k], reference_image(xa, xb), err_msg=f"({a}, {b})")


def test_one_cell():
    adata = ad.AnnData(
        sparse.csr_matrix(np.array([[0.0, 1.5, 3.0]], dtype=np.float32)), var=pd.DataFrame(index=["a", "b", "c"])
    )
    pair_histograms(adata, [("a", "b"), ("b", "c"), ("c", "a")])
    images = adata.uns["cnnc"]["histograms"]
    assert images.shape == (3, 32, 32)
    for image in images:  # every gene is constant over one cell: the cell sits at (16, 16), the whole density
        assert image[16, 16] == np.float32((np.log10(1 + 10**-4) + 4) / 4)
        assert np.count_nonzero(image) == 1
    assert (adata.obsm["cnnc_bins"].to_numpy() == 16).all()
