"""Render <CACHE>/results.json (from study.py; CACHE as in features.py) as markdown tables on stdout.

Run: python benchmarks/study/make_report.py > tables.md
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))
from benchmarks._common import geometric_mean
from features import CACHE, CELLS, NETWORKS

SHORT = {"Specific": "Spec", "STRING": "STRING", "Non-Specific": "NonSpec"}


def fmt(m: dict) -> str:
    return f"{m['auroc']:.2f} / {m['auprc_ratio']:.2f} / {m['epr']:.2f}"


def main() -> None:
    r = json.loads((CACHE / "results.json").read_text())
    single = r["single"]
    print("## Main table: left-out cell type, every (regulator, gene) pair; AUROC / AUPRC ratio / EPR\n")
    print("Best single feature, LR and GBM variants are chosen on the training cell types only (see text).\n")
    print("| left out | GT | pairs (pos) | abs Pearson | abs Spearman | best single | LR | GBM |")
    print("|---|---|---|---|---|---|---|---|")
    for cell in CELLS:
        rec = r["cells"][cell]
        best = rec["best_single"][0]
        for net in NETWORKS:
            p = single[cell]["abs_pearson"][net]
            row = [
                cell,
                SHORT[net],
                f"{p['n_pairs']} ({p['n_positive']})",
                fmt(p),
                fmt(single[cell]["abs_spearman"][net]),
                fmt(single[cell][best][net]),
                fmt(rec["test"][rec["chosen_LR"]][net]),
                fmt(rec["test"][rec["chosen_GBM"]][net]),
            ]
            print("| " + " | ".join(row) + " |")
    print()
    for cell in CELLS:
        rec = r["cells"][cell]
        print(
            f"- left out {cell}: best single = `{rec['best_single'][0]}` (next: {', '.join(rec['best_single'][1:])});"
            f" LR = `{rec['chosen_LR']}`; GBM = `{rec['chosen_GBM']}`"
        )
    print()

    # single features across all 9 sets
    names = list(single[CELLS[0]])
    sets = [(c, n) for c in CELLS for n in NETWORKS]

    def rel(feat, metric):
        return np.array([single[c][feat][n][metric] / max(single[c]["abs_spearman"][n][metric], 1e-9) for c, n in sets])

    print("## Single features as scores (no training), AUPRC ratio per (cell, GT)\n")
    print("gm/Spearman = geometric mean over the 9 sets of AUPRC ratio relative to abs Spearman; same for EPR")
    print("(EPR ratios floored at 0.05); wins = sets where the feature's AUPRC ratio beats abs Spearman.\n")
    hdr = " | ".join(f"{c[:4]} {SHORT[n]}" for c, n in sets)
    print(f"| feature | gm AUPRCr/Spearman | gm EPR/Spearman | wins | mean AUROC | {hdr} |")
    print("|---" * (5 + len(sets)) + "|")
    rows = []
    for f in names:
        g = geometric_mean(rel(f, "auprc_ratio"))
        e = geometric_mean(np.maximum(rel(f, "epr"), 0.05))
        wins = int((rel(f, "auprc_ratio") > 1.0001).sum())
        au = np.mean([single[c][f][n]["auroc"] for c, n in sets])
        vals = " | ".join(f"{single[c][f][n]['auprc_ratio']:.2f}" for c, n in sets)
        rows.append((g, f"| {f} | {g:.2f} | {e:.2f} | {wins}/9 | {au:.3f} | {vals} |"))
    for _, line in sorted(rows, reverse=True):
        print(line)
    print()

    # all variants on the left-out cells
    print("## Every trained variant on the left-out cells (AUPRC ratio; val = validation criterion)\n")
    print("val = mean log AUPRC ratio when training on one training cell type and validating on the other.")
    print("* = chosen for that fold by val. gm/Spearman as above, over the 9 left-out sets.\n")
    keys = list(r["cells"][CELLS[0]]["test"])
    print(f"| variant | gm AUPRCr/Spearman | gm EPR/Spearman | {hdr} | val mDC / mESC / mHSC-L |")
    print("|---" * (4 + len(sets)) + "|")
    for k in keys:
        vals, ratios, eprs = [], [], []
        for c, n in sets:
            rec = r["cells"][c]
            m = rec["test"][k][n]
            star = "*" if k in (rec["chosen_LR"], rec["chosen_GBM"]) else ""
            vals.append(f"{m['auprc_ratio']:.2f}{star}")
            ratios.append(m["auprc_ratio"] / single[c]["abs_spearman"][n]["auprc_ratio"])
            eprs.append(max(m["epr"] / max(single[c]["abs_spearman"][n]["epr"], 1e-9), 0.05))
        val = " / ".join(
            f"{r['cells'][c]['validation'][k]['criterion']:.2f}" if k in r["cells"][c]["validation"] else "-"
            for c in CELLS
        )
        g = geometric_mean(ratios)
        e = geometric_mean(eprs)
        print(f"| {k} | {g:.2f} | {e:.2f} | " + " | ".join(vals) + f" | {val} |")
    print()

    print("## EPR of every trained variant on the left-out cells\n")
    print(f"| variant | {hdr} |")
    print("|---" * (1 + len(sets)) + "|")
    for k in keys:
        print(f"| {k} | " + " | ".join(f"{r['cells'][c]['test'][k][n]['epr']:.2f}" for c, n in sets) + " |")
    print("| abs_pearson | " + " | ".join(f"{single[c]['abs_pearson'][n]['epr']:.2f}" for c, n in sets) + " |")
    print("| abs_spearman | " + " | ".join(f"{single[c]['abs_spearman'][n]['epr']:.2f}" for c, n in sets) + " |")
    print()

    print("## LR coefficients (union labels, all features, standardized within-cell quantiles)\n")
    coefs = r["lr_coef_union_all"]
    order = sorted(names, key=lambda f: -abs(np.mean([coefs[c][f] for c in CELLS])))
    print("| feature | " + " | ".join(f"trained without {c}" for c in CELLS) + " |")
    print("|---" * (1 + len(CELLS)) + "|")
    for f in order[:15]:
        print(f"| {f} | " + " | ".join(f"{coefs[c][f]:+.2f}" for c in CELLS) + " |")
    print()

    print("## Feature computation wall time per cell type (seconds, 2 shared cores)\n")
    print("| cell | cells × genes, regulators | times |")
    print("|---|---|---|")
    for c in CELLS:
        n, g, reg = r["shape"][c]
        print(f"| {c} | {n} × {g}, {reg} | {', '.join(r['times'][c])} |")
    print(f"\nstudy.py wall time: {r['wall_seconds']:.0f} s")


if __name__ == "__main__":
    main()
