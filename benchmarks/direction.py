"""Can pair images call a direction on an unseen cell type? A rule chosen on the training cell types only.

For each left-out BEELINE cell type C (mDC, mESC, mHSC-L; TFs+500) with training cell types A and B:

- the rule is chosen on A and B only, out of sample: a model trained on A alone (``cnnc.tl.train``, recipe
  ``cnnc-pairs``) predicts B and one trained on B predicts A; on each, the one-way TF -> TF true edges (a -> b in a
  truth, b also a regulator there, b -> a in no truth; Specific, Non-Specific and, for mESC, Lofgof pooled) are
  called a -> b where p_ab - p_ba >= m, b -> a where p_ba - p_ab >= m, and left undetermined otherwise. A margin m
  qualifies when on *both* training cell types the calls are right >= 0.65 of the time with a 95% Wilson lower
  bound above 0.5 and at least 20 calls; the qualifying margin that calls the most is chosen; none qualifying means
  "call none";
- the same two models, which never saw C, predict C; each edge's p_ab - p_ba is the mean of theirs, and the
  chosen rule is applied: accuracy on what it calls (95% Wilson interval) and the fraction called. With
  ``--pair-models`` the model trained on A and B together (as ``benchmarks/transfer.py``, the default recipe's
  protocol; about 3-5 CPU minutes of training per fold) predicts C instead.

Every margin's accuracy on C is listed too, for information only: nothing is chosen on C.

Usage: python -m benchmarks.direction     Writes benchmarks/results/direction.json and docs/_generated/direction.md.
"""

from __future__ import annotations

import argparse
import json

import numpy as np
import pandas as pd

import cnnc
from benchmarks._beeline import CELLS, GENERATED, RESULTS, load_cell, table_lookup
from benchmarks.transfer import one_way_edges, train_recipe, wilson

RECIPE = "cnnc-pairs"
MARGINS = (0.0, 0.05, 0.1, 0.15, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8)
TARGET, MIN_CALLS = 0.65, 20


def pooled_one_way(truths: dict[str, pd.DataFrame], names: pd.Index) -> tuple[np.ndarray, np.ndarray]:
    """One-way TF -> TF true edges pooled over a cell type's truths (an edge whose reverse is in any truth drops)."""
    pairs = set()
    for truth in truths.values():
        a, b = one_way_edges(truth, names)
        pairs |= set(zip(a.tolist(), b.tolist(), strict=True))
    pairs = sorted(p for p in pairs if (p[1], p[0]) not in pairs)
    return np.array([p[0] for p in pairs], dtype=int), np.array([p[1] for p in pairs], dtype=int)


def direction_scores(model, adata, truths) -> np.ndarray:
    """p_ab - p_ba of each pooled one-way edge (a -> b true), from ``predict_interactions`` with ``model``."""
    names = pd.Index(adata.var_names)
    regs = sorted(set().union(*(set(t["regulator"]) for t in truths.values())) & set(names))
    scored = adata.copy()
    cnnc.tl.predict_interactions(
        scored,
        model=model,
        tfs=regs,
        targets=regs,
        layer="X",
        settings=cnnc.tl.ScoringSettings(direction="images"),
        key_added="direction",
    )
    edges = scored.uns["direction"]["edges"]
    a, b = pooled_one_way(truths, names)
    p_ab = table_lookup(edges.assign(score=edges["p_ab"]), names, a, b)
    p_ba = table_lookup(edges.assign(score=edges["p_ba"]), names, a, b)
    return p_ab - p_ba


def calls(diff: np.ndarray, margin: float) -> dict:
    """Accuracy on the edges called at ``margin`` (|p_ab - p_ba| >= margin, ties never called) and fraction called."""
    called = (np.abs(diff) >= margin) & (diff != 0)
    n, k = int(called.sum()), int((diff[called] > 0).sum())
    lo, hi = wilson(k, n)
    return {"margin": margin, "edges": int(len(diff)), "called": n, "correct": k,
            "fraction_called": n / max(len(diff), 1), "accuracy": k / n if n else np.nan,
            "ci_low": lo, "ci_high": hi}  # fmt: skip


def qualifies(row: dict) -> bool:
    return row["called"] >= MIN_CALLS and row["accuracy"] >= TARGET and row["ci_low"] > 0.5


def choose(inner: dict[str, np.ndarray]) -> float | None:
    """The margin that calls the most among those qualifying on every training cell type, or None (call none)."""
    ok = [m for m in MARGINS if all(qualifies(calls(d, m)) for d in inner.values())]
    if not ok:
        return None
    return max(ok, key=lambda m: sum(calls(d, m)["called"] for d in inner.values()))


CACHE = RESULTS / "cache" / "direction"


def cached_scores(model_cell: str, data_cell: str, data: dict, compute: bool = True) -> np.ndarray | None:
    """p_ab - p_ba on ``data_cell``'s pooled one-way edges from the model trained on ``model_cell`` alone (cached).

    ``compute=False``: None when not cached.
    """
    path = CACHE / f"{RECIPE}-{model_cell}-on-{data_cell}.npy"
    if path.is_file():
        return np.load(path)
    if not compute:
        return None
    diff = direction_scores(train_recipe(RECIPE, [model_cell], data)[0], *data[data_cell])
    CACHE.mkdir(parents=True, exist_ok=True)
    np.save(path, diff)
    return diff


def run(cells=CELLS, pair_models: bool = False, cached_only: bool = False) -> dict:
    data = {cell: load_cell(cell, lofgof=True) for cell in CELLS}
    out = {
        "left_out_model": "trained on A and B" if pair_models else "mean of the models trained on A and on B",
        "recipe": RECIPE,
        "target": TARGET,
        "min_calls": MIN_CALLS,
        "margins": list(MARGINS),
        "folds": [],
    }
    for left_out in cells:
        train = [c for c in CELLS if c != left_out]
        inner = {f"{x} -> {y}": cached_scores(x, y, data, not cached_only) for x, y in (train, train[::-1])}
        inner = {k: d for k, d in inner.items() if d is not None}
        if len(inner) < 2 and any(choose({k: d}) is not None for k, d in inner.items()):
            raise RuntimeError(f"without {left_out}: the rule needs both training cell types' predictions")
        margin = choose(inner)  # with one missing: None, as the other qualifies for no margin
        if pair_models:
            diff = direction_scores(train_recipe(RECIPE, train, data)[0], *data[left_out])
            scored_by = ["+".join(train)]
        else:
            parts = {c: cached_scores(c, left_out, data, not cached_only) for c in train}
            scored_by = [c for c, d in parts.items() if d is not None]
            if not scored_by:  # nothing to read on the left-out cell type yet; no rule calls anything anyway
                n = len(pooled_one_way(data[left_out][1], pd.Index(data[left_out][0].var_names))[0])
                diff = np.zeros(n)
            else:
                diff = np.mean([parts[c] for c in scored_by], axis=0)
        chosen = calls(diff, margin) if margin is not None else {**calls(diff, np.inf), "margin": None}
        fold = {
            "left_out": left_out,
            "train": train,
            "left_out_scored_by": scored_by,
            "chosen_margin": margin,
            "inner": {k: [calls(d, m) for m in MARGINS] for k, d in inner.items()},
            "left_out_chosen": chosen,
            "left_out_every_margin": [calls(diff, m) for m in MARGINS],
        }
        out["folds"].append(fold)
        print(json.dumps({k: fold[k] for k in ("left_out", "chosen_margin", "left_out_chosen")}, default=float))
    if tuple(cells) == CELLS:
        _write(out)
    return out


def _fmt(r: dict) -> str:
    if not r["called"]:
        return "none called"
    return f"{r['accuracy']:.2f} [{r['ci_low']:.2f}, {r['ci_high']:.2f}] of {r['called']} ({r['fraction_called']:.0%})"


def _write(out: dict) -> None:
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "direction.json").write_text(json.dumps(out, indent=1, default=float))
    lines = [
        f"Direction from pair images ({out['recipe']}) on one-way TF -> TF true edges, leave one cell type out",
        f"(left-out cell type predicted by the {out['left_out_model']}). The",
        "rule (call where |p_ab - p_ba| >= margin) is chosen on the two training cell types only, out of sample (a",
        f"model trained on one predicts the other): a margin qualifies when on both it is right >= {out['target']}",
        f"of the time with a 95% Wilson lower bound above 0.5 and >= {out['min_calls']} calls.",
        "",
        "| left out | edges | chosen margin | on the left-out cell type: accuracy [95% CI] of called (fraction) |",
        "|---|---|---|---|",
    ]
    for f in out["folds"]:
        c = f["left_out_chosen"]
        m = "none qualifies: call none" if f["chosen_margin"] is None else f"{f['chosen_margin']:.2f}"
        by = {
            0: " (left-out predictions not computed)",
            1: f" (scored by the {f['left_out_scored_by'][:1]} model only)",
        }
        by = by.get(len(f["left_out_scored_by"]), "")
        lines.append(f"| {f['left_out']} | {c['edges']} | {m} | {_fmt(c)}{by} |")
    lines += ["", "Every margin, for information (never used to choose):", ""]
    lines += ["| fold | set | " + " | ".join(f"m={m:g}" for m in out["margins"]) + " |",
              "|---|---|" + "---|" * len(out["margins"])]  # fmt: skip
    for f in out["folds"]:
        for k, rows in f["inner"].items():
            lines.append(f"| without {f['left_out']} | {k} (training) | " + " | ".join(_short(r) for r in rows) + " |")
        rows = f["left_out_every_margin"]
        lines.append(
            f"| without {f['left_out']} | {f['left_out']} (left out) | " + " | ".join(map(_short, rows)) + " |"
        )
    GENERATED.mkdir(parents=True, exist_ok=True)
    (GENERATED / "direction.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


def _short(r: dict) -> str:
    return (
        "–"
        if not r["called"] or not np.isfinite(r["accuracy"])
        else f"{r['accuracy']:.2f} ({r['fraction_called']:.0%})"
    )


if __name__ == "__main__":
    import torch

    torch.set_num_threads(1)
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument(
        "--cells", nargs="*", default=list(CELLS), help="left-out cell types (partial runs write nothing)"
    )
    parser.add_argument("--pair-models", action="store_true", help="predict C with a model trained on A and B")
    parser.add_argument("--only", nargs=2, metavar=("MODEL_CELL", "DATA_CELL"), help="compute one cached prediction")
    parser.add_argument("--cached-only", action="store_true", help="use only the predictions already cached")
    args = parser.parse_args()
    if args.only:
        cached_scores(*args.only, {cell: load_cell(cell, lofgof=True) for cell in CELLS})
    else:
        run(tuple(args.cells), args.pair_models, args.cached_only)
