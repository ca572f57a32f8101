"""Score GRNBoost2 and regdiffusion on BEELINE data sets (GENELink packaging) through :mod:`benchmarks.baselines.api`.

Prints AUROC and AUPRC ratio (average precision / positive rate) of each baseline against the folder's
``BL--network.csv`` over all TF × gene pairs (self pairs excluded), and the wall time of the real run.

Usage (from the repository root, after ``bash benchmarks/baselines/setup.sh``)::

    python -m benchmarks.baselines.check_beeline STRING/mHSC-L/TFs+500 Specific/mDC/TFs+500
    python -m benchmarks.baselines.check_beeline --tfs tf-csv STRING/mHSC-L/TFs+500
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.metrics import average_precision_score, roc_auc_score

from .._common import SHARED
from . import api

DATA = SHARED / "beeline-genelink"


def load_folder(folder: Path, tf_source: str) -> tuple[np.ndarray, list[str], list[str], pd.DataFrame]:
    """Return ``X`` (cells × genes), genes, TFs and the ground-truth edges of one BEELINE folder."""
    expression_file = next((p for p in sorted(folder.glob("BL--ExpressionData.csv*"))), None)
    if expression_file is None:
        raise FileNotFoundError(f"{folder} has no BL--ExpressionData.csv[.gz]")
    table = pd.read_csv(expression_file, index_col=0)  # genes × cells
    genes = [str(g) for g in table.index]
    network = pd.read_csv(folder / "BL--network.csv")
    gene_set = set(genes)
    if tf_source == "network":
        tfs = [t for t in dict.fromkeys(network["Gene1"].astype(str)) if t in gene_set]
    else:
        tfs = [t for t in dict.fromkeys(pd.read_csv(folder / "TF.csv")["TF"].astype(str)) if t in gene_set]
    return table.to_numpy(dtype=np.float64).T, genes, tfs, network


def score(edges: pd.DataFrame, network: pd.DataFrame) -> dict[str, float]:
    """AUROC and AUPRC ratio of ``edges.score`` against ``network`` over the rows of ``edges``."""
    truth = set(zip(network["Gene1"].astype(str), network["Gene2"].astype(str), strict=True))
    y = np.fromiter(
        ((r, t) in truth for r, t in zip(edges["regulator"], edges["target"], strict=True)), bool, len(edges)
    )
    if y.sum() == 0:
        raise ValueError("no ground-truth edge among the scored pairs")
    return {
        "pairs": len(y),
        "positives": int(y.sum()),
        "auroc": roc_auc_score(y, edges["score"]),
        "auprc_ratio": average_precision_score(y, edges["score"]) / y.mean(),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("folders", nargs="+", help="NET/CELL/SIZE under shared/data/beeline-genelink")
    parser.add_argument("--tfs", choices=("network", "tf-csv"), default="network", help="TFs: network Gene1 or TF.csv")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--methods", nargs="+", default=["grnboost2", "regdiffusion"])
    args = parser.parse_args()

    print("folder\tmethod\tTFs\tgenes\tcells\tpairs\tpositives\tAUROC\tAUPRC_ratio\tseconds\tcached")
    for name in args.folders:
        X, genes, tfs, network = load_folder(DATA / name, args.tfs)
        for method in args.methods:
            edges = getattr(api, method)(X, genes, tfs, seed=args.seed)
            m = score(edges, network)
            print(
                f"{name}\t{method}\t{len(tfs)}\t{len(genes)}\t{X.shape[0]}\t{m['pairs']}\t{m['positives']}\t"
                f"{m['auroc']:.4f}\t{m['auprc_ratio']:.2f}\t{edges.attrs['seconds']:.1f}\t{edges.attrs['cached']}",
                flush=True,
            )


if __name__ == "__main__":
    main()
