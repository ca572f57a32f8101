import pytest

import cnnc


def test_edges_filters_and_network_format(gsd, tiny_model, regulators):
    adata = gsd.copy()
    cnnc.tl.predict_interactions(adata, model=tiny_model, tfs=regulators)
    full = cnnc.get.edges(adata)
    assert (full["score"].diff().dropna() <= 0).all()
    top = cnnc.get.edges(adata, top=5)
    assert len(top) == 5 and top["score"].tolist() == full["score"].head(5).tolist()
    thr = float(full["score"].median())
    assert (cnnc.get.edges(adata, min_score=thr)["score"] >= thr).all()
    sox = cnnc.get.edges(adata, regulators=["sox9"])
    assert set(sox["regulator"]) == {"SOX9"}
    net = cnnc.get.edges(adata, top=10, network=True)
    assert list(net.columns) == ["source", "target", "weight"] and len(net) == 10
    with pytest.raises(KeyError, match="predict_interactions"):
        cnnc.get.edges(adata, key="nope")
    with pytest.raises(ValueError, match="top"):
        cnnc.get.edges(adata, top=0)
