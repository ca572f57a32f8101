from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import cnnc


def test_sachs(data_dir, no_download):
    adata = cnnc.datasets.sachs()
    assert adata.shape == (7466, 11)
    assert adata.X.dtype == np.float32
    raw = pd.read_csv(data_dir / "sachs/cyto_full_data.csv")
    np.testing.assert_array_equal(adata.X, raw.to_numpy(dtype=np.float32))
    assert adata.var_names.tolist() == raw.columns.tolist()
    assert (adata.X > 0).all()  # positive intensities: not counts, not logs

    truth = adata.uns["ground_truth"]
    assert list(truth.columns) == ["regulator", "target"]
    assert len(truth) == 18 and not truth.duplicated().any()
    assert truth["regulator"].isin(adata.var_names).all() and truth["target"].isin(adata.var_names).all()
    # the consensus is directed and acyclic between pairs: no edge is listed both ways
    both = set(zip(truth["regulator"], truth["target"], strict=True)) & set(
        zip(truth["target"], truth["regulator"], strict=True)
    )
    assert not both
    assert ("PKA", "praf") in set(zip(truth["regulator"], truth["target"], strict=True))
    assert truth["regulator"].value_counts()["PKA"] == 6  # PKA is the hub of the consensus
    assert adata.uns["dataset"]["name"] == "Sachs" and "Science" in adata.uns["dataset"]["citation"]


def test_sachs_log(data_dir, no_download):
    adata = cnnc.datasets.sachs(log=True)
    np.testing.assert_allclose(adata.X, np.log1p(adata.layers["intensity"]), rtol=1e-6)
    assert adata.uns["dataset"]["values"] == "log1p(intensity)"
    with pytest.raises(TypeError, match="log must be True or False"):
        cnnc.datasets.sachs(log="yes")


def test_sachs_corrupt_copy_is_refused(tmp_path, monkeypatch, shared_data):
    (tmp_path / "sachs").mkdir()
    for name in ("cyto_full_data.csv", "cyto_full_target.csv"):
        (tmp_path / "sachs" / name).write_bytes((shared_data / "sachs" / name).read_bytes())
    with open(tmp_path / "sachs/cyto_full_target.csv", "a") as f:
        f.write('"pjnk","praf"\n')
    monkeypatch.setenv("CNNC_DATA_DIR", str(tmp_path))
    with pytest.raises(ValueError, match="does not have the registered sha256"):
        cnnc.datasets.sachs()
