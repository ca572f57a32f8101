"""Without an active dask.distributed client, dask arrays are read chunk by chunk in this process."""

import numpy as np
import pytest

import cnnc

da = pytest.importorskip("dask.array", reason="dask is part of cnnc's test extra")


def test_distributed_true_without_client(gsd, tiny_model, regulators):
    from distributed import default_client

    with pytest.raises(ValueError):
        default_client()  # no client left over from other tests
    lazy = gsd.copy()
    lazy.X = da.from_array(np.asarray(gsd.X), chunks=(300, gsd.n_vars))
    with pytest.raises(ValueError, match="no dask.distributed Client is active"):
        cnnc.tl.predict_interactions(
            lazy, model=tiny_model, tfs=regulators, settings=cnnc.tl.ScoringSettings(distributed=True)
        )
    here = cnnc.tl.predict_interactions(gsd, model=tiny_model, tfs=regulators, copy=True)
    cnnc.tl.predict_interactions(lazy, model=tiny_model, tfs=regulators)
    assert lazy.uns["cnnc"]["params"]["distributed"] is False
    np.testing.assert_allclose(
        lazy.uns["cnnc"]["edges"]["score"].to_numpy(), here.uns["cnnc"]["edges"]["score"].to_numpy(), atol=1e-6
    )
