"""Follow-up (LR only, cheap): a small "context" scalar set, and blending a trained score with z_sum_pearson.

Same protocol as study.py: labels = STRING ∪ Non-Specific edges of the two training cell types; choices are
compared by the validation criterion (train on one training cell type, validate on the other) and reported
on the left-out cell type. Writes <CACHE>/followup.json (features.py) and prints a markdown table.

Run: python benchmarks/study/followup.py
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from scipy.stats import rankdata

sys.path.insert(0, str(Path(__file__).parent))
from features import CACHE, CELLS, NETWORKS
from study import criterion, evaluate, fit, labels, load_all

CONTEXT = [
    "abs_pearson",
    "abs_spearman",
    "z_row_pearson",
    "z_col_pearson",
    "z_row_spearman",
    "z_col_spearman",
    "clr_pearson",
    "clr_spearman",
    "tgt_is_tf",
    "tgt_detect_q",
]
ANCHOR = "z_sum_pearson"
SHORT = {"Specific": "Spec", "STRING": "STRING", "Non-Specific": "NonSpec"}


def scores(data, train_cells, test_cell, featset):
    """{variant: score over the test cell's pairs} for the LR on `featset` and its blends with the anchor."""
    names = data[test_cell]["names"]
    cols = list(range(len(names))) if featset == "all" else [names.index(f) for f in CONTEXT]
    train = []
    for c in train_cells:
        mask, y = labels(data[c], "union_nonspecific", None)
        train.append((data[c]["q"][mask][:, cols], y[mask]))
    predict, _ = fit("LR", train)
    s = predict(data[test_cell]["q"][:, cols])
    q = (rankdata(s) - 0.5) / len(s)
    anchor = data[test_cell]["q"][:, names.index(ANCHOR)]
    return {
        f"LR[{featset}]": s,
        f"0.5 rank LR[{featset}] + 0.5 rank {ANCHOR}": 0.5 * q + 0.5 * anchor,
        f"0.25 rank LR[{featset}] + 0.75 rank {ANCHOR}": 0.25 * q + 0.75 * anchor,
    }


def main() -> None:
    data = load_all()
    out = {}
    for test in CELLS:
        a, b = [c for c in CELLS if c != test]
        rec = {"validation": {}, "test": {}}
        for featset in ("context", "all"):
            val_ab, val_ba = scores(data, [a], b, featset), scores(data, [b], a, featset)
            for key in val_ab:
                rec["validation"][key] = criterion(
                    [{b: evaluate(data[b], val_ab[key])}, {a: evaluate(data[a], val_ba[key])}]
                )
            for key, s in scores(data, [a, b], test, featset).items():
                rec["test"][key] = evaluate(data[test], s)
        names = data[test]["names"]
        anchor = data[test]["raw"][:, names.index(ANCHOR)]
        rec["validation"][ANCHOR] = criterion(
            [{c: evaluate(data[c], data[c]["raw"][:, names.index(ANCHOR)])} for c in (a, b)]
        )
        rec["test"][ANCHOR] = evaluate(data[test], anchor)
        rec["chosen"] = max(rec["validation"], key=rec["validation"].get)
        out[test] = rec
        print(test, "chosen by validation:", rec["chosen"], flush=True)
    (CACHE / "followup.json").write_text(json.dumps(out, indent=1))

    sets = [(c, n) for c in CELLS for n in NETWORKS]
    hdr = " | ".join(f"{c[:4]} {SHORT[n]}" for c, n in sets)
    print(f"\n| score (AUPRC ratio / EPR) | {hdr} | val mDC / mESC / mHSC-L |")
    print("|---" * (2 + len(sets)) + "|")
    for key in out[CELLS[0]]["test"]:
        cells = []
        for c, n in sets:
            m = out[c]["test"][key][n]
            star = "*" if out[c]["chosen"] == key else ""
            cells.append(f"{m['auprc_ratio']:.2f} / {m['epr']:.2f}{star}")
        val = " / ".join(f"{out[c]['validation'][key]:.2f}" for c in CELLS)
        print(f"| {key} | " + " | ".join(cells) + f" | {val} |")


if __name__ == "__main__":
    main()
