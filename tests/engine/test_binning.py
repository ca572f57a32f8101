"""Per-gene bin edges and codes: numpy.histogram's, computed once per gene."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import sparse

from cnnc._engine._binning import GeneBinner
from cnnc._engine._params import PairImageParams
from cnnc._engine._source import ExpressionSource


def _binner(X, **kwargs) -> GeneBinner:
    chunk = kwargs.pop("chunk_cells", 20_000)
    return GeneBinner(ExpressionSource(X, chunk_cells=chunk), np.arange(X.shape[1]), PairImageParams(), **kwargs)


def _numpy_codes(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Bin index of each value and the edges, as numpy.histogramdd finds them (constant genes: middle edge exact)."""
    lx = np.log10(x + 0.01)
    _, edges = np.histogram(lx, bins=32)
    if lx.min() == lx.max():
        edges[16] = lx[0]  # the recipe's rule: a constant gene always falls in bin 16
    codes = np.searchsorted(edges, lx, side="right") - 1
    codes[lx == edges[-1]] = 31
    return codes, edges


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_edges_and_codes_are_numpys(dtype):
    rng = np.random.default_rng(0)
    X = np.column_stack(
        [
            np.zeros(200),
            np.full(200, 0.7),
            rng.gamma(1.0, 1.0, 200),
            np.where(rng.random(200) < 0.1, rng.gamma(1.0, 1.0, 200), 0),
            np.where(rng.random(200) < 0.5, 4.0, 0),
        ]
    ).astype(dtype)
    binner = _binner(sparse.csr_matrix(X), chunk_cells=33)
    codes = binner.codes()
    assert codes.dtype == np.uint8 and codes.shape == X.shape
    for g in range(X.shape[1]):
        expected_codes, expected_edges = _numpy_codes(X[:, g])
        assert expected_edges.dtype == dtype
        np.testing.assert_array_equal(binner.edges[g], expected_edges.astype(np.float64))
        np.testing.assert_array_equal(codes[:, g], expected_codes)
    # constant and all-zero genes: everything in bin 16 (numpy 2.4 puts float32 0.7 in bin 15; the recipe does not)
    assert (codes[:, 0] == 16).all() and (codes[:, 1] == 16).all()
    marginals = sum(block.marginals for block in binner.blocks())  # what the kernel reads per block of cells
    np.testing.assert_array_equal(marginals, [np.bincount(c, minlength=32) for c in codes.T])


def test_zero_code_is_the_bin_of_zero():
    rng = np.random.default_rng(1)
    X = np.where(rng.random((100, 4)) < 0.3, rng.gamma(1.0, 1.0, (100, 4)), 0.0)
    X[:, 3] += 0.2  # no zeros: zero falls below the range, but its code is never used
    binner = _binner(X)
    for g in range(3):
        assert binner.zero_code[g] == _numpy_codes(X[:, g])[0][X[:, g] == 0][0]
    np.testing.assert_array_equal(binner.nnz, (X != 0).sum(0))


def test_codes_direct_guess_equals_searchsorted_on_dense_values():
    # Many values sitting exactly on or next to bin edges.
    edges = np.linspace(np.log10(0.01), np.log10(8.01), 33)
    values = np.concatenate([10**edges - 0.01, np.nextafter(10**edges - 0.01, 0), np.nextafter(10**edges - 0.01, 99)])
    values = np.clip(values, 0, 8.0)
    X = values[:, None]
    codes = _binner(X).codes()[:, 0]
    np.testing.assert_array_equal(codes, _numpy_codes(values)[0])


@pytest.mark.parametrize(
    ("value", "match"),
    [(np.nan, "NaN or infinite"), (np.inf, "NaN or infinite"), (-0.5, "negative values")],
)
@pytest.mark.parametrize("fmt", ["dense", "csr"])
def test_bad_values_name_the_gene(value, match, fmt):
    X = np.ones((10, 3))
    X[4, 1] = value
    M = X if fmt == "dense" else sparse.csr_matrix(X)
    source = ExpressionSource(M, chunk_cells=3)
    with pytest.raises(ValueError, match=match) as err:
        GeneBinner(source, np.arange(3), PairImageParams(), gene_names=["A", "B", "C"])
    assert "'B'" in str(err.value)


def test_no_cells_and_bad_source():
    with pytest.raises(ValueError, match="no cells"):
        _binner(np.zeros((0, 3)))
    with pytest.raises(ValueError, match="2-d"):
        ExpressionSource(np.zeros(3))
    with pytest.raises(ValueError, match="chunk_cells"):
        ExpressionSource(np.zeros((3, 3)), chunk_cells=0)
    with pytest.raises(TypeError, match="numeric"):
        ExpressionSource(np.array([["a", "b"]]))


def test_cache_limit_switches_to_streaming():
    X = sparse.random(500, 20, density=0.2, random_state=0, format="csr")
    cached = _binner(X, chunk_cells=100)
    streamed = _binner(X, chunk_cells=100, cache_bytes=10)
    assert cached.cached and not streamed.cached
    assert len(list(streamed.blocks())) == 5 and len(list(cached.blocks())) == 1
    np.testing.assert_array_equal(cached.codes(), streamed.codes())


@pytest.mark.parametrize("dtype", [np.float16, np.float32, np.float64, np.int64])
@pytest.mark.parametrize("bins", [32, 31, 8])
def test_constant_gene_always_in_the_middle_bin(dtype, bins):
    # Whatever the value, dtype and numpy version, a constant gene's cells fall in bin bins // 2 (documented rule):
    # numpy's own answer moves between bins // 2 and bins // 2 - 1 with float rounding.
    values = np.array([0.0, 0.7, 1.0, 3.3, 1e-9, 2.0, 0.01, 7.5, 100.0, 12345.0])
    values = np.round(values) if dtype == np.int64 else values
    X = np.repeat(values[None, :], 7, axis=0).astype(dtype)
    binner = GeneBinner(ExpressionSource(X), np.arange(X.shape[1]), PairImageParams(bins=bins))
    codes = binner.codes()
    assert (codes == bins // 2).all(), {float(v): int(c) for v, c in zip(values, codes[0], strict=True)}
    assert (binner.zero_code[values == 0] == bins // 2).all()
    assert (np.diff(binner.edges, axis=1) > 0).all()


def test_constant_gene_bin_with_zeros_is_numpys():
    # A gene with zeros and one other value is not constant: numpy's bins apply unchanged.
    X = np.zeros((10, 1), dtype=np.float32)
    X[::2] = 0.7
    expected, _ = _numpy_codes(X[:, 0])
    np.testing.assert_array_equal(_binner(X).codes()[:, 0], expected)
