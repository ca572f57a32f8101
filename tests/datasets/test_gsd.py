from __future__ import annotations

import numpy as np
import pandas as pd

import cnnc


def test_gsd(data_dir, no_download):
    adata = cnnc.datasets.gsd()
    assert adata.shape == (2000, 19)
    assert adata.X.dtype == np.float32
    raw = pd.read_csv(data_dir / "beeline-example/GSD/ex1/ExpressionData.csv", index_col=0)
    np.testing.assert_array_equal(adata.X, raw.to_numpy(dtype=np.float32).T)
    assert adata.var_names.tolist() == raw.index.tolist()

    pseudotime = adata.obs["pseudotime"]
    assert not pseudotime.isna().any()
    assert adata.obs["PseudoTime1"].notna().sum() == 1353 and adata.obs["PseudoTime2"].notna().sum() == 1205
    both = adata.obs[["PseudoTime1", "PseudoTime2"]].dropna()
    np.testing.assert_allclose(pseudotime[both.index], both.mean(axis=1))
    only_first = adata.obs["PseudoTime2"].isna()
    np.testing.assert_array_equal(pseudotime[only_first], adata.obs["PseudoTime1"][only_first])

    truth = adata.uns["ground_truth"]
    assert list(truth.columns) == ["regulator", "target", "sign"]
    assert len(truth) == 79 and not truth.duplicated().any()  # 86 published rows, 7 exact repeats
    assert truth["sign"].value_counts().to_dict() == {1: 52, -1: 27}
    assert truth["regulator"].isin(adata.var_names).all() and truth["target"].isin(adata.var_names).all()
    assert adata.uns["dataset"]["name"] == "GSD"
