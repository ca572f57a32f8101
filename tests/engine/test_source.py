"""Every storage the engine reads gives the same pair images: dense, CSR, CSC, backed AnnData, dask."""

from __future__ import annotations

import anndata as ad
import dask.array as da
import numpy as np
import pytest
from scipy import sparse

from cnnc._engine._images import PairImager
from cnnc._engine._params import PairImageParams
from cnnc._engine._source import ExpressionSource, value_dtype


def _data(dtype=np.float32) -> np.ndarray:
    rng = np.random.default_rng(7)
    rates = np.array([0.02, 0.1, 0.5, 0.9, 1.0, 0.0, 0.3, 0.05])
    X = (rng.random((257, 8)) < rates) * np.log1p(rng.poisson(rng.gamma(1.5, 3.0, (257, 8))) + 1.0)
    return X.astype(dtype)


def _pairs():
    return np.array([0, 1, 2, 3, 4, 5, 6, 7, 2]), np.array([1, 2, 3, 4, 5, 6, 7, 0, 6])


def _reference(X):
    a, b = _pairs()
    return np.stack(
        [
            np.histogram2d(np.log10(X[:, i] + 0.01), np.log10(X[:, j] + 0.01), bins=32)[0]
            for i, j in zip(a, b, strict=True)
        ]
    )


def _check(matrix, X, chunk_cells=50):
    a, b = _pairs()
    imager = PairImager(matrix, np.arange(X.shape[1]), chunk_cells=chunk_cells)
    np.testing.assert_array_equal(imager.counts(a, b), _reference(X))
    in_memory = PairImager(X, np.arange(X.shape[1])).images(a, b)
    np.testing.assert_array_equal(imager.images(a, b), in_memory)


@pytest.mark.parametrize("sparse_x", [False, True])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_backed_anndata(tmp_path, sparse_x, dtype):
    X = _data(dtype)
    path = tmp_path / "backed.h5ad"
    ad.AnnData(sparse.csr_matrix(X) if sparse_x else X).write_h5ad(path)
    backed = ad.read_h5ad(path, backed="r")
    try:
        assert backed.isbacked
        assert not isinstance(backed.X, np.ndarray) and not sparse.issparse(backed.X)
        _check(backed.X, X)
    finally:
        backed.file.close()


@pytest.mark.parametrize("kind", ["dense", "sparse_chunks"])
def test_dask(kind):
    X = _data()
    darr = da.from_array(X, chunks=(60, 3))
    if kind == "sparse_chunks":
        darr = darr.map_blocks(sparse.csr_matrix, dtype=X.dtype)
    _check(darr, X)


@pytest.mark.parametrize("fmt", ["csr", "csc", "coo", "csr_array", "csc_array"])
def test_scipy_formats(fmt):
    X = _data()
    M = {
        "csr": sparse.csr_matrix,
        "csc": sparse.csc_matrix,
        "coo": sparse.coo_matrix,
        "csr_array": sparse.csr_array,
        "csc_array": sparse.csc_array,
    }[fmt](X)
    if fmt == "coo":
        M = M.tocsr()
    _check(M, X)


def test_explicit_zeros_and_unsorted_indices_are_ignored():
    X = _data(np.float64)
    csr = sparse.csr_matrix(X)
    # store explicit zeros and shuffle the column order within rows
    rows = np.repeat(np.arange(X.shape[0]), X.shape[1])
    cols = np.tile(np.arange(X.shape[1]), X.shape[0])
    coo = sparse.coo_matrix((X.ravel(), (rows, cols)), shape=X.shape)
    with_zeros = sparse.csr_matrix((coo.data, coo.col, np.arange(0, coo.nnz + 1, X.shape[1])), shape=X.shape)
    assert with_zeros.nnz > csr.nnz
    perm = np.random.default_rng(0).permutation(X.shape[1])
    shuffled = with_zeros.copy()
    for r in range(X.shape[0]):
        lo, hi = shuffled.indptr[r], shuffled.indptr[r + 1]
        shuffled.indices[lo:hi] = shuffled.indices[lo:hi][perm]
        shuffled.data[lo:hi] = shuffled.data[lo:hi][perm]
    shuffled.has_sorted_indices = False
    _check(shuffled, X)


@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.int64])
def test_whole_csr_of_every_column_gives_sorted_nonzero_values(dtype):
    # All cells of all columns go through scipy's transpose: explicit zeros dropped, cells sorted, values exact.
    X = np.round(_data(np.float64) * 3).astype(dtype)
    rows, cols = np.nonzero(np.ones_like(X))
    with_zeros = sparse.csr_matrix((X.ravel(), (rows, cols)), shape=X.shape)  # stores every zero explicitly
    with_zeros.data[with_zeros.data == 0] = 0
    assert with_zeros.has_canonical_format and with_zeros.nnz == X.size > np.count_nonzero(X)
    source = ExpressionSource(with_zeros, chunk_cells=X.shape[0])
    ((first, block),) = list(source.iter_blocks(np.arange(X.shape[1])))
    assert first == 0 and block.dtype == source.storage_dtype and (block.data != 0).all()
    assert all((np.diff(block.indices[block.indptr[g] : block.indptr[g + 1]]) > 0).all() for g in range(X.shape[1]))
    np.testing.assert_array_equal(block.toarray(), X.astype(source.storage_dtype))
    _check(with_zeros, X, chunk_cells=X.shape[0])


def test_blocks_are_exact_values():
    X = _data(np.float32)
    source = ExpressionSource(sparse.csr_matrix(X), chunk_cells=100)
    genes = np.array([3, 0, 6])
    blocks = list(source.iter_blocks(genes))
    assert [first for first, _ in blocks] == [0, 100, 200]
    assert all(b.dtype == np.float32 and (b.data != 0).all() for _, b in blocks)
    np.testing.assert_array_equal(sparse.vstack([b for _, b in blocks]).toarray(), X[:, genes])


def test_value_dtype_follows_numpy():
    for dtype in (np.float16, np.float32, np.float64, np.int32, np.int64, np.uint8, np.bool_):
        assert value_dtype(dtype) == (np.ones(2, dtype) + 0.01).dtype


def test_float16_matches_numpy():
    X = _data(np.float16)
    a, b = _pairs()
    counts = PairImager(X, np.arange(X.shape[1])).counts(a, b)
    np.testing.assert_array_equal(counts, _reference(X))


def test_params_validation_and_round_trip():
    params = PairImageParams(bins=16, pseudocount=1.0, transform="density")
    assert PairImageParams.from_dict(params.to_dict()) == params
    # values read back from h5ad are numpy scalars
    restored = PairImageParams.from_dict({k: np.asarray(v)[()] for k, v in params.to_dict().items()})
    assert restored == params
    assert isinstance(restored.bins, int)
    with pytest.raises(ValueError, match="Unknown pair-image parameters"):
        PairImageParams.from_dict({"bins": 32, "colour": "red"})
    for bad, match in [
        ({"bins": 1}, "bins"),
        ({"bins": 256}, "bins"),
        ({"bins": 3.0}, "bins"),
        ({"pseudocount": 0}, "pseudocount"),
        ({"density_pseudocount": -1}, "density_pseudocount"),
        ({"transform": "sqrt"}, "transform"),
        ({"scaling": "linear"}, "scaling"),
    ]:
        with pytest.raises(ValueError, match=match):
            PairImageParams(**bad)


def test_duplicated_entries_are_summed_like_scipy():
    X = _data(np.float64)
    csr = sparse.csr_matrix(X)
    # every stored value split into two halves stored one after the other in its row
    counts = np.diff(csr.indptr)
    indices = np.repeat(csr.indices, 2)
    data = np.repeat(csr.data / 2, 2)
    doubled = sparse.csr_matrix((data, indices, np.concatenate([[0], np.cumsum(2 * counts)])), shape=X.shape)
    assert doubled.nnz == 2 * csr.nnz and not doubled.has_canonical_format
    for chunk_cells in (100, 1_000):
        source = ExpressionSource(doubled, chunk_cells=chunk_cells)
        got = sparse.vstack([b for _, b in source.iter_blocks(np.arange(X.shape[1]))])
        assert got.nnz == csr.nnz
        np.testing.assert_array_equal(got.toarray(), X)


def test_a_gene_selected_twice():
    X = _data()
    for matrix in (X, sparse.csr_matrix(X), sparse.csc_matrix(X)):
        source = ExpressionSource(matrix, chunk_cells=100)
        genes = np.array([2, 5, 2])
        got = sparse.vstack([b for _, b in source.iter_blocks(genes)]).toarray()
        np.testing.assert_array_equal(got, X[:, genes])
