"""Causal directions on real single-cell protein data: cnnc-causal and pairwise baselines on Sachs et al. (2005).

Data: cnnc.datasets.sachs(), 7,466 cells × 11 phospho-proteins pooled over all perturbation conditions, the raw
intensities as published; ground truth: the 18-edge consensus network packaged by the Causal Discovery Toolbox.

- Undirected: AUROC and AUPRC ratio (AUPRC / fraction of positives) over the 55 unordered protein pairs (18
  positives) for |Pearson|, |Spearman|, |partial correlation| (from the inverse correlation matrix of all 11
  proteins), cnnc-causal's 1 - P(none) alone, and the link score of cnnc.tl.causal_scores (context-normalised
  1 - P(none) and |partial correlation| combined) with its two parts alone; 95% intervals by bootstrap over the
  pairs (2,000 resamples).
- Direction: the fraction of the 18 true edges oriented cause -> effect by IGCI, ANM, RECI, pairwise LiNGAM
  (benchmarks/_pairwise.py, implemented from the papers) and cnnc-causal (P(a->b) vs P(b->a), each pair read both
  ways, through cnnc.tl.causal_scores, which also gives bootstrap intervals per edge); 95% Wilson intervals.
- The same direction methods on held-out synthetic pairs of cnnc.datasets.causal_pairs (seeds never used in
  training), without and with the cytometer-like readout, and on the Tübingen real cause-effect pairs (99 pairs
  as packaged by the Causal Discovery Toolbox, read from --tuebingen DIR, default $CNNC_TUEBINGEN_DIR or
  ../shared/causal-pairs/tuebingen; sha256-checked; skipped when absent), which were
  kept aside: no training or tuning step looked at them.

cnnc-causal was trained on synthetic pairs only; its recipe, generator and link score were chosen looking at the
synthetic validation and at these Sachs numbers (the issue allowed tuning on synthetic data and Sachs; every
configuration tried is listed in TUNING and SCORES_TRIED): the Sachs numbers are therefore not a held-out test.

    python benchmarks/causal.py [--model NAME_OR_PATH] [--no-write] [--card FILE]

Writes benchmarks/results/causal.json and docs/_generated/causal.md. ``--card FILE`` also writes the measured
numbers into the model card of the model file FILE (same weights, new spec metrics), copies it into the package as
cnnc-causal and updates its entry in the model registry (sha256, metrics).
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path

import anndata as ad
import numpy as np
import pandas as pd
from scipy import stats
from sklearn.metrics import average_precision_score, roc_auc_score

import cnnc

from . import _pairwise

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results" / "causal.json"
#: The Tübingen pairs: the two CSV files of cdt 0.6.0's cdt/data/resources (`pip download cdt==0.6.0 --no-deps`),
#: kept outside the package's data folder (whose registry they are not part of)
TUEBINGEN = Path(os.environ.get("CNNC_TUEBINGEN_DIR", ROOT.parent / "shared" / "causal-pairs" / "tuebingen"))
#: Bootstrap resamples of the cells behind the intervals of cnnc.tl.causal_scores
N_BOOT = 50
DOCS = ROOT / "docs" / "_generated" / "causal.md"
REFERENCE = {  # measured by the authors on the same data and ground truth
    "undirected": {"|Pearson|": (0.53, 1.48), "|Spearman|": (0.54, 1.50), "|partial correlation|": (0.73, 1.98)},
    "direction": {"IGCI": 0.56, "ANM": 0.22, "RECI": 0.67, "LiNGAM": "0.50-0.61"},
}
TUNING = (  # every variant tried while choosing the shipped model: Sachs direction, AUROC of 1 - P(none) (--model)
    "mean shifts of either variable in 30% of the pairs, 40,000 pairs: 10/18, 0.68",
    "shifts or hard interventions in 2-8 regimes in 50% of the pairs, 40,000 pairs: 12/18, 0.71",
    "the same, 60,000 pairs and 10 epochs (shipped): 12/18, 0.71",
    "the same plus inhibitors of the cause's activity (inhibition=0.5): 11/18, 0.68",
    "the shipped model read in all 8 flips and transpositions of each image, averaged: 12/18",
    "the shipped recipe with training seed 1: 11/18, 0.70 (causal_scores link 0.76 / 2.09)",
    "cytometer-like readout of 50% of the pairs (readout=0.5): 10/18, 0.68 (causal_scores link 0.77 / 2.07)",
    "80% of the pairs pooled over regimes (p_interventions=0.8): 11/18, 0.72 (causal_scores link 0.78 / 2.10)",
    "the same with training seed 1: 11/18, 0.71 (causal_scores link 0.77 / 2.08)",
)
#: Link-score variants tried on Sachs (AUROC / AUPRC ratio, with the model shipped before; benchmarks/causal.py's
#: auroc_auprc on the same 55 pairs), before settling on the score of cnnc.tl.causal_scores
SCORES_TRIED = (
    "|partial correlation| of log intensities: 0.66 / 1.57",
    "|partial correlation| of ranks: 0.68 / 1.66",
    "|partial correlation| of Gaussianised ranks: 0.68 / 1.63",
    "context z-score of 1 - P(none): 0.74 / 1.93",
    "context z-score of |partial correlation|: 0.76 / 2.04",
    "mean percentile of 1 - P(none) and |partial correlation|: 0.76 / 1.91",
    "product of 1 - P(none) and |partial correlation|: 0.74 / 2.00",
    "mean percentile of 1 - P(none) and |partial correlation| of Gaussianised ranks: 0.72 / 1.67",
    "mean percentile of the context z-scores of 1 - P(none) and |partial correlation| (kept): 0.77 / 2.08",
    "1 - P(none) of 'partial images' (residuals of both variables given the other 9, Gaussianised ranks): 0.64 / 1.62",
    "mean percentile of partial-image 1 - P(none) and |partial correlation|: 0.67 / 1.81",
)
#: Direction from more than the pair (issue 18, second round), each configuration chosen before it was run on Sachs
#: and run once; k/18 on Sachs. The first three are rows of the direction table (network_direction,
#: conditional_direction); none reached 13/18, so the direction of causal_scores is unchanged.
DIRECTION_TRIED = (
    "cnnc.tl.causal_network, estimated skeleton (alpha=0.01, max_cond=3, the defaults fixed before any Sachs run), "
    "true edges missing from the skeleton oriented by the pair images: 11/18",
    "cnnc.tl.causal_network on the true 18-edge skeleton (orientation only): 11/18",
    "cnnc-causal on conditional images (residuals of both variables' normal scores given the other 9): 12/18",
    "causal_network as first written, whose Meek rules re-oriented edges two colliders had claimed both ways (a bug) "
    "and whose colliders needed no separating set that passes the test: estimated skeleton 13/18, true skeleton "
    "10/18",
    "the same with the separating-set rule added (the bug still in): estimated skeleton 13/18 (the true-skeleton count "
    "was not read); a test then found the bug, and the fixed function gives the rows above",
)
#: Configurations looked at on Sachs
N_TRIED = len(TUNING) + len(SCORES_TRIED) + len(DIRECTION_TRIED)
#: Bootstrap resamples of the cells for the spread of causal_network's Sachs count
N_NETWORK_BOOT = 20
#: Parts of the causal_scores link score on their own (columns of its edges table)
ABLATIONS = {
    "ablation: context z of |partial correlation| only": "partial_context",
    "ablation: context z of 1 - P(none) only": "link_context",
}
BASELINES = {
    "IGCI": _pairwise.igci,
    "ANM": _pairwise.anm,
    "RECI": _pairwise.reci,
    "LiNGAM (tanh)": _pairwise.lingam_pairwise,
    "LiNGAM (skew)": lambda x, y: _pairwise.lingam_pairwise(x, y, measure="skew"),
}


def auroc_auprc(y: np.ndarray, s: np.ndarray, *, n_boot: int = 2000, seed: int = 0) -> dict:
    """AUROC and AUPRC ratio with 95% bootstrap intervals (resampling pairs, both classes kept)."""
    rng = np.random.default_rng(seed)
    out = {"auroc": roc_auc_score(y, s), "auprc_ratio": average_precision_score(y, s) / y.mean()}
    boots = []
    for _ in range(n_boot):
        i = rng.integers(0, len(y), len(y))
        if y[i].all() or not y[i].any():
            continue
        boots.append((roc_auc_score(y[i], s[i]), average_precision_score(y[i], s[i]) / y[i].mean()))
    boots = np.array(boots)
    for k, col in (("auroc", 0), ("auprc_ratio", 1)):
        out[f"{k}_ci"] = [float(np.quantile(boots[:, col], 0.025)), float(np.quantile(boots[:, col], 0.975))]
        out[k] = float(out[k])
    return out


def binomial(correct: np.ndarray) -> dict:
    """Accuracy with its 95% Wilson score interval."""
    k, n = int(np.sum(correct)), len(correct)
    ci = stats.binomtest(k, n).proportion_ci(0.95, method="wilson")
    return {"accuracy": k / n, "correct": k, "n": n, "ci": [float(ci.low), float(ci.high)]}


def partial_correlation(x: np.ndarray) -> np.ndarray:
    """Partial correlations from the inverse correlation matrix (written here, independently of the package)."""
    precision = np.linalg.inv(np.corrcoef(x.T))
    d = np.sqrt(np.diag(precision))
    return -precision / np.outer(d, d)


def cnnc_scores(adata, model, pairs: list[tuple[str, str]]) -> pd.DataFrame:
    """P(none), P(a->b), P(b->a) of each pair (a, b) from cnnc.tl.predict_interactions (both image orientations)."""
    out = cnnc.tl.predict_interactions(adata, model=model, pairs=pairs, copy=True)
    edges = out.uns["cnnc"]["edges"].set_index(["regulator", "target"])
    return edges.loc[pairs, ["p_none", "p_ab", "p_ba"]]


def sachs_tables(model) -> dict:
    adata = cnnc.datasets.sachs()
    x = adata.X.astype(np.float64)
    names = list(adata.var_names)
    truth = adata.uns["ground_truth"]
    edges = list(zip(truth["regulator"], truth["target"], strict=True))
    linked = {frozenset(e) for e in edges}
    pairs = [(names[i], names[j]) for i in range(len(names)) for j in range(i + 1, len(names))]
    y = np.array([frozenset(p) in linked for p in pairs])
    ij = [(names.index(a), names.index(b)) for a, b in pairs]

    t0 = time.time()
    proba = cnnc_scores(adata, model, pairs)
    cnnc_seconds = time.time() - t0
    scores = {
        "|Pearson|": np.abs(np.corrcoef(x.T)),
        "|Spearman|": np.abs(stats.spearmanr(x).statistic),
        "|partial correlation|": np.abs(partial_correlation(x)),
    }
    undirected = {k: auroc_auprc(y, np.array([m[i, j] for i, j in ij])) for k, m in scores.items()}
    undirected["cnnc-causal 1 - P(none)"] = auroc_auprc(y, 1 - proba["p_none"].to_numpy())
    t0 = time.time()
    scored = cnnc.tl.causal_scores(adata, model=model, n_boot=N_BOOT, seed=0, copy=True).uns["cnnc_causal"]["edges"]
    scores_seconds = time.time() - t0
    by_pair = {frozenset((row.regulator, row.target)): row for row in scored.itertuples()}
    undirected["cnnc-causal"] = auroc_auprc(y, np.array([by_pair[frozenset(p)].score for p in pairs]))
    for name, column in ABLATIONS.items():
        undirected[name] = auroc_auprc(y, np.array([getattr(by_pair[frozenset(p)], column) for p in pairs]))

    direction = {}
    for name, fn in BASELINES.items():
        correct = [fn(x[:, names.index(c)], x[:, names.index(e)]) > 0 for c, e in edges]
        direction[name] = binomial(np.array(correct))
    per_edge = []
    for c, e in edges:
        row = by_pair[frozenset((c, e))]
        same = row.regulator == c  # causal_scores orients each pair by its direction score
        per_edge.append(
            {
                "cause": c,
                "effect": e,
                "p_forward": float(row.p_forward if same else row.p_backward),
                "p_backward": float(row.p_backward if same else row.p_forward),
                "p_none": float(row.p_none),
                "direction": float(row.direction if same else -row.direction),
                "direction_ci": [
                    float(row.direction_low if same else -row.direction_high),
                    float(row.direction_high if same else -row.direction_low),
                ],
                "p_direction": float(row.p_direction if same else 1 - row.p_direction),
                "score": float(row.score),
            }
        )
    per_edge = pd.DataFrame(per_edge)
    direction["cnnc-causal"] = binomial((per_edge["direction"] > 0).to_numpy())
    # predict_interactions reads the same images both ways: it must orient every edge as causal_scores does
    forward = [
        proba.loc[(c, e), "p_ab"] > proba.loc[(c, e), "p_ba"]
        if (c, e) in proba.index
        else proba.loc[(e, c), "p_ba"] > proba.loc[(e, c), "p_ab"]
        for c, e in edges
    ]
    if sum(forward) != direction["cnnc-causal"]["correct"]:
        raise RuntimeError("predict_interactions and causal_scores disagree on the direction of a Sachs edge.")
    image_says = {
        (c, e): bool(d > 0)
        for c, e, d in zip(per_edge["cause"], per_edge["effect"], per_edge["direction"], strict=True)
    }
    network = network_direction(adata, model, edges, image_says)
    for name, d in network.items():
        direction[name] = d["direction"]
    direction["cnnc-causal, conditional images"] = conditional_direction(x, model, names, edges)
    return {
        "undirected": undirected,
        "direction": direction,
        "cnnc_causal_edges": per_edge.round(4).to_dict(orient="records"),
        "network": network,
        "cnnc_seconds": round(cnnc_seconds, 2),
        "causal_scores_seconds": round(scores_seconds, 2),
        "n_boot": N_BOOT,
    }


NETWORK = {
    "cnnc.tl.causal_network (estimated skeleton; missed edges: images)": {},
    "cnnc.tl.causal_network on the true skeleton": {"true_skeleton": True},
}


def _network_calls(adata, model, edges, image_says, *, true_skeleton: bool = False) -> dict:
    """Orientation of each true edge by causal_network; edges missing from its skeleton take the pair image's call."""
    result = cnnc.tl.causal_network(adata, model=model, skeleton=edges if true_skeleton else None, copy=True)
    found = result.uns["cnnc_network"]["edges"]
    calls = {
        frozenset((r, t)): (r, how) for r, t, how in zip(found.regulator, found.target, found.oriented_by, strict=True)
    }
    correct, source = [], []
    for c, e in edges:
        regulator, how = calls.get(frozenset((c, e)), (c if image_says[(c, e)] else e, "not in skeleton: image"))
        correct.append(regulator == c)
        source.append(how)
    truth = {frozenset(e) for e in edges}
    links = {frozenset((r, t)) for r, t in zip(found.regulator, found.target, strict=True)}
    return {"correct": np.array(correct), "source": source, "n_links": len(links), "true_links": len(links & truth)}


def network_direction(adata, model, edges, image_says) -> dict:
    """causal_network's Sachs rows: direction on the 18 edges, what oriented each, skeleton recall and precision."""
    out = {}
    for name, kwargs in NETWORK.items():
        calls = _network_calls(adata, model, edges, image_says, **kwargs)
        out[name] = {
            "direction": binomial(calls["correct"]),
            "oriented_by": {str(k): int(v) for k, v in pd.Series(calls["source"]).value_counts().items()},
            "correct_by_source": {
                k: int(sum(ok for ok, s in zip(calls["correct"], calls["source"], strict=True) if s == k))
                for k in set(calls["source"])
            },
            "skeleton_links": calls["n_links"],
            "skeleton_true_links": calls["true_links"],
        }
        if not kwargs.get("true_skeleton"):
            # the spread of the count over resamples of the cells (skeleton and images both recomputed)
            rng = np.random.default_rng(0)
            counts = []
            for _ in range(N_NETWORK_BOOT):
                boot = adata[rng.integers(0, adata.n_obs, adata.n_obs)].copy()
                boot.obs_names_make_unique()
                scored = cnnc.tl.causal_scores(boot, model=model, n_boot=0, copy=True).uns["cnnc_causal"]["edges"]
                says = {frozenset((r, t)): r for r, t in zip(scored.regulator, scored.target, strict=True)}
                boot_image = {(c, e): says[frozenset((c, e))] == c for c, e in edges}
                counts.append(int(_network_calls(boot, model, edges, boot_image)["correct"].sum()))
            out[name]["bootstrap_correct"] = counts
    return out


def conditional_direction(x: np.ndarray, model, names: list[str], edges) -> dict:
    """cnnc-causal read on 'conditional images': both variables' normal scores after regressing out the other 9.

    The residuals remove the linear part of what shared upstream variables (PKA, PKC) put into both; the model then
    reads the pair image of the residuals both ways, as for any pair.
    """
    ranks = stats.rankdata(x, axis=0)  # normal scores: standard normal quantiles of each column's ranks
    z = stats.norm.ppf((ranks - 0.5) / len(x))
    correct = []
    for c, e in edges:
        i, j = names.index(c), names.index(e)
        others = np.column_stack([np.delete(z, [i, j], axis=1), np.ones(len(z))])
        fit = np.linalg.lstsq(others, z[:, [i, j]], rcond=None)[0]
        residuals = z[:, [i, j]] - others @ fit
        pair = ad.AnnData(residuals, var=pd.DataFrame(index=["cause", "effect"]))
        p = cnnc_scores(pair, model, [("cause", "effect")]).iloc[0]
        correct.append(p["p_ab"] > p["p_ba"])
    return binomial(np.array(correct))


def synthetic_direction(
    model, *, n_pairs: int = 300, n_cells: int = 1000, seed: int = 987_654, readout: float = 0.0
) -> dict:
    """Direction accuracy on held-out generator pairs (a seed never used in training)."""
    adata = cnnc.datasets.causal_pairs(n_pairs, n_cells=n_cells, seed=seed, readout=readout)
    pairs = adata.uns["pairs"]
    causal = pairs[pairs["label"] != "none"]
    forward = (causal["label"] == "a->b").to_numpy()
    x = adata.X.astype(np.float64)
    col = adata.var_names.get_indexer
    out = {}
    a, b = col(causal["gene_a"]), col(causal["gene_b"])
    for name, fn in BASELINES.items():
        says_ab = np.array([fn(x[:, i], x[:, j]) > 0 for i, j in zip(a, b, strict=True)])
        out[name] = binomial(says_ab == forward)
    proba = cnnc_scores(adata, model, list(zip(pairs["gene_a"], pairs["gene_b"], strict=True)))
    p_causal = proba.loc[list(zip(causal["gene_a"], causal["gene_b"], strict=True))]
    out["cnnc-causal"] = binomial((p_causal["p_ab"] > p_causal["p_ba"]).to_numpy() == forward)
    link = auroc_auprc((pairs["label"] != "none").to_numpy(), 1 - proba["p_none"].to_numpy(), n_boot=200)
    return {
        "n_pairs": n_pairs,
        "n_cells": n_cells,
        "seed": seed,
        "readout": readout,
        "direction": out,
        "cnnc_causal_link": link,
    }


TUEBINGEN_SHA256 = {
    "Tuebingen_pairs.csv": "e3726459486cf50642de62ce4ceb35669100f6867bd564863b4663546c1393cf",
    "Tuebingen_targets.csv": "a685bc4a610433a7b59f1deff71fb92333a4b1bb4764c6fec0603b6e559dba74",
}


def tuebingen_pairs(folder: Path) -> list[tuple[str, np.ndarray, np.ndarray]] | None:
    """The 99 real cause-effect pairs of the Causal Discovery Toolbox (cause first), or None when not there."""
    import hashlib

    if not all((folder / f).exists() for f in TUEBINGEN_SHA256):
        return None
    for name, sha in TUEBINGEN_SHA256.items():
        if hashlib.sha256((folder / name).read_bytes()).hexdigest() != sha:
            raise ValueError(f"{folder / name} is not the expected file (sha256 differs).")
    data = pd.read_csv(folder / "Tuebingen_pairs.csv")
    targets = pd.read_csv(folder / "Tuebingen_targets.csv").set_index("SampleID")["Target"]
    out = []
    for row in data.itertuples():
        a = np.array(row.A.split(), dtype=np.float64)
        b = np.array(row.B.split(), dtype=np.float64)
        cause_first = targets[row.SampleID] > 0
        out.append((row.SampleID, a, b) if cause_first else (row.SampleID, b, a))
    return out


def kept_aside_real(model, folder: Path) -> dict | None:
    """Direction accuracy on the Tübingen cause-effect pairs: real pairs no training or tuning step looked at."""
    pairs = tuebingen_pairs(folder)
    if pairs is None:
        print(f"no Tübingen pairs in {folder}: the kept-aside check is skipped")
        return None
    out = {name: [] for name in BASELINES}
    out["cnnc-causal"] = []
    for _, cause, effect in pairs:
        for name, fn in BASELINES.items():
            out[name].append(fn(cause, effect) > 0)
        adata = ad.AnnData(np.column_stack([cause, effect]).astype(np.float32))
        adata.var_names = ["cause", "effect"]
        p = cnnc_scores(adata, model, [("cause", "effect")]).iloc[0]
        out["cnnc-causal"].append(p["p_ab"] > p["p_ba"])
    return {
        "n_pairs": len(pairs),
        "source": "Tuebingen cause-effect pairs (Mooij et al. 2016) as packaged by the Causal Discovery Toolbox",
        "weights": "none (unweighted: pairs from the same data set count separately)",
        "direction": {name: binomial(np.array(v)) for name, v in out.items()},
    }


def _ci(d: dict, key: str) -> str:
    lo, hi = d[f"{key}_ci"] if f"{key}_ci" in d else d["ci"]
    return f"{d[key]:.2f} [{lo:.2f}, {hi:.2f}]"


def markdown(result: dict) -> str:
    s = result["sachs"]
    n_tried = N_TRIED
    lines = [
        "Sachs et al. (2005), 7,466 cells × 11 proteins (raw intensities, all conditions pooled), 18-edge consensus"
        " network of the Causal Discovery Toolbox. 95% intervals in brackets: bootstrap over pairs for AUROC and"
        " AUPRC ratio, Wilson score intervals for accuracies. cnnc-causal was trained on synthetic pairs only, but"
        f" {n_tried} configurations (generator and training variants, link scores, directions from more than the"
        " pair; listed below) were tried on Sachs"
        " and the best kept, as the issue allowed: the Sachs numbers are not a held-out test. The Tübingen"
        " cause-effect pairs (real, kept aside: looked at only to report the shipped model) are.",
        "",
        "**Undirected** (55 protein pairs, 18 linked)",
        "",
        "| score | AUROC | AUPRC ratio | issue's reference |",
        "|---|---|---|---|",
    ]
    for name, d in s["undirected"].items():
        ref = REFERENCE["undirected"].get(name)
        ref = f"{ref[0]:.2f} / {ref[1]:.2f}" if ref else ""
        label = name.replace("|", chr(92) + "|")
        if name == "cnnc-causal":
            label = "cnnc-causal: `cnnc.tl.causal_scores` score"
        lines.append(f"| {label} | {_ci(d, 'auroc')} | {_ci(d, 'auprc_ratio')} | {ref} |")
    lines += [
        "",
        "`causal_scores` ranks pairs by the mean percentile of two context-normalised scores (each pair's value"
        " z-scored among its two variables' values to all others): the image model's 1 - P(none) and |partial"
        " correlation| given the other 9 proteins.",
    ]
    syn, cyto, real = result["synthetic"], result["synthetic_readout"], result.get("kept_aside_real")
    header = "| method | Sachs (18 edges) | issue's reference | synthetic held-out | synthetic, cytometer readout |"
    rule = "|---|---|---|---|---|"
    if real:
        header += f" Tübingen, kept aside ({real['n_pairs']} real pairs) |"
        rule += "---|"
    lines += [
        "",
        f"**Direction** (fraction of true edges oriented cause → effect; synthetic: {syn['n_pairs']} held-out"
        f" generator pairs of {syn['n_cells']} samples, causal ones only, without and with the cytometer-like"
        " readout of both variables)",
        "",
        header,
        rule,
    ]
    for name, d in s["direction"].items():
        ref = REFERENCE["direction"].get(name.split(" ")[0], "")
        # network orientation and conditional images need the other variables: no isolated-pair numbers
        pairwise = name in syn["direction"]
        na = "n/a (needs other variables)"
        row = (
            f"| {name} | {_ci(d, 'accuracy')} ({d['correct']}/{d['n']}) | {ref} |"
            f" {_ci(syn['direction'][name], 'accuracy') if pairwise else na} |"
            f" {_ci(cyto['direction'][name], 'accuracy') if pairwise else na} |"
        )
        if real:
            r = real["direction"].get(name)
            row += f" {_ci(r, 'accuracy')} ({r['correct']}/{r['n']}) |" if r else f" {na} |"
        lines.append(row)
    best_auroc = max(max(v[0] for v in REFERENCE["undirected"].values()), _best_baseline(s, "auroc"))
    best_ratio = max(max(v[1] for v in REFERENCE["undirected"].values()), _best_baseline(s, "auprc_ratio"))
    best_direction = max(
        max(d["accuracy"] for k, d in s["direction"].items() if not k.startswith(("cnnc", "cnnc.tl"))), 0.67
    )
    mine_u, mine_d = s["undirected"]["cnnc-causal"], s["direction"]["cnnc-causal"]["accuracy"]
    verdict = [
        ("undirected AUROC", mine_u["auroc"], best_auroc),
        ("undirected AUPRC ratio", mine_u["auprc_ratio"], best_ratio),
        ("direction accuracy", mine_d, best_direction),
    ]
    lines += [
        "",
        "Target (above every reference and every baseline run here, on Sachs): "
        + "; ".join(f"{k} {v:.2f} vs {b:.2f}: {'met' if v > b + 1e-9 else 'missed'}" for k, v, b in verdict)
        + ". With 18 edges and 55 pairs the 95% intervals are wide and overlap: no difference between methods"
        " on Sachs is significant.",
    ]
    if real:
        lines += [
            "",
            "Tübingen pairs as packaged by the Causal Discovery Toolbox, unweighted (the original benchmark weighs"
            " pairs from the same data set down; these files carry no weights).",
        ]
    if s.get("network"):
        lines += ["", network_markdown(s)]
    lines += ["", f"Configurations tried on Sachs ({n_tried}):", ""]
    lines += [f"- model: {t}" for t in TUNING]
    lines += [f"- link score: {t}" for t in SCORES_TRIED]
    lines += [f"- direction beyond the pair: {t}" for t in DIRECTION_TRIED]
    lines += [
        "",
        "No retrained variant oriented more Sachs edges than the weights shipped before, which were kept (a run with"
        " readout=0.5 and inhibition=0.3 was stopped before it was evaluated); the link score of causal_scores was"
        " chosen among the variants above.",
    ]
    lines += [
        "",
        "cnnc-causal on each true edge: P(cause → effect), P(effect → cause), P(none), the direction score"
        f" P(cause → effect) - P(effect → cause) with its 95% interval and the share of {s['n_boot']} bootstrap"
        " resamples of the cells that orient the edge cause → effect (`cnnc.tl.causal_scores`); the intervals"
        " cover sampling noise only, not the model's errors:",
        "",
        "| cause | effect | forward | backward | none | direction [95%] | P(forward) over resamples |",
        "|---|---|---|---|---|---|---|",
    ]
    for e in s["cnnc_causal_edges"]:
        lo, hi = e["direction_ci"]
        lines.append(
            f"| {e['cause']} | {e['effect']} | {e['p_forward']:.3f} | {e['p_backward']:.3f} | {e['p_none']:.3f} |"
            f" {e['direction']:+.2f} [{lo:+.2f}, {hi:+.2f}] | {e['p_direction']:.2f} |"
        )
    return "\n".join(lines) + "\n"


def network_markdown(s: dict) -> str:
    """What oriented the true edges in the causal_network rows, and the spread over resampled cells."""
    parts = []
    for name, d in s["network"].items():
        by = ", ".join(
            f"{k}: {d['correct_by_source'].get(k, 0)}/{v} correct" for k, v in sorted(d["oriented_by"].items())
        )
        text = (
            f"{name}: skeleton of {d['skeleton_links']} links, {d['skeleton_true_links']} of the 18 true ones; the"
            f" true edges were oriented by {by}"
        )
        if "bootstrap_correct" in d:
            c = np.array(d["bootstrap_correct"])
            text += (
                f"; over {len(c)} bootstrap resamples of the cells the count of correct edges has median"
                f" {np.median(c):g}, range {c.min()}-{c.max()}, and reaches 13/18 in {int((c >= 13).sum())}"
            )
        parts.append(text + ".")
    return (
        "`cnnc.tl.causal_network` (PC-stable skeleton from Fisher z tests of partial correlations of normal scores,"
        " colliders by the separating set of largest p-value, Meek's rules, pair images for what is left) uses the"
        " other proteins, so it applies to networks only, not to isolated pairs such as the Tübingen ones. The"
        " cells pool conditions that perturb different proteins, which its tests assume away. " + " ".join(parts)
    )


def _best_baseline(s: dict, key: str) -> float:
    """The best undirected baseline run here (every score but cnnc-causal's)."""
    return max(d[key] for k, d in s["undirected"].items() if not k.startswith(("cnnc", "ablation")))


WEIGHTS = ROOT / "src" / "cnnc" / "models" / "weights"
DESCRIPTION = (
    "Cause-effect direction of any two measured variables (3 classes: none, a->b, b->a) from their rank pair "
    "image (16x16 quantile bins), trained only on synthetic pairs of cnnc.datasets.causal_pairs. Reads any "
    "continuous or discrete values (expression, protein intensities, z-scores); the raw-count check does not apply."
)
LIMITS = (
    "Pairwise: a pair's image ignores every other variable, so indirect links and confounded pairs are often "
    "called edges; for networks use cnnc.tl.causal_scores, which adds context-normalised partial correlations. "
    "Tuned on Sachs (18 edges; the configurations tried are listed in benchmarks/causal.py), so its Sachs numbers "
    "are optimistic; on the kept-aside Tuebingen real pairs it is near chance (see the card's metrics). Direction "
    "calls on real data are uncertain: use P(a->b) - P(b->a) as a score with its bootstrap interval "
    "(cnnc.tl.causal_scores), not as a label."
)


def card_metrics(result: dict) -> dict:
    s, syn, cyto = result["sachs"], result["synthetic"], result["synthetic_readout"]
    und, image, dirn = s["undirected"]["cnnc-causal"], s["undirected"]["cnnc-causal 1 - P(none)"], s["direction"]
    out = {
        "sachs undirected auroc (55 pairs, cnnc.tl.causal_scores)": round(und["auroc"], 3),
        "sachs undirected auroc 95% ci": [round(v, 3) for v in und["auroc_ci"]],
        "sachs undirected auprc_ratio": round(und["auprc_ratio"], 3),
        "sachs undirected auprc_ratio 95% ci": [round(v, 3) for v in und["auprc_ratio_ci"]],
        "sachs undirected auroc of 1 - p_none alone": round(image["auroc"], 3),
        "sachs direction correct (18 edges)": dirn["cnnc-causal"]["correct"],
        "sachs direction accuracy (18 edges)": round(dirn["cnnc-causal"]["accuracy"], 3),
        "sachs direction accuracy 95% wilson ci": [round(v, 3) for v in dirn["cnnc-causal"]["ci"]],
        "synthetic held-out direction accuracy": round(syn["direction"]["cnnc-causal"]["accuracy"], 3),
        "synthetic held-out link auroc": round(syn["cnnc_causal_link"]["auroc"], 3),
        "synthetic held-out (cytometer readout) direction accuracy": round(
            cyto["direction"]["cnnc-causal"]["accuracy"], 3
        ),
    }
    real = result.get("kept_aside_real")
    if real:
        r = real["direction"]["cnnc-causal"]
        out["tuebingen kept-aside direction accuracy (99 real pairs, unweighted)"] = round(r["accuracy"], 3)
        out["tuebingen kept-aside direction 95% wilson ci"] = [round(v, 3) for v in r["ci"]]
    out["evaluation"] = (
        "benchmarks/causal.py. Sachs is not held out: "
        f"{N_TRIED} configurations were tried on it (issue 18 allowed tuning on synthetic "
        "data and Sachs); the Tuebingen pairs were kept aside and looked at only for the shipped model"
    )
    return out


def write_card(source: Path, result: dict) -> str:
    """Copy the model file into the package with the measured numbers in its card; register it. Returns sha256."""
    model = cnnc.models.load(source)
    spec = model.spec
    kept = {k: v for k, v in spec.metrics.items() if k.startswith("synthetic validation") and not k.endswith("loss")}
    spec.metrics = {**kept, **card_metrics(result)}
    path = model.save(WEIGHTS / "cnnc-causal.safetensors")
    registry_path = WEIGHTS / "registry.json"
    registry = json.loads(registry_path.read_text())
    registry["models"]["cnnc-causal"] = {
        "file": path.name,
        "sha256": model.sha256,
        "url": None,
        "bundled": True,
        "description": DESCRIPTION,
        "training": spec.training,
        "metrics": spec.metrics,
        "task": "direction",
        "species": ["any"],
        "expects": spec.expects,
        "limits": LIMITS,
    }
    registry_path.write_text(json.dumps(registry, indent=2) + "\n")
    return model.sha256


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", default="cnnc-causal")
    parser.add_argument("--no-write", action="store_true")
    parser.add_argument("--card", type=Path, default=None)
    parser.add_argument("--tuebingen", type=Path, default=TUEBINGEN)
    args = parser.parse_args(argv)
    import torch

    torch.set_num_threads(1)
    model = cnnc.models.load(args.card if args.card is not None else args.model)
    result = {
        "model": args.model,
        "model_sha256": model.sha256,
        "sachs": sachs_tables(model),
        "synthetic": synthetic_direction(model),
        "synthetic_readout": synthetic_direction(model, seed=987_655, readout=1.0),
        "kept_aside_real": kept_aside_real(model, args.tuebingen),
    }
    if args.card is not None:
        result["model"] = "cnnc-causal"
        result["model_sha256"] = write_card(args.card, result)
    text = markdown(result)
    print(text)
    if not args.no_write:
        RESULTS.parent.mkdir(parents=True, exist_ok=True)
        RESULTS.write_text(json.dumps(result, indent=1) + "\n")
        DOCS.write_text(text)
        print(f"wrote {RESULTS} and {DOCS}")


if __name__ == "__main__":
    main()
