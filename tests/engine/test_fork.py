"""Fork safety: pair images in a child forked from a process that already computed some (multiprocessing's fork)."""

from __future__ import annotations

import multiprocessing
import sys

import numpy as np
import pytest
from anndata import AnnData

import cnnc
from cnnc._engine._threads import parallel_allowed

pytestmark = pytest.mark.skipif(sys.platform != "linux", reason="the fork start method is Linux's default")


def _adata(seed: int = 0) -> AnnData:
    rng = np.random.default_rng(seed)
    X = np.log1p(rng.gamma(1.0, 3.0, (300, 6)) * (rng.random((300, 6)) < 0.5)).astype(np.float32)
    adata = AnnData(X)
    adata.var_names = [f"g{i}" for i in range(6)]
    return adata


PAIRS = [("g0", "g1"), ("g2", "g3"), ("g4", "g0")]


def _child(queue) -> None:
    adata = _adata()
    cnnc.tl.pair_histograms(adata, PAIRS)
    cnnc.tl.pair_histograms(adata, PAIRS, chunk_cells=50, key_added="chunked")  # the uncached path too
    queue.put((adata.uns["cnnc"]["histograms"], adata.uns["chunked"]["histograms"], parallel_allowed()))


def test_pair_histograms_in_a_forked_child():
    parent = _adata()
    cnnc.tl.pair_histograms(parent, PAIRS)  # starts numba's thread pool in this process
    ctx = multiprocessing.get_context("fork")
    queue = ctx.Queue()
    child = ctx.Process(target=_child, args=(queue,))
    child.start()
    child.join(120)
    assert child.exitcode == 0, f"the forked child died (exit code {child.exitcode})"
    images, chunked, _ = queue.get(timeout=10)
    np.testing.assert_array_equal(images, parent.uns["cnnc"]["histograms"])
    np.testing.assert_array_equal(chunked, parent.uns["cnnc"]["histograms"])
    assert parallel_allowed()  # the parent keeps its threads


def test_pool_of_forked_workers():
    parent = _adata()
    cnnc.tl.pair_histograms(parent, PAIRS)
    with multiprocessing.get_context("fork").Pool(2) as pool:
        sums = pool.map_async(_sum_of_images, [0, 1, 2]).get(timeout=120)  # a killed worker would hang map()
    assert sums[0] == pytest.approx(float(parent.uns["cnnc"]["histograms"].sum()))


def _sum_of_images(seed: int) -> float:
    adata = _adata(seed)
    cnnc.tl.pair_histograms(adata, PAIRS)
    return float(adata.uns["cnnc"]["histograms"].sum())


def _predict_child(queue) -> None:
    adata = _adata()
    cnnc.tl.predict_interactions(adata, model="cnnc-original", tfs=["g0", "g1"])
    queue.put(adata.uns["cnnc"]["edges"])


def test_predict_interactions_in_a_forked_child():
    # torch's thread pool (GNU OpenMP) hangs in a forked child once the parent used it, unless cnnc makes the child
    # run torch on one thread
    import torch

    threads = torch.get_num_threads()
    torch.set_num_threads(2)
    parent = _adata()
    try:
        cnnc.tl.predict_interactions(parent, model="cnnc-original", tfs=["g0", "g1"])
    finally:
        torch.set_num_threads(threads)
    ctx = multiprocessing.get_context("fork")
    queue = ctx.Queue()
    child = ctx.Process(target=_predict_child, args=(queue,))
    child.start()
    child.join(120)
    if child.exitcode is None:
        child.kill()
    assert child.exitcode == 0, f"the forked child died or hung (exit code {child.exitcode})"
    edges = queue.get(timeout=10)
    np.testing.assert_allclose(edges["score"], parent.uns["cnnc"]["edges"]["score"], atol=1e-6)
