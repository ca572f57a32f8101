"""The faithful CNNC, cross-validated as its paper did: regulator-disjoint folds within one cell type and truth.

``cnnc.tl.train(adata, truth, recipe="cnnc-original", folds=3)`` on BEELINE TFs+500: every (regulator, gene)
pair of each fold's test regulators is scored by a network that never saw those regulators (32×32 CNNC images,
CNNC's 3-class labels and VGG-like network). Reported per (cell type, truth): AUROC, AUPRC ratio and EPR averaged
over folds, the epochs each fold trained, and direction accuracy (p_ab > p_ba) on the truth's one-way TF -> TF
edges with its 95% Wilson interval. The recipe's fit settings are used as shipped (see ``cnnc.tl.recipes()``).

Usage: python -m benchmarks.original_cv [--sets mHSC-L:STRING mHSC-L:Specific mESC:Specific]
Each set writes benchmarks/results/original_cv/<cell>_<truth>.json; ``--report`` collects them into
benchmarks/results/original_cv.json and docs/_generated/original_cv.md.
"""

from __future__ import annotations

import argparse
import json
import time

import numpy as np
import pandas as pd

import cnnc

from ._beeline import dense, load_cell
from ._common import GENERATED, RESULTS, header_line, run_header
from .transfer import one_way_edges, wilson

SETS = ("mHSC-L:STRING", "mHSC-L:Specific", "mESC:Specific")
PARTS = RESULTS / "original_cv"


def direction(edges: pd.DataFrame, truth: pd.DataFrame, names: pd.Index) -> dict:
    """p_ab > p_ba on the truth's one-way TF -> TF edges that the cross-validation scored."""
    a, b = one_way_edges(truth, names)
    scored = edges.set_index(["regulator", "target"])[["p_ab", "p_ba"]]
    keys = pd.MultiIndex.from_arrays([names[a], names[b]])
    found = scored.reindex(keys).dropna()
    k, n = int((found["p_ab"] > found["p_ba"]).sum()), len(found)
    return {"correct": k, "n": n, "accuracy": k / n if n else None, "ci95": list(wilson(k, n)) if n else None}


def within_regulator(edges: pd.DataFrame, truth: pd.DataFrame, names: pd.Index, x: np.ndarray) -> dict:
    """Pooled AUROC against the mean of per-regulator AUROCs, for the model and two trivial references.

    The pooled AUROC of a fold mixes two things: how the model ranks one regulator's genes, and how it places
    whole regulators against each other. With few test regulators whose share of targets differs widely (mHSC-L's
    Specific truth: 1-89%), the second can push the pooled number below chance while the first is not.
    """
    a, b = names.get_indexer(edges["regulator"]), names.get_indexer(edges["target"])
    known = set(zip(names.get_indexer(truth["regulator"]), names.get_indexer(truth["target"]), strict=True))
    y = np.fromiter(((i, j) in known for i, j in zip(a, b, strict=True)), dtype=bool, count=len(a))
    pearson = np.abs(np.nan_to_num(np.corrcoef(x.T)))
    scores = {
        "cnnc-original": edges["score"].to_numpy(),
        "|Pearson|": pearson[a, b],
        "target's detection rate": (x > 0).mean(0)[b],
    }
    out = {}
    for label, s in scores.items():
        per = [cnnc.metrics.auroc(y[a == r], s[a == r]) for r in np.unique(a) if 0 < y[a == r].sum() < (a == r).sum()]
        out[label] = {"pooled_auroc": cnnc.metrics.auroc(y, s), "per_regulator_auroc_mean": float(np.mean(per))}
    out["n_regulators_with_both_classes"] = len(per)
    return out


def run_set(cell: str, net: str, seed: int = 0) -> dict:
    run = run_header(trained="recipe cnnc-original, regulator-disjoint 3-fold CV")
    adata, truths = load_cell(cell)
    t0 = time.perf_counter()
    cnnc.tl.train(adata, truths[net], recipe="cnnc-original", folds=3, seed=seed, use_raw=False, final=False)
    cv = adata.uns["cnnc_cv"]
    out = {
        "cell": cell,
        "network": net,
        "seed": seed,
        "folds": cv["folds"].to_dict(orient="records"),
        "metrics": cv["metrics"],
        "direction": direction(cv["edges"], truths[net], pd.Index(adata.var_names)),
        "within_regulator": within_regulator(cv["edges"], truths[net], pd.Index(adata.var_names), dense(adata)),
        "seconds": time.perf_counter() - t0,
        "run": run,
    }
    PARTS.mkdir(parents=True, exist_ok=True)
    (PARTS / f"{cell}_{net}.json").write_text(json.dumps(out, indent=1, default=float))
    return out


def report() -> dict:
    parts = [json.loads(p.read_text()) for p in sorted(PARTS.glob("*.json"))]
    runs = {header_line(p["run"]) for p in parts if "run" in p}
    lines = [
        *sorted(runs),
        *([""] if runs else []),
        "The faithful CNNC (`cnnc-original` recipe), regulator-disjoint 3-fold cross-validation within one cell type",
        "and truth (every pair of the test regulators; random: AUROC 0.5, AUPRC ratio 1, direction 0.5).",
        "",
        "| cell type | truth | AUROC | AUPRC ratio | EPR | epochs per fold | direction (one-way TF -> TF) |",
        "|---|---|---|---|---|---|---|",
    ]
    for p in parts:
        m, d = p["metrics"], p["direction"]
        epochs = "/".join(str(int(f["epochs"])) for f in p["folds"])
        dtext = f"{d['accuracy']:.2f} [{d['ci95'][0]:.2f}, {d['ci95'][1]:.2f}] (n={d['n']})" if d["n"] else "–"
        lines.append(
            f"| {p['cell']} | {p['network']} | {m['cv_auroc_mean']:.3f} | {m['cv_auprc_ratio_mean']:.2f} | "
            f"{m['cv_epr_mean']:.2f} | {epochs} | {dtext} |"
        )
    within = [p for p in parts if "within_regulator" in p]
    if within:
        lines += [
            "",
            "Pooled over all test regulators against the mean of per-regulator AUROCs (how each regulator's genes are",
            "ranked), beside two references on the same pairs: a pooled number below chance with per-regulator ones above",
            "would mean regulators placed badly against each other; both below chance mean genes ranked backwards.",
            "",
            "| cell type | truth | method | pooled AUROC | mean per-regulator AUROC |",
            "|---|---|---|---|---|",
        ]
        for p in within:
            w = p["within_regulator"]
            for method, m in w.items():
                if isinstance(m, dict):
                    label = method.replace("|", r"\|")  # a pipe would split the table cell
                    lines.append(
                        f"| {p['cell']} | {p['network']} | {label} | {m['pooled_auroc']:.3f} | "
                        f"{m['per_regulator_auroc_mean']:.3f} |"
                    )
    (RESULTS / "original_cv.json").write_text(json.dumps({"sets": parts}, indent=1, default=float))
    GENERATED.mkdir(parents=True, exist_ok=True)
    (GENERATED / "original_cv.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))
    return {"sets": parts}


if __name__ == "__main__":
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--sets", nargs="*", default=list(SETS), help="cell:truth pairs")
    p.add_argument("--report", action="store_true", help="only collect the finished sets")
    args = p.parse_args()
    if not args.report:
        for item in args.sets:
            cell, net = item.split(":")
            print(json.dumps(run_set(cell, net), default=float)[:400], flush=True)
    report()
