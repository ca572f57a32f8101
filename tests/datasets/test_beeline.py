from __future__ import annotations

import shutil

import anndata as ad
import numpy as np
import pandas as pd
import pooch
import pytest
import requests

import cnnc
from cnnc.datasets import _beeline

# The data README's table: cell, size, genes, cells, {network: (edges, regulators)}
TABLE = [
    ("mDC", 500, 821, 383, {"Specific": (756, 20), "STRING": (4815, 264), "Non-Specific": (3067, 250)}),
    ("mDC", 1000, 1321, 383, {"Specific": (1193, 21), "STRING": (5898, 273), "Non-Specific": (3918, 254)}),
    ("mESC", 500, 1120, 421, {"Specific": (29613, 88), "STRING": (7762, 495), "Non-Specific": (6893, 516)}),
    ("mHSC-L", 500, 560, 847, {"Specific": (4398, 16), "STRING": (137, 39), "Non-Specific": (279, 35)}),
    ("mHSC-L", 1000, 692, 847, {"Specific": (5180, 16), "STRING": (154, 40), "Non-Specific": (317, 37)}),
]
CASES = [
    pytest.param(cell, net, size, genes, cells, *counts, id=f"{cell}-{net}-{size}")
    for cell, size, genes, cells, nets in TABLE
    for net, counts in nets.items()
]


@pytest.mark.parametrize(("cell", "network", "size", "n_genes", "n_cells", "n_edges", "n_regulators"), CASES)
def test_shapes_match_the_readme(cell, network, size, n_genes, n_cells, n_edges, n_regulators, data_dir, no_download):
    adata = cnnc.datasets.beeline(cell, network, size)
    assert adata.shape == (n_cells, n_genes)
    assert adata.X.dtype == np.float32
    truth = adata.uns["ground_truth"]
    assert len(truth) == n_edges
    assert truth["regulator"].nunique() == n_regulators
    folder = data_dir / "beeline-genelink" / network / cell / f"TFs+{size}"
    has_score = "Score" in (folder / "BL--network.csv").read_text().partition("\n")[0]
    assert list(truth.columns) == ["regulator", "target"] + (["score"] if has_score else [])
    assert truth["regulator"].isin(adata.var_names).all() and truth["target"].isin(adata.var_names).all()
    tfs = pd.read_csv(folder / "TF.csv", index_col=0)["TF"].tolist()
    assert adata.uns["tfs"] == tfs
    assert adata.var["is_tf"].dtype == bool and adata.var_names[adata.var["is_tf"]].tolist() == sorted(
        tfs, key=adata.var_names.get_loc
    )
    assert adata.uns["dataset"] == {
        "source": "BEELINE",
        "cell": cell,
        "network": network,
        "size": size,
        "species": "mouse",
        "tfs_from": "TF.csv",
    }
    assert adata.obs_names.is_unique and adata.var_names.is_unique
    assert all(name == name.upper() for name in adata.var_names)


def test_values_are_the_published_ones(data_dir, no_download):
    adata = cnnc.datasets.beeline("mHSC-L", "STRING", 1000)
    raw = pd.read_csv(data_dir / "beeline-genelink/STRING/mHSC-L/TFs+1000/BL--ExpressionData.csv.gz", index_col=0)
    assert adata.var_names.tolist() == raw.index.tolist()
    assert adata.obs_names.tolist() == raw.columns.tolist()
    np.testing.assert_array_equal(adata.X, raw.to_numpy(dtype=np.float32).T)
    network = pd.read_csv(data_dir / "beeline-genelink/STRING/mHSC-L/TFs+1000/BL--network.csv")
    assert adata.uns["ground_truth"].to_numpy().tolist() == network.to_numpy().tolist()


def test_names_are_case_insensitive(data_dir, no_download):
    adata = cnnc.datasets.beeline("mdc", "non-specific", np.int64(500))
    assert (adata.uns["dataset"]["cell"], adata.uns["dataset"]["network"]) == ("mDC", "Non-Specific")


def test_writes_to_h5ad(tmp_path, data_dir, no_download):
    adata = cnnc.datasets.beeline("mDC")
    adata.write_h5ad(tmp_path / "mdc.h5ad")
    back = ad.read_h5ad(tmp_path / "mdc.h5ad")
    pd.testing.assert_frame_equal(back.uns["ground_truth"], adata.uns["ground_truth"])
    assert list(back.uns["tfs"]) == adata.uns["tfs"]
    assert back.var["is_tf"].sum() == 323


@pytest.mark.parametrize(
    ("args", "match"),
    [
        (("hSC",), r"Unknown BEELINE cell type 'hSC': choose one of .*'mHSC-GM'"),
        (("mDC", "ChIP"), r"Unknown BEELINE network 'ChIP'.*'Lofgof'"),
        (("mDC", "Specific", 2000), r"Unknown BEELINE size 2000: choose 500"),
        (("mDC", "Specific", "500"), r"Unknown BEELINE size '500'"),
        (("mDC", "Lofgof"), r"'Lofgof' ground truth exists for mESC only"),
        (("hESC",), r"hESC Specific TFs\+500 is not available: no expression file.*Available.*mDC \(Specific 500/1000"),
        (("mHSC-E", "STRING", 1000), r"mHSC-E STRING TFs\+1000 is not available"),
        (("mESC", "Lofgof"), r"mESC Lofgof TFs\+500 is not available"),
        (("mESC", "Specific", 1000), r"mESC Specific TFs\+1000 is not available"),
    ],
)
def test_bad_requests_are_clear_errors(args, match, data_dir, no_download):
    with pytest.raises(ValueError, match=match):
        cnnc.datasets.beeline(*args)


def test_corrupt_local_file_is_an_error(tmp_path, shared_data, monkeypatch, no_download):
    folder = "beeline-genelink/Specific/mDC/TFs+500"
    shutil.copytree(shared_data / folder, tmp_path / folder)
    with (tmp_path / folder / "BL--network.csv").open("ab") as f:
        f.write(b"AHR,STAT1,1\n")
    monkeypatch.setenv("CNNC_DATA_DIR", str(tmp_path))
    with pytest.raises(ValueError, match=r"BL--network\.csv.*does not have the registered sha256"):
        cnnc.datasets.beeline("mDC")


def test_without_tf_list_the_regulators_are_used(data_dir, no_download, monkeypatch):
    hashes = _beeline.registry()
    del hashes["beeline-genelink/STRING/mDC/TFs+500/TF.csv"]
    monkeypatch.setattr(_beeline, "registry", lambda: hashes)
    adata = cnnc.datasets.beeline("mDC", "STRING")
    regulators = sorted(set(adata.uns["ground_truth"]["regulator"]))
    assert adata.uns["tfs"] == regulators and len(regulators) == 264
    assert adata.var["is_tf"].sum() == 264
    assert adata.uns["dataset"]["tfs_from"] == "ground-truth regulators"


def test_upstream_only_cell_is_downloaded_from_bridge_grn(tmp_path, monkeypatch):
    urls = []

    def offline(self, url, output_file, pooch_obj, check_only=False):
        urls.append(url)
        raise requests.exceptions.ConnectionError("offline")

    monkeypatch.setattr(pooch.HTTPDownloader, "__call__", offline)
    monkeypatch.setattr(pooch.core.time, "sleep", lambda seconds: None)
    monkeypatch.setenv("CNNC_DATA_DIR", str(tmp_path))
    with pytest.raises(OSError, match=r"Could not fetch 'beeline-genelink/Specific/hHEP/TFs\+1000/BL--Expr"):
        cnnc.datasets.beeline("hHEP", "Specific", 1000)
    assert urls[0] == (
        "https://raw.githubusercontent.com/haohaostats/bridge-grn/27d21d94f6f96f5d2a8a7b41d392cb12410e46ea/"
        "data/benchmark_datasets/Specific%20Dataset/hHEP/TFs%2B1000/BL--ExpressionData.csv.gz"
    )
    assert list(tmp_path.iterdir()) == []
