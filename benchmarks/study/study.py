"""Leave-one-cell-type-out transfer study of cheap pair scorers (features from features.py).

For each left-out cell type T (mDC, mESC, mHSC-L; TFs+500) models are trained on the two other cell types and
score every (regulator, gene) pair of T; metrics per ground truth of T beside |Pearson| and |Spearman|.
Variant choice (label scheme, feature set, model; the "best single feature") uses only the training cell types:
train on one, validate on the other, both directions, criterion = mean log AUPRC ratio over the
(validation cell, ground truth) sets. T's numbers never enter a choice.

Run: python benchmarks/study/study.py   (writes <CACHE>/results.json, CACHE as in features.py; make_report.py renders it)
"""

from __future__ import annotations

import json
import sys
import time
import warnings
from pathlib import Path

import numpy as np
from scipy.stats import rankdata

sys.path.insert(0, str(Path(__file__).parent))
from features import CACHE, CELLS, NETWORKS, get
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.preprocessing import StandardScaler

from cnnc.metrics import summarize

warnings.filterwarnings("ignore", category=UserWarning)
RNG_SEED = 0
NEG_PER_CELL = 30_000  # negatives kept per training cell type
POS_PER_CELL = 10_000  # positives kept per training cell type

MARGINAL_PREFIXES = ("reg_", "tgt_")
CORR_FEATURES = (
    "abs_pearson",
    "abs_spearman",
    "abs_pearson_conz",
    "abs_pearson_pc3",
    "abs_pearson_pc10",
    "abs_spearman_pc3",
    "z_row_pearson",
    "z_col_pearson",
    "clr_pearson",
    "z_sum_pearson",
    "z_row_spearman",
    "z_col_spearman",
    "clr_spearman",
    "z_sum_spearman",
    "z_row_pearson_pc3",
    "z_col_pearson_pc3",
    "clr_pearson_pc3",
    "z_sum_pearson_pc3",
)


def load_all() -> dict:
    """Per cell: quantile-normalized feature matrix (within the cell's pairs), raw features, labels."""
    data = {}
    for cell in CELLS:
        d = get(cell)
        names = sorted(k[5:] for k in d if k.startswith("feat_"))
        raw = np.column_stack([d["feat_" + k] for k in names]).astype(np.float64)
        q = np.column_stack([(rankdata(raw[:, j]) - 0.5) / len(raw) for j in range(raw.shape[1])])
        data[cell] = {
            "names": names,
            "raw": raw,
            "q": q.astype(np.float32),
            "img_cnnc8": d["img_cnnc8"].astype(np.float32),
            "img_rank8": d["img_rank8"].astype(np.float32),
            "in": {net: d[f"in_{net}"] for net in NETWORKS},
            "y": {net: d[f"y_{net}"] for net in NETWORKS},
            "times": [str(t) for t in d["times"]],
            "shape": [int(v) for v in d["shape"]],
        }
    return data


FEATSETS = {
    "all": lambda names: list(range(len(names))),
    "no_marginals": lambda names: [i for i, n in enumerate(names) if not n.startswith(MARGINAL_PREFIXES)],
    "corr_only": lambda names: [i for i, n in enumerate(names) if n in CORR_FEATURES],
}


def design(dc: dict, featset: str) -> np.ndarray:
    if featset in ("img_cnnc8", "img_rank8"):
        return dc[featset]
    if featset == "img_rank8+all":
        return np.hstack([dc["img_rank8"], dc["q"]])
    return dc["q"][:, FEATSETS[featset](dc["names"])]


def labels(dc: dict, scheme: str, net: str | None) -> tuple[np.ndarray, np.ndarray]:
    """(mask of training pairs, labels) of one cell under a label scheme."""
    if scheme == "per_gt":
        return dc["in"][net], dc["y"][net]
    nets = NETWORKS if scheme == "union" else ("STRING", "Non-Specific")
    mask = np.zeros_like(dc["in"][NETWORKS[0]])
    y = np.zeros_like(mask)
    for n in nets:
        mask |= dc["in"][n]
        y |= dc["y"][n]
    return mask, y


def fit(model: str, train: list[tuple[np.ndarray, np.ndarray]], seed: int = RNG_SEED):
    """Fit on the pooled cells (subsampled, re-weighted to the full cell), each cell weighted equally."""
    rng = np.random.default_rng(seed)
    Xs, ys, ws = [], [], []
    for X, y in train:
        pos = np.flatnonzero(y)
        neg = np.flatnonzero(~y)
        w_pos = len(pos)
        if len(pos) > POS_PER_CELL:
            pos = rng.choice(pos, POS_PER_CELL, replace=False)
        if len(neg) > NEG_PER_CELL:
            neg = rng.choice(neg, NEG_PER_CELL, replace=False)
        idx = np.r_[pos, neg]
        Xs.append(X[idx])
        ys.append(y[idx])
        # equal total weight per cell; within a cell, negatives re-weighted to stand for all negatives
        w = np.full(len(idx), w_pos / len(pos))
        w[len(pos) :] = (~y).sum() / len(neg)
        ws.append(w / w.sum())
    X, y, w = np.vstack(Xs), np.concatenate(ys), np.concatenate(ws)
    w = w / w.mean()
    if model == "LR":
        scaler = StandardScaler().fit(X)
        clf = LogisticRegression(C=1.0, max_iter=1000).fit(scaler.transform(X), y, sample_weight=w)
        return lambda Z: clf.decision_function(scaler.transform(Z)), clf
    clf = HistGradientBoostingClassifier(
        max_iter=100,
        learning_rate=0.05,
        max_leaf_nodes=15,
        min_samples_leaf=200,
        l2_regularization=1.0,
        early_stopping=False,
        random_state=seed,
    ).fit(X, y, sample_weight=w)
    return lambda Z: clf.predict_proba(Z)[:, 1], clf


def evaluate(dc: dict, score: np.ndarray) -> dict:
    out = {}
    for net in NETWORKS:
        m = dc["in"][net]
        s = summarize(dc["y"][net][m], score[m])
        out[net] = {k: s[k] for k in ("auroc", "auprc_ratio", "epr", "n_pairs", "n_positive")}
    return out


def run_variant(data, train_cells, test_cells, scheme, featset, model):
    """Train on train_cells, return {test_cell: {net: metrics}}."""
    res = {c: {} for c in test_cells}
    nets = NETWORKS if scheme == "per_gt" else (None,)
    for net in nets:
        train = []
        for c in train_cells:
            mask, y = labels(data[c], scheme, net)
            train.append((design(data[c], featset)[mask], y[mask]))
        predict, _ = fit(model, train)
        for c in test_cells:
            ev = evaluate(data[c], predict(design(data[c], featset)))
            if net is None:
                res[c] = ev
            else:
                res[c][net] = ev[net]
    return res


def criterion(results: list[dict]) -> float:
    """Mean log AUPRC ratio over every (cell, ground truth) of the given validation results."""
    vals = [np.log(r[net]["auprc_ratio"]) for res in results for r in res.values() for net in NETWORKS]
    return float(np.mean(vals))


def main() -> None:
    t0 = time.perf_counter()
    data = load_all()
    names = data[CELLS[0]]["names"]
    out = {"cells": {}, "single": {}, "times": {c: data[c]["times"] for c in CELLS}}
    out["shape"] = {c: data[c]["shape"] for c in CELLS}

    # single features, no training: every cell × ground truth (descriptive) -----------------------------------
    for cell in CELLS:
        out["single"][cell] = {n: evaluate(data[cell], data[cell]["raw"][:, j]) for j, n in enumerate(names)}
    print(f"single features done ({time.perf_counter() - t0:.0f}s)", flush=True)

    grid = [("union", f, m) for f in FEATSETS for m in ("LR", "GBM")]
    grid += [(s, "all", m) for s in ("union_nonspecific", "per_gt") for m in ("LR", "GBM")]
    images = [("union", f, m) for f in ("img_cnnc8", "img_rank8") for m in ("LR", "GBM")] + [
        ("union", "img_rank8+all", "GBM")
    ]
    for test in CELLS:
        train_cells = [c for c in CELLS if c != test]
        rec = {"validation": {}, "test": {}}
        # best single feature by the training cells only
        single_val = {n: criterion([{c: out["single"][c][n]} for c in train_cells]) for n in names}
        rec["best_single"] = sorted(single_val, key=single_val.get, reverse=True)[:3]
        rec["single_validation"] = single_val
        for variant in grid + images:
            key = "|".join(variant)
            if variant in grid:
                a, b = train_cells
                val = [run_variant(data, [a], [b], *variant), run_variant(data, [b], [a], *variant)]
                rec["validation"][key] = {"criterion": criterion(val), "results": val}
            rec["test"][key] = run_variant(data, train_cells, [test], *variant)[test]
            print(f"{test} {key} ({time.perf_counter() - t0:.0f}s)", flush=True)
        for model in ("LR", "GBM"):
            keys = [k for k in rec["validation"] if k.endswith("|" + model)]
            rec[f"chosen_{model}"] = max(keys, key=lambda k: rec["validation"][k]["criterion"])
        out["cells"][test] = rec

    # LR coefficients of the union/all model trained on each pair of training cells (interpretation) ----------
    coefs = {}
    for test in CELLS:
        train = []
        for c in CELLS:
            if c != test:
                mask, y = labels(data[c], "union", None)
                train.append((data[c]["q"][mask], y[mask]))
        _, clf = fit("LR", train)
        coefs[test] = dict(zip(names, clf.coef_[0].round(3).tolist(), strict=True))
    out["lr_coef_union_all"] = coefs
    out["wall_seconds"] = time.perf_counter() - t0
    (CACHE / "results.json").write_text(json.dumps(out, indent=1))
    print(f"done in {out['wall_seconds']:.0f}s")


if __name__ == "__main__":
    main()
