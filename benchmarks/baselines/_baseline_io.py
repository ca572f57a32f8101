"""Input/output shared by the baseline runner scripts (numpy and pandas only: imported inside each baseline's venv).

Expression input is either

- an ``.npz`` with ``X`` (cells × genes, float) and ``genes`` (gene names, one per column of ``X``), as written by
  :mod:`benchmarks.baselines.api`; or
- a ``.csv``/``.tsv`` (optionally ``.gz``) with gene names in the first column (``--layout genes-by-cells``, BEELINE's
  ``BL--ExpressionData.csv``) or in the header (``--layout cells-by-genes``, first column cell names).

The TF list is a text file with one gene name per line.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np
import pandas as pd

LAYOUTS = ("genes-by-cells", "cells-by-genes")


def add_io_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the input/output arguments shared by every runner."""
    parser.add_argument("--expression", required=True, type=Path, help=".npz (X cells×genes, genes) or .csv/.tsv[.gz]")
    parser.add_argument("--layout", choices=LAYOUTS, help="orientation of a CSV/TSV expression file (required for one)")
    parser.add_argument("--tfs", required=True, type=Path, help="text file, one TF name per line")
    parser.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    parser.add_argument(
        "--out", required=True, type=Path, help="output TSV; a <out>.json with run facts is written too"
    )


def fail(message: str) -> None:
    """Exit with a one-line error on stderr."""
    print(f"error: {message}", file=sys.stderr)
    raise SystemExit(2)


def read_expression(path: Path, layout: str | None) -> tuple[np.ndarray, list[str]]:
    """Return ``(X, genes)`` with ``X`` cells × genes (float64) from an ``.npz`` or a CSV/TSV file."""
    if not path.exists():
        fail(f"expression file {path} does not exist")
    name = path.name.lower()
    if name.endswith(".npz"):
        with np.load(path, allow_pickle=False) as npz:
            missing = {"X", "genes"} - set(npz.files)
            if missing:
                fail(f"{path} lacks the arrays {sorted(missing)}; it needs X (cells × genes) and genes")
            X = np.asarray(npz["X"], dtype=np.float64)
            genes = [str(g) for g in npz["genes"]]
    elif name.endswith((".csv", ".csv.gz", ".tsv", ".tsv.gz", ".txt", ".txt.gz")):
        if layout is None:
            fail(f"{path} is a table: pass --layout genes-by-cells (gene names in the first column) or cells-by-genes")
        sep = "\t" if ".tsv" in name or ".txt" in name else ","
        table = pd.read_csv(path, sep=sep, index_col=0)
        if layout == "genes-by-cells":
            table = table.T
        genes = [str(g) for g in table.columns]
        try:
            X = table.to_numpy(dtype=np.float64)
        except ValueError as err:
            fail(f"{path} has non-numeric expression values ({err}); is --layout {layout} right?")
    else:
        fail(f"{path}: unknown expression format; use .npz, .csv, .tsv (optionally .gz)")
    if X.ndim != 2 or X.shape[1] != len(genes):
        fail(f"expression has shape {X.shape} but {len(genes)} gene names")
    if X.shape[0] < 2 or X.shape[1] < 2:
        fail(f"expression has shape {X.shape} (cells × genes): need at least 2 cells and 2 genes")
    if not np.isfinite(X).all():
        fail("expression contains NaN or infinite values; impute or drop them first")
    if len(set(genes)) != len(genes):
        dup = pd.Index(genes)[pd.Index(genes).duplicated()].unique().tolist()
        fail(f"gene names are not unique (e.g. {dup[:5]}); make them unique first")
    return X, genes


def read_tfs(path: Path, genes: list[str]) -> list[str]:
    """Return the TFs of ``path`` (one per line) that are genes of the data, in file order, without duplicates."""
    if not path.exists():
        fail(f"TF file {path} does not exist")
    names = [line.strip() for line in path.read_text().splitlines() if line.strip()]
    tfs = list(dict.fromkeys(names))
    gene_set = set(genes)
    absent = [t for t in tfs if t not in gene_set]
    if absent:
        print(f"warning: {len(absent)} TF(s) not among the genes are ignored, e.g. {absent[:5]}", file=sys.stderr)
    tfs = [t for t in tfs if t in gene_set]
    if not tfs:
        fail(f"none of the {len(names)} names in {path} is a gene of the expression data")
    return tfs


def all_pairs(tfs: list[str], genes: list[str]) -> pd.DataFrame:
    """Every (regulator, target) pair of a TF and another gene (self pairs excluded), TF-major order."""
    regulators = np.repeat(np.asarray(tfs, dtype=object), len(genes))
    targets = np.tile(np.asarray(genes, dtype=object), len(tfs))
    pairs = pd.DataFrame({"regulator": regulators, "target": targets})
    return pairs[pairs["regulator"] != pairs["target"]].reset_index(drop=True)


def write_result(out: Path, table: pd.DataFrame, facts: dict) -> None:
    """Write the edge table as TSV and the run facts as ``<out>.json``."""
    out.parent.mkdir(parents=True, exist_ok=True)
    table.to_csv(out, sep="\t", index=False, float_format="%.9g")
    Path(f"{out}.json").write_text(json.dumps(facts, indent=1))
