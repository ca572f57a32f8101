"""Within-data-set accuracy: 3-fold regulator-disjoint cross-validation of the faithful CNNC, beside the baselines.

On every data set of ../shared/data with a ground truth (BEELINE mDC, mESC and mHSC-L TFs+500 with the Specific,
STRING and Non-Specific networks; BEELINE's synthetic GSD network), ``cnnc.tl.train(folds=3)`` trains the original
CNNC network (32×32 images, 32-64-128 filters, dense 512, 3 direction classes, CNNC's labels) on two thirds of the
regulators and scores **every** regulator × gene pair of the other third, as the paper did: one reading of each
pair image. No regulator is in both the training and test part of a fold; early stopping watches validation
regulators carved from the training part. On exactly the same pairs, |Pearson|, |Spearman|, GRNBoost2 and
regdiffusion (unsupervised; benchmark-only venvs, see benchmarks/baselines, cached) are scored. The table pools the
three folds (each pair scored once, by the model that never saw its regulator).

Training budget (2 CPU cores): at most ``--epochs`` epochs (early stopping patience 3), Adam, batch 256.

Usage: python -m benchmarks.accuracy [--sets mHSC-L/STRING ...] [--epochs 10] [--no-baselines]
Writes benchmarks/results/accuracy.json and docs/_generated/accuracy.md; per-data-set CV edges are cached in
benchmarks/results/cache/ so an interrupted run resumes.
"""

from __future__ import annotations

import argparse
import functools
import json
import time

import numpy as np
import pandas as pd
import torch

import cnnc
from cnnc.models import ContextStatistics

from ._beeline import CELLS, NETWORKS, baseline_tables, correlation_scores, dense, load_cell, table_lookup
from ._common import GENERATED, RESULTS, header_line, run_header, use_shared_data, versus

SETS = [f"{c}/{n}" for c in CELLS for n in NETWORKS] + ["GSD/synthetic"]
METHODS = ("CNNC (faithful)", "context z (default model)", "|Pearson|", "|Spearman|", "GRNBoost2", "regdiffusion")


def load_set(name: str):
    """Expression and ground truth of one data set."""
    use_shared_data()
    cell, network = name.split("/")
    if cell == "GSD":
        adata = cnnc.datasets.gsd()
    else:
        adata = cnnc.datasets.beeline(cell, network, 500)
    return adata, adata.uns["ground_truth"][["regulator", "target"]].copy()


def cnnc_cv_edges(name: str, adata, truth: pd.DataFrame, epochs: int, seed: int) -> tuple[pd.DataFrame, dict]:
    """Cross-validated edges of the faithful CNNC (cached on disk by data set and settings)."""
    tag = f"accuracy-{name.replace('/', '-')}-e{epochs}-s{seed}-v{cnnc.__version__}"
    cached, info_file = RESULTS / "cache" / f"{tag}.tsv.gz", RESULTS / "cache" / f"{tag}.json"
    if cached.is_file() and info_file.is_file():
        return pd.read_csv(cached, sep="\t"), json.loads(info_file.read_text())
    t0 = time.perf_counter()
    cnnc.tl.train(
        adata,
        truth,
        recipe="cnnc-original",  # the faithful CNNC, whatever tl.train's default recipe is
        folds=3,
        final=False,
        epochs=epochs,
        patience=3,
        symmetric=False,  # the paper reads each pair image once
        use_raw=False,
        seed=seed,
        name=f"cnnc-cv-{name}",
        key_added="cv",
    )
    seconds = time.perf_counter() - t0
    cv = adata.uns["cv"]
    edges = cv["edges"][["regulator", "target", "score", "fold"]].reset_index(drop=True)
    info = {"seconds": seconds, "folds": cv["folds"].to_dict(orient="records")}
    cached.parent.mkdir(parents=True, exist_ok=True)
    edges.to_csv(cached, sep="\t", index=False, compression="gzip")
    info_file.write_text(json.dumps(info, default=float))
    return edges, info


@functools.cache
def _cell_regulators(cell: str) -> frozenset[str]:
    """Regulators of all three ground truths of a BEELINE cell type (read once per cell type)."""
    return frozenset().union(*(set(t["regulator"]) for t in load_cell(cell)[1].values()))


def baseline_regulators(name: str, adata) -> list[str]:
    """The regulators the baselines are run with: all ground truths' regulators of the cell type, so one run serves
    the three networks (an unsupervised method's score of a pair does not depend on which other pairs are asked)."""
    cell = name.split("/")[0]
    regs = set(adata.uns["ground_truth"]["regulator"]) if cell == "GSD" else _cell_regulators(cell)
    return sorted(set(regs) & set(adata.var_names))


def run(sets: list[str], epochs: int, baselines: bool, seed: int = 0) -> dict:
    torch.manual_seed(seed)
    out_file = RESULTS / "accuracy.json"
    results = json.loads(out_file.read_text()) if out_file.is_file() else {"rows": [], "seconds": {}, "folds": {}}
    results["run"] = run_header(trained="recipe cnnc-original, regulator-disjoint 3-fold CV within each data set")
    for name in sets:
        adata, truth = load_set(name)
        names = pd.Index(adata.var_names)
        edges, info = cnnc_cv_edges(name, adata.copy(), truth, epochs, seed)
        a = names.get_indexer(edges["regulator"])
        b = names.get_indexer(edges["target"])
        truth_keys = set(zip(names.get_indexer(truth["regulator"]), names.get_indexer(truth["target"]), strict=True))
        y = np.fromiter(((i, j) in truth_keys for i, j in zip(a, b, strict=True)), dtype=bool, count=len(a))
        fold = edges["fold"].to_numpy()
        scores = {"CNNC (faithful)": edges["score"].to_numpy()}
        # the shipped default model ranks pairs by this label-free score (its image branch is off): computed here
        # directly, since the shipped model's training saw these data sets' labels
        stats = ContextStatistics.from_matrix(dense(adata))
        scores["context z (default model)"] = stats.features(a, b, ("z_context",))[:, 0]
        for label, m in correlation_scores(adata).items():
            scores[label] = m[a, b]
        if baselines:
            for label, table in baseline_tables(adata, baseline_regulators(name, adata)).items():
                scores[label] = table_lookup(table, names, a, b)
                results["seconds"][f"{label} {name.split('/')[0]}"] = float(table.attrs.get("seconds", np.nan))
        results["seconds"][f"CNNC (faithful) {name}"] = info["seconds"]
        results["folds"][name] = info["folds"]
        results["rows"] = [r for r in results["rows"] if r["dataset"] != name]
        for method, s in scores.items():
            pooled = cnnc.metrics.summarize(y, s)
            per_fold = [
                cnnc.metrics.summarize(y[fold == k], s[fold == k]) for k in np.unique(fold) if y[fold == k].any()
            ]
            results["rows"].append(
                {
                    "dataset": name,
                    "method": method,
                    "n_pairs": int(len(y)),
                    "n_regulators": int(len(np.unique(a))),
                    **pooled,
                    "fold_auprc_ratio_mean": float(np.mean([f["auprc_ratio"] for f in per_fold])),
                    "fold_auroc_mean": float(np.mean([f["auroc"] for f in per_fold])),
                }
            )
        print(f"{name}: {len(y):,} pairs, {int(y.sum()):,} true, CNNC CV {info['seconds']:.0f} s", flush=True)
        _write(results)
    return results


def _write(results: dict) -> None:
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "accuracy.json").write_text(json.dumps(results, indent=1, default=float))
    df = pd.DataFrame(results["rows"])
    order = [s for s in SETS if s in set(df["dataset"])]
    methods = [m for m in METHODS if m in set(df["method"])]
    lines = [
        *([header_line(results["run"]), ""] if "run" in results else []),
        "3-fold regulator-disjoint cross-validation within each data set (no regulator in both training and test).",
        "Each cell is **AUPRC ratio / EPR / AUROC** over every regulator × gene pair of the test regulators, the",
        'three folds pooled (random: 1 / 1 / 0.5). Baselines are scored on exactly the same pairs. "context z" is the',
        "label-free score the default model ranks pairs by (its image branch is off); it uses no labels.",
        "",
        "| data set | pairs | true | " + " | ".join(m.replace("|", "\\|") for m in methods) + " |",
        "|---|---|---|" + "---|" * len(methods),
    ]
    for name in order:
        rows = df[df["dataset"] == name].set_index("method")
        first = rows.iloc[0]
        cells = [
            f"{rows.loc[m, 'auprc_ratio']:.2f} / {rows.loc[m, 'epr']:.2f} / {rows.loc[m, 'auroc']:.3f}"
            if m in rows.index
            else "–"
            for m in methods
        ]
        lines.append(
            f"| {name} | {int(first['n_pairs']):,} | {int(first['n_positive']):,} | " + " | ".join(cells) + " |"
        )
    piv = df.pivot_table(index="dataset", columns="method", values="auprc_ratio")
    lines.append("")
    for base in [m for m in methods if m != "CNNC (faithful)"]:
        if len(piv[["CNNC (faithful)", base]].dropna()):
            wins, n, gm = versus(piv, "CNNC (faithful)", base)
            lines.append(
                f"- faithful CNNC vs {base}: higher AUPRC ratio on {wins}/{n} data sets, geometric mean ×{gm:.2f}"
            )
    if "context z (default model)" in piv:
        for base in ("|Pearson|", "|Spearman|", "GRNBoost2", "regdiffusion"):
            if base in piv:
                wins, n, gm = versus(piv, "context z (default model)", base)
                lines.append(
                    f"- context z (the default model's ranking, no labels) vs {base}: higher on {wins}/{n}, "
                    f"geometric mean ×{gm:.2f}"
                )
    secs = {k: v for k, v in results["seconds"].items() if k.startswith("CNNC")}
    if secs:
        lines.append(
            f"- CNNC cross-validation time (3 trainings + scoring, 2 CPU cores): "
            f"{min(secs.values()):.0f}–{max(secs.values()):.0f} s per data set"
        )
    GENERATED.mkdir(parents=True, exist_ok=True)
    (GENERATED / "accuracy.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--sets", nargs="*", default=None, help=f"data sets (default: all): {' '.join(SETS)}")
    p.add_argument("--epochs", type=int, default=10)
    p.add_argument("--no-baselines", action="store_true")
    args = p.parse_args()
    chosen = args.sets or sorted(SETS, key=lambda s: ("GSD" not in s, "mHSC" not in s, "mESC" in s))
    unknown = sorted(set(chosen) - set(SETS))
    if unknown:
        p.error(f"unknown data sets {unknown}; choose from {SETS}")
    run(chosen, args.epochs, not args.no_baselines)
