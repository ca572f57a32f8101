"""The command line, run as a user runs it: in a subprocess."""

import os
import re
import subprocess
import sys
from pathlib import Path

import anndata as ad
import mudata as md
import pandas as pd
import pytest
import scanpy as sc

import cnnc

SRC = Path(cnnc.__file__).parents[1]
ROOT = SRC.parent


def run(*args, cwd=None):
    env = {**os.environ, "PYTHONPATH": str(SRC), "OMP_NUM_THREADS": "1", "NUMBA_NUM_THREADS": "1"}
    return subprocess.run(
        [sys.executable, "-m", "cnnc", *map(str, args)], capture_output=True, text=True, env=env, cwd=cwd, timeout=600
    )


@pytest.fixture(scope="module")
def model_file(tiny_model, tmp_path_factory):
    return tiny_model.save(tmp_path_factory.mktemp("model") / "tiny.safetensors")


@pytest.fixture(scope="module")
def pbmc_file(tmp_path_factory):
    path = tmp_path_factory.mktemp("data") / "pbmc.h5ad"
    sc.datasets.pbmc68k_reduced().write_h5ad(path)
    return path


def test_version_is_single_sourced():
    out = run("--version")
    assert out.returncode == 0
    assert out.stdout.strip() == f"cnnc {cnnc.__version__}" == "cnnc 0.2.0"
    citation = (ROOT / "CITATION.cff").read_text()
    assert re.search(r"^version: (\S+)$", citation, re.M).group(1) == cnnc.__version__
    changelog = (ROOT / "CHANGELOG.md").read_text()
    assert f"## [{cnnc.__version__}]" in changelog


def test_predict_h5ad_writes_the_file_and_an_edge_table(pbmc_file, model_file, tmp_path):
    out = run(
        "predict", pbmc_file, "--tfs", "human", "--model", model_file, "-o", tmp_path / "out.h5ad",
        "--edges", tmp_path / "edges.csv",
    )  # fmt: skip
    assert out.returncode == 0, out.stderr
    assert "33 of the 1,639 human transcription factors" in out.stderr
    result = ad.read_h5ad(tmp_path / "out.h5ad")
    edges = cnnc.get.edges(result)
    tfs = {t.lower() for t in cnnc.datasets.tfs("human")}
    assert {r.lower() for r in edges["regulator"]} <= tfs and (edges["n_cells"] >= 10).all()
    assert result.uns["cnnc"]["params"]["n_candidates"] == 33 * (result.raw.n_vars - 1)
    table = pd.read_csv(tmp_path / "edges.csv")
    # a CSV holds the evidence labels as text
    pd.testing.assert_frame_equal(table, edges.astype({"direction_evidence": str}), check_dtype=False, atol=1e-6)
    assert set(table["direction_evidence"]) <= {"regulator list", "none"}
    assert f"scored {len(edges):,} pairs" in out.stdout
    # same numbers as the Python API
    adata = sc.datasets.pbmc68k_reduced()
    cnnc.tl.predict_interactions(adata, model=cnnc.models.load_file(model_file), tfs="human")
    pd.testing.assert_frame_equal(edges, cnnc.get.edges(adata), atol=1e-6, check_categorical=False)


def test_predict_in_place_groups_and_decoupler_table(pbmc_file, model_file, tmp_path):
    data = tmp_path / "pbmc.h5ad"
    data.write_bytes(pbmc_file.read_bytes())
    out = run(
        "predict", data, "--tfs", "SPI1,IRF8,GATA3", "--model", model_file, "--groupby", "bulk_labels",
        "--groups", "CD14+ Monocyte,CD19+ B", "--min-cells", "3", "--top", "5", "--network",
        "--edges", tmp_path / "net.tsv", "-o", data,
    )  # fmt: skip
    assert out.returncode == 0, out.stderr
    net = pd.read_csv(tmp_path / "net.tsv", sep="\t")
    assert list(net.columns) == ["group", "source", "target", "weight"]
    assert net.groupby("group").size().to_dict() == {"CD14+ Monocyte": 5, "CD19+ B": 5}
    back = ad.read_h5ad(data)
    assert back.uns["cnnc"]["params"]["groupby"] == "bulk_labels"


def test_predict_h5mu(pbmc_file, model_file, tmp_path):
    mdata = md.MuData({"rna": ad.read_h5ad(pbmc_file)})
    mdata.write(tmp_path / "in.h5mu")
    out = run("predict", tmp_path / "in.h5mu", "--tfs", "SPI1,IRF8", "--model", model_file, "-o", tmp_path / "o.h5mu")
    assert out.returncode == 0, out.stderr
    back = md.read_h5mu(tmp_path / "o.h5mu")
    assert set(cnnc.get.edges(back.mod["rna"])["regulator"]) == {"SPI1", "IRF8"}
    out = run("predict", tmp_path / "in.h5mu", "--mod", "atac", "--tfs", "SPI1", "--edges", tmp_path / "e.csv")
    assert out.returncode == 1 and "no modality 'atac'; its modalities are ['rna']" in out.stderr


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["missing.h5ad", "--edges", "e.csv"], "missing.h5ad: no such file"),
        (["{pbmc}", "--tfs", "human"], "Nothing to write: pass -o/--output"),
        (["{pbmc}", "--tfs", "SPI1", "--edges", "e.xlsx"], "expected a .csv, .tsv, .parquet file"),
        (["{pbmc}", "--tfs", "SPI1", "-o", "out.h5mu"], "write the same format as the input (.h5ad)"),
        (["{pbmc}", "--tfs", "SPl1", "--edges", "e.csv", "--model", "{model}"], "Gene 'SPl1' is not in"),
        (["{pbmc}", "--tfs", "SPI1", "--edges", "e.csv", "--model", "nope"], "nope"),
        (["{pbmc}", "--tfs", "SPI1", "--groupby", "leiden", "--edges", "e.csv", "--model", "{model}"], "not a column"),
    ],
)
def test_predict_errors_name_the_problem(pbmc_file, model_file, tmp_path, args, message, capsys, monkeypatch):
    # in-process (the subprocess path is the same function, exercised above); each error is one line on stderr
    from cnnc._cli import main

    monkeypatch.chdir(tmp_path)
    args = [a.format(pbmc=pbmc_file, model=model_file) for a in args]
    assert main(["predict", *args]) == 1
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err
    assert err.startswith("cnnc predict: error:") or "\ncnnc predict: error:" in err


def test_an_error_in_a_subprocess_is_one_line(pbmc_file, tmp_path):
    out = run("predict", pbmc_file, "--tfs", "SPI1", "--edges", tmp_path / "e.xlsx")
    assert out.returncode == 1
    assert (
        out.stderr.strip().splitlines()[-1]
        == f"cnnc predict: error: --edges {tmp_path / 'e.xlsx'}: expected a .csv, .tsv, .parquet file."
    )


def test_parquet_edges(pbmc_file, model_file, tmp_path, capsys):
    from cnnc._cli import main

    code = main(
        ["predict", str(pbmc_file), "--tfs", "SPI1", "--model", str(model_file), "--edges", str(tmp_path / "e.parquet")]
    )
    try:
        import pyarrow  # noqa: F401
    except ImportError:
        err = capsys.readouterr().err
        assert code == 1 and "needs a Parquet engine" in err and "pip install pyarrow" in err
    else:
        assert code == 0
        assert pd.read_parquet(tmp_path / "e.parquet")["regulator"].eq("SPI1").all()


def test_usage_errors_exit_2(capsys):
    from cnnc._cli import main

    for argv in (["predict"], ["frobnicate"]):
        with pytest.raises(SystemExit) as exit_:
            main(argv)
        assert exit_.value.code == 2
    assert "the following arguments are required: input" in capsys.readouterr().err


def test_train_then_predict(gsd, tmp_path):
    gsd.write_h5ad(tmp_path / "gsd.h5ad")
    gsd.uns["ground_truth"].to_csv(tmp_path / "truth.csv", index=False)
    out = run(
        "train", tmp_path / "gsd.h5ad", "--truth", tmp_path / "truth.csv", "-o", tmp_path / "m.safetensors",
        "--folds", "0", "--epochs", "1", "--name", "cli-gsd",
    )  # fmt: skip
    assert out.returncode == 0, out.stderr
    model = cnnc.models.load_file(tmp_path / "m.safetensors")
    assert model.name == "cli-gsd"
    out = run("predict", tmp_path / "gsd.h5ad", "--tfs", "mouse", "--model", tmp_path / "m.safetensors",
              "--edges", tmp_path / "e.csv")  # fmt: skip
    assert out.returncode == 0, out.stderr
    assert len(pd.read_csv(tmp_path / "e.csv")) > 0
    out = run("train", tmp_path / "gsd.h5ad", "--truth", tmp_path / "nope.csv", "-o", tmp_path / "m.safetensors")
    assert out.returncode == 1 and "nope.csv: no such file" in out.stderr


def test_every_option_has_help_text():
    """`cnnc COMMAND --help` explains every option."""
    import argparse

    from cnnc._cli import build_parser

    parser = build_parser()
    subparsers = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    for name, sub in [("cnnc", parser), *subparsers.choices.items()]:
        for action in sub._actions:
            if isinstance(action, argparse._HelpAction | argparse._SubParsersAction):
                continue
            assert action.help, f"{name}: option {action.option_strings or action.dest} has no help text"
