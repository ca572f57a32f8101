import hashlib
from importlib.resources import files

import numpy as np
import pytest
import scanpy as sc

import cnnc

SHA256 = {
    "human.txt": "ddc47f22ec27f0df5613449b9b3d2d5860f50eb8f8f1bf9dcbf8dc5c94e9592b",
    "mouse.txt": "0cab225825ecc466d4ee902fca745a33aead13495cf1380b2f317399a7ab63ff",
}


@pytest.mark.parametrize("name", sorted(SHA256))
def test_bundled_lists_are_the_documented_files(name):
    data = files("cnnc.datasets").joinpath("tfs", name).read_bytes()
    assert hashlib.sha256(data).hexdigest() == SHA256[name]


def test_tfs_human_and_mouse():
    human, mouse = cnnc.datasets.tfs("human"), cnnc.datasets.tfs("mouse")
    assert (len(human), len(mouse)) == (1639, 1623)
    assert len(set(human)) == len(human) and len(set(mouse)) == len(mouse)
    assert {"SPI1", "GATA3", "IRF8"} <= set(human)
    assert {"Spi1", "Gata1", "Ets1"} <= set(mouse)
    assert cnnc.datasets.tfs("Mus musculus") == mouse
    human.append("X")  # callers get a copy
    assert len(cnnc.datasets.tfs("human")) == 1639


def test_tfs_unknown_species_names_the_fix():
    with pytest.raises(ValueError, match="ships 'human' and 'mouse'.*tfs=\\["):
        cnnc.datasets.tfs("zebrafish")


def test_predict_with_species_picks_the_tfs_in_the_data(tiny_model, caplog):
    adata = sc.datasets.pbmc68k_reduced()
    sc.settings.verbosity = 2
    cnnc.tl.predict_interactions(
        adata,
        model=tiny_model,
        tfs="human",
        targets=["LYZ", "CD74", "CD3E"],
        settings=cnnc.tl.ScoringSettings(min_cells=0),
    )
    edges = adata.uns["cnnc"]["edges"]
    # the 33 Lambert TFs among pbmc68k_reduced's 765 genes (counted independently of cnnc)
    wanted = {t.lower() for t in cnnc.datasets.tfs("human")}
    expected = {g for g in adata.raw.var_names if g.lower() in wanted}
    assert len(expected) == 33
    assert set(edges["regulator"]) == expected
    assert adata.uns["cnnc"]["params"]["n_regulators"] == 33


def test_species_tfs_match_case_insensitively(gsd, tiny_model):
    adata = gsd.copy()  # GSD's genes are upper-case mouse symbols (SOX9, WT1, ...)
    cnnc.tl.predict_interactions(adata, model=tiny_model, tfs="mouse")
    mouse = {t.lower() for t in cnnc.datasets.tfs("mouse")}
    regs = set(adata.uns["cnnc"]["edges"]["regulator"])
    assert regs and all(r.lower() in mouse for r in regs)
    assert regs == {g for g in adata.var_names if g.lower() in mouse}
    assert np.all(adata.var_names.isin(list(regs)) == adata.var_names.str.lower().isin(mouse))


def test_species_without_any_tf_in_the_data(gsd, tiny_model):
    adata = gsd.copy()
    adata.var_names = [f"ENSMUSG{i:011d}" for i in range(adata.n_vars)]
    with pytest.raises(ValueError, match="None of the 1,623 mouse transcription factors.*Ensembl"):
        cnnc.tl.predict_interactions(adata, model=tiny_model, tfs="mouse")
