"""Prediction on a dask.distributed LocalCluster of several worker processes equals prediction in process."""

import os
import signal

import numpy as np
import pandas as pd
import pytest

import cnnc
from cnnc import _scoring
from cnnc._scoring import _cluster

da = pytest.importorskip("dask.array", reason="dask is part of cnnc's test extra")
distributed = pytest.importorskip("distributed", reason="dask.distributed is part of cnnc's test extra")


@pytest.fixture(scope="module")
def client():
    cluster = distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None, silence_logs=40
    )
    with distributed.Client(cluster) as c:
        yield c
    cluster.close()


def _lazy(adata, rows: int = 300):
    out = adata.copy()
    out.X = da.from_array(np.asarray(adata.X), chunks=(rows, adata.n_vars))
    return out


def _edges(adata, key="cnnc"):
    return adata.uns[key]["edges"].set_index(["regulator", "target"]).sort_index()


@pytest.mark.parametrize("model_name", ["tiny", "default"])
def test_cluster_prediction_equals_in_process(gsd, tiny_model, regulators, client, model_name):
    model = tiny_model if model_name == "tiny" else "default"
    here = cnnc.tl.predict_interactions(
        gsd, model=model, tfs=regulators, settings=cnnc.tl.ScoringSettings(distributed=False), copy=True
    )
    lazy = _lazy(gsd)
    cnnc.tl.predict_interactions(lazy, model=model, tfs=regulators)  # auto: a client is active and X is dask
    assert lazy.uns["cnnc"]["params"]["distributed"] is True
    assert here.uns["cnnc"]["params"]["distributed"] is False
    pd.testing.assert_frame_equal(_edges(lazy), _edges(here), atol=1e-6, check_exact=False)
    assert abs(lazy.varp["cnnc"] - here.varp["cnnc"]).max() < 1e-6


def test_cluster_counts_are_exact(gsd, client):
    from cnnc._engine._images import PairImager
    from cnnc._engine._params import PairImageParams

    x = np.asarray(gsd.X)
    genes = np.arange(gsd.n_vars)
    a, b = np.repeat(genes, gsd.n_vars), np.tile(genes, gsd.n_vars)
    params = PairImageParams()
    on_cluster = _scoring.ClusterImager(client, da.from_array(x, chunks=(170, -1)), genes, params)
    np.testing.assert_array_equal(on_cluster.counts(a, b), PairImager(x, genes, params).counts(a, b))
    np.testing.assert_array_equal(on_cluster.images(a, b), PairImager(x, genes, params).images(a, b))


def test_a_worker_lost_mid_run_loses_nothing(gsd, tiny_model, regulators, client, monkeypatch):
    x = np.asarray(gsd.X)
    genes = np.arange(gsd.n_vars)
    a = np.repeat(gsd.var_names.get_indexer(regulators), gsd.n_vars)
    b = np.tile(genes, len(regulators))
    a, b = a[a != b], b[a != b]
    params = tiny_model.spec.image_params
    here = _scoring.score_pairs(_scoring.make_imager(x, genes, params), a, b, tiny_model, batch_size=32)
    monkeypatch.setattr(_cluster, "CLUSTER_IMAGE_BATCH", 32)  # several batches
    monkeypatch.setattr(_cluster, "IN_FLIGHT", 1)
    killed = []

    def kill_a_worker(batch: int) -> None:
        if batch == 1:
            pids = client.run(os.getpid)
            address, pid = sorted(pids.items())[0]
            os.kill(pid, signal.SIGKILL)  # the nanny starts a new worker; the dead one's data are gone
            killed.append(address)

    imager = _scoring.make_imager(da.from_array(x, chunks=(200, -1)), genes, params, client=client)
    there = _scoring.score_pairs(imager, a, b, tiny_model, batch_size=32, on_batch=kill_a_worker)
    assert killed
    np.testing.assert_allclose(there, here, atol=1e-6)
    client.wait_for_workers(2, timeout=60)


def test_distributed_errors(gsd, tiny_model, regulators, client):
    with pytest.raises(ValueError, match="needs the expression as a dask array"):
        cnnc.tl.predict_interactions(
            gsd, model=tiny_model, tfs=regulators, settings=cnnc.tl.ScoringSettings(distributed=True), copy=True
        )
    # in-memory data with an active client stays in process
    out = cnnc.tl.predict_interactions(gsd, model=tiny_model, tfs=regulators, copy=True)
    assert out.uns["cnnc"]["params"]["distributed"] is False


def test_pair_images_on_the_cluster(gsd, client):
    pairs = [("SOX9", "FGF9"), ("WT1mKTS", "NR5A1"), ("FOXL2", "RSPO1")]
    here = cnnc.tl.pair_histograms(gsd, pairs, copy=True)
    lazy = _lazy(gsd, rows=170)
    cnnc.tl.pair_histograms(lazy, pairs)
    assert lazy.uns["cnnc"]["params"]["distributed"] is True
    np.testing.assert_array_equal(lazy.uns["cnnc"]["histograms"], here.uns["cnnc"]["histograms"])
    np.testing.assert_array_equal(lazy.uns["cnnc"]["bin_edges"], here.uns["cnnc"]["bin_edges"])
    pd.testing.assert_frame_equal(lazy.obsm["cnnc_bins"], here.obsm["cnnc_bins"])
