"""The engine's counts and pixels against numpy.histogram2d, pair by pair, on awkward matrices."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import sparse

from cnnc._engine._images import PairImager
from cnnc._engine._params import PairImageParams
from cnnc._engine._transform import count_lookup

BINS = 32


def reference_counts(xa: np.ndarray, xb: np.ndarray, bins: int = BINS, pseudocount: float = 0.01) -> np.ndarray:
    """CNNC's histogram: numpy on the genes' own values (their own dtype), each gene over its own range.

    A constant gene's range is widened by 0.5 each side as numpy does, with the middle edge exactly its value
    (the recipe's rule: its cells always fall in bin ``bins // 2``, whatever numpy's rounding).
    """
    la, lb = np.log10(xa + pseudocount), np.log10(xb + pseudocount)
    return np.histogram2d(la, lb, bins=[_bins_of(la, bins), _bins_of(lb, bins)])[0]


def _bins_of(lx: np.ndarray, bins: int):
    if lx.min() != lx.max():
        return bins
    _, edges = np.histogram(lx, bins=bins)
    if bins % 2 == 0:
        edges[bins // 2] = lx[0]
    return edges


def reference_image(xa: np.ndarray, xb: np.ndarray) -> np.ndarray:
    """CNNC's pixels: (log10(H.T / N + 1e-4) + 4) / 4."""
    return (np.log10(reference_counts(xa, xb).T / xa.shape[0] + 10**-4) + 4) / 4


def awkward_matrix(n_cells: int = 300, seed: int = 0) -> np.ndarray:
    """Cells × genes covering the cases that break naive binning."""
    rng = np.random.default_rng(seed)
    cols = {
        "all_zero": np.zeros(n_cells),
        "constant": np.full(n_cells, 3.3),
        "no_zeros": rng.gamma(1.0, 1.0, n_cells) + 0.5,
        "sparse_30": np.where(rng.random(n_cells) < 0.3, rng.gamma(1.0, 1.0, n_cells), 0.0),
        "ties_at_max": np.where(
            rng.random(n_cells) < 0.5, 5.0, rng.random(n_cells) * 5.0 * (rng.random(n_cells) < 0.5)
        ),
        "tiny": np.where(rng.random(n_cells) < 0.2, 1e-12, 0.0),
        "huge": np.where(rng.random(n_cells) < 0.2, 1e30 * rng.random(n_cells), 0.0),
        "integers": rng.integers(0, 4, n_cells).astype(float),
        "rare": np.where(rng.random(n_cells) < 0.03, rng.random(n_cells), 0.0),
        "dense_90": np.where(rng.random(n_cells) < 0.9, rng.random(n_cells) * 10, 0.0),
        "single_nonzero": np.eye(1, n_cells, n_cells // 2).ravel() * 2.0,
        "two_values": np.where(rng.random(n_cells) < 0.5, 1e-3, 2e-3),
        "on_edges": np.round(rng.random(n_cells) * 8) / 8 * (rng.random(n_cells) < 0.6),
        "constant_tiny": np.full(n_cells, 1e-9),
    }
    return np.column_stack(list(cols.values()))


def all_pairs(n_genes: int) -> tuple[np.ndarray, np.ndarray]:
    a, b = np.array([(i, j) for i in range(n_genes) for j in range(n_genes) if i != j]).T
    return a, b


def assert_matches_numpy(X: np.ndarray, counts: np.ndarray, images: np.ndarray, a, b) -> None:
    for k in range(len(a)):
        xa, xb = X[:, a[k]], X[:, b[k]]
        expected = reference_counts(xa, xb)
        assert np.array_equal(counts[k], expected), f"counts of pair ({a[k]}, {b[k]}) differ from numpy"
        np.testing.assert_allclose(images[k], reference_image(xa, xb), rtol=0, atol=2e-7, err_msg=f"({a[k]}, {b[k]})")


@pytest.mark.parametrize("dtype", [np.float64, np.float32, np.int64])
@pytest.mark.parametrize("fmt", ["dense", "csr", "csc"])
def test_every_pair_bit_identical_to_numpy(dtype, fmt):
    X = np.round(awkward_matrix() % 50).astype(np.int64) if dtype == np.int64 else awkward_matrix().astype(dtype)
    M = {"dense": X, "csr": sparse.csr_matrix(X), "csc": sparse.csc_matrix(X)}[fmt]
    a, b = all_pairs(X.shape[1])
    imager = PairImager(M, np.arange(X.shape[1]))
    counts = imager.counts(a, b)
    images = imager.images(a, b)
    assert counts.dtype == np.int32 and images.dtype == np.float32
    assert counts.shape == images.shape == (len(a), BINS, BINS)
    assert_matches_numpy(X, counts, images, a, b)


@pytest.mark.parametrize("chunk_cells", [1, 7, 64, 299, 300, 10_000])
@pytest.mark.parametrize("cache", [True, False])
def test_chunk_size_and_cache_do_not_change_results(chunk_cells, cache):
    X = awkward_matrix().astype(np.float32)
    a, b = all_pairs(X.shape[1])
    reference = PairImager(X, np.arange(X.shape[1]))
    imager = PairImager(sparse.csr_matrix(X), np.arange(X.shape[1]), chunk_cells=chunk_cells, cache=cache)
    assert imager.binner.cached is cache
    np.testing.assert_array_equal(imager.counts(a, b), reference.counts(a, b))
    np.testing.assert_array_equal(imager.images(a, b), reference.images(a, b))
    np.testing.assert_array_equal(imager.binner.codes(), reference.binner.codes())
    np.testing.assert_array_equal(
        sum(b.marginals for b in imager.binner.blocks()), sum(b.marginals for b in reference.binner.blocks())
    )


def _float32_float64_disagreements() -> np.ndarray:
    """float32 values whose bin differs when log10(x + 0.01) is computed in float32 vs float64 (range 0..5).

    Candidates are the float32 numbers next to each bin edge: rounding decides their bin.
    """
    candidates = []
    for edge in np.linspace(np.log10(0.01), np.log10(5.01), 33)[1:-1]:
        x = np.float32(10**edge - 0.01)
        steps = np.arange(-30, 31)
        candidates.append(x + steps * np.spacing(x))
    v = np.concatenate(candidates).astype(np.float32)
    codes = []
    for dtype in (np.float32, np.float64):
        edges = np.linspace(np.log10(dtype(0) + 0.01), np.log10(dtype(5) + 0.01), 33)
        codes.append(np.searchsorted(edges, np.log10(v.astype(dtype) + 0.01), side="right"))
    return v[codes[0] != codes[1]]


def test_float32_data_binned_in_float32_like_numpy():
    # log10(x + 0.01) of float32 data is float32 in numpy, and so are histogram2d's edges: a float64 computation
    # puts some values in a neighbouring bin. Plant such values and check the engine follows numpy.
    tricky = _float32_float64_disagreements()
    assert len(tricky) > 5
    rng = np.random.default_rng(4)
    X = np.zeros((300, 3), dtype=np.float32)
    X[0, :] = 5.0
    X[1 : 1 + len(tricky[:50]), 0] = tricky[:50]
    X[:, 1] = (rng.random(300) < 0.5) * rng.random(300).astype(np.float32) * 5
    X[-len(tricky[50:100]) :, 2] = tricky[50:100]
    a, b = all_pairs(3)
    counts = PairImager(X, np.arange(3)).counts(a, b)
    differs_in_float64 = 0
    for k in range(len(a)):
        xa, xb = X[:, a[k]], X[:, b[k]]
        assert np.array_equal(counts[k], reference_counts(xa, xb))
        differs_in_float64 += not np.array_equal(counts[k], reference_counts(xa.astype(float), xb.astype(float)))
    assert differs_in_float64 > 0


def test_one_cell_and_all_genes_constant():
    X = np.array([[0.0, 1.0, 7.5]])
    a, b = all_pairs(3)
    imager = PairImager(X, np.arange(3))
    counts = imager.counts(a, b)
    for k in range(len(a)):
        assert np.array_equal(counts[k], reference_counts(X[:, a[k]], X[:, b[k]]))
    # numpy widens a constant range by 0.5 each side: the value lands in bin 16, or in bin 15 when
    # (c - 0.5) + 16 * (1 / 32) rounds below c, as for c = log10(1.01). The recipe fixes it: always bin 16.
    assert np.histogram(np.log10([1.0 + 0.01]), bins=32)[0][15] == 1  # numpy's rounding, not the recipe's
    assert counts[0, 16, 16] == 1 and counts[0].sum() == 1
    assert counts[1, 16, 16] == 1


def test_constant_and_all_zero_genes_fill_bin_16():
    X = np.column_stack([np.zeros(50), np.full(50, 2.0), np.arange(50.0)])
    counts = PairImager(X, np.arange(3)).counts(np.array([0, 1, 0]), np.array([2, 2, 1]))
    assert counts[0, 16].sum() == 50 and counts[1, 16].sum() == 50
    assert counts[2, 16, 16] == 50


def test_pairs_in_any_order_and_swapped():
    rng = np.random.default_rng(5)
    X = sparse.random(400, 30, density=0.15, random_state=rng, format="csr", dtype=np.float64) * 8
    imager = PairImager(X, np.arange(30))
    a = rng.integers(0, 30, 500)
    b = (a + rng.integers(1, 30, 500)) % 30
    images = imager.images(a, b)
    swapped = imager.images(b, a)
    np.testing.assert_array_equal(swapped, images.transpose(0, 2, 1))
    for k in rng.choice(500, 20, replace=False):
        np.testing.assert_array_equal(imager.images(a[k : k + 1], b[k : k + 1])[0], images[k])
    np.testing.assert_array_equal(imager.counts(a, b), imager.counts(b, a).transpose(0, 2, 1))


def test_genes_subset_and_repeated_pairs():
    X = awkward_matrix()
    genes = np.array([9, 2, 4])  # columns of X, in any order
    imager = PairImager(X, genes)
    a = np.array([0, 0, 1, 2, 0])
    b = np.array([1, 1, 2, 0, 2])
    counts = imager.counts(a, b)
    for k in range(len(a)):
        assert np.array_equal(counts[k], reference_counts(X[:, genes[a[k]]], X[:, genes[b[k]]]))


def test_empty_pair_list_and_bad_positions():
    imager = PairImager(awkward_matrix(), np.arange(3))
    assert imager.images(np.array([], dtype=int), np.array([], dtype=int)).shape == (0, BINS, BINS)
    with pytest.raises(IndexError, match=r"\[0, 3\)"):
        imager.counts(np.array([0]), np.array([3]))
    with pytest.raises(ValueError, match="same length"):
        imager.counts(np.array([0, 1]), np.array([1]))


@pytest.mark.parametrize("transform", ["cnnc", "density", "counts"])
def test_transforms(transform):
    X = awkward_matrix()
    params = PairImageParams(transform=transform)
    a, b = np.array([2, 3, 8]), np.array([3, 9, 0])
    imager = PairImager(X, np.arange(X.shape[1]), params)
    counts = imager.counts(a, b).astype(np.float64)
    expected = {
        "cnnc": (np.log10(counts / X.shape[0] + 1e-4) + 4) / 4,
        "density": counts / X.shape[0],
        "counts": counts,
    }[transform].transpose(0, 2, 1)
    np.testing.assert_allclose(imager.images(a, b), expected, rtol=1e-6, atol=1e-7)
    lookup = count_lookup(params, X.shape[0])
    np.testing.assert_array_equal(lookup[imager.counts(a, b).transpose(0, 2, 1)], imager.images(a, b))


def test_count_lookup_is_cnnc_formula():
    lookup = count_lookup(PairImageParams(), 1000)
    counts = np.arange(1001)
    np.testing.assert_allclose(lookup, (np.log10(counts / 1000 + 1e-4) + 4) / 4, rtol=0, atol=1e-7)
    assert lookup[0] == 0.0 and abs(lookup[-1] - 1.0) < 1e-4


@pytest.mark.parametrize("bins", [2, 10, 255])
@pytest.mark.parametrize("pseudocount", [1.0, 1e-3])
def test_other_bins_and_pseudocounts(bins, pseudocount):
    X = awkward_matrix(120)
    params = PairImageParams(bins=bins, pseudocount=pseudocount)
    a, b = all_pairs(X.shape[1])
    counts = PairImager(sparse.csc_matrix(X), np.arange(X.shape[1]), params).counts(a, b)
    for k in range(len(a)):
        expected = reference_counts(X[:, a[k]], X[:, b[k]], bins=bins, pseudocount=pseudocount)
        assert np.array_equal(counts[k], expected)


def test_random_sparse_matrices_many_seeds():
    for seed in range(8):
        rng = np.random.default_rng(seed)
        n_cells, n_genes = int(rng.integers(1, 700)), 12
        rates = np.clip(rng.lognormal(np.log(0.1), 1.0, n_genes), 0, 1)
        X = (rng.random((n_cells, n_genes)) < rates) * np.log1p(rng.poisson(rng.gamma(1.5, 2.0, (n_cells, n_genes))))
        X = X.astype(np.float32 if seed % 2 else np.float64)
        a, b = all_pairs(n_genes)
        imager = PairImager(sparse.csr_matrix(X), np.arange(n_genes), chunk_cells=int(rng.integers(1, 800)))
        assert_matches_numpy(X, imager.counts(a, b), imager.images(a, b), a, b)


def test_rows_of_empty_bins_are_left_zero_only_when_zero_counts_map_to_zero():
    # Image rows of bins of gene b that hold no cell are not written (the zeroed output has them); a lookup whose
    # zero count is not 0 must have every pixel written.
    from cnnc._engine._kernel import pair_images

    X = awkward_matrix()
    a, b = all_pairs(X.shape[1])
    imager = PairImager(X, np.arange(X.shape[1]))
    counts = imager.counts(a, b)
    assert (imager.binner.whole().marginals == 0).any()  # some bins are empty
    lookup = np.linspace(0.5, 1.0, imager.n_cells + 1, dtype=np.float32)
    images = pair_images(imager.binner, a, b, lookup)
    np.testing.assert_array_equal(images, lookup[counts.transpose(0, 2, 1)])
    assert_matches_numpy(X, counts, imager.images(a, b), a, b)


def test_wide_walk_entries_count_the_same():
    # Blocks of more than 2**24 cells hold 8-byte walk entries: the kernel reads them as it reads 4-byte ones.
    from dataclasses import replace

    from cnnc._engine._kernel import _run

    X = awkward_matrix()
    a, b = all_pairs(X.shape[1])
    imager = PairImager(X, np.arange(X.shape[1]))
    block = imager.binner.whole()
    assert block.walk.dtype == np.uint32
    wide = replace(block, walk=block.walk.astype(np.uint64))
    out = np.zeros((len(a), 32, 32), dtype=np.int32)
    _run(wide, imager.binner.zero_code, a, b, np.zeros(1, dtype=np.int32), out, False)
    np.testing.assert_array_equal(out, imager.counts(a, b))


def test_rank_and_standard_views_are_the_channels_of_a_two_view_recipe():

    rng = np.random.default_rng(3)
    x = rng.standard_normal((400, 4))
    x[:, 1] = np.exp(x[:, 0]) + 0.3 * rng.standard_normal(400)
    a, b = np.array([0, 1, 2]), np.array([1, 3, 0])
    both = PairImager(x, np.arange(4), PairImageParams(bins=12, scaling="rank+standard")).images(a, b)
    assert both.shape == (3, 2, 12, 12)
    for channel, view in enumerate(("rank", "standard")):
        one = PairImager(x, np.arange(4), PairImageParams(bins=12, scaling=view)).images(a, b)
        np.testing.assert_array_equal(both[:, channel], one)
    # the pair read the other way is the transpose, in every channel
    back = PairImager(x, np.arange(4), PairImageParams(bins=12, scaling="rank+standard")).images(b, a)
    np.testing.assert_array_equal(back, both.transpose(0, 1, 3, 2))
    assert PairImageParams(scaling="rank+standard").views == ("rank", "standard")
