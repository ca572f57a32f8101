"""Causal directions on real single-cell protein data: cnnc-causal and pairwise baselines on Sachs et al. (2005).

Data: cnnc.datasets.sachs(), 7,466 cells × 11 phospho-proteins pooled over all perturbation conditions, the raw
intensities as published; ground truth: the 18-edge consensus network packaged by the Causal Discovery Toolbox.

- Undirected: AUROC and AUPRC ratio (AUPRC / fraction of positives) over the 55 unordered protein pairs (18
  positives) for |Pearson|, |Spearman|, |partial correlation| (from the inverse correlation matrix of all 11
  proteins), cnnc-causal's 1 - P(none) alone, and the link score of cnnc.tl.causal_scores (context-normalised
  1 - P(none) and |partial correlation| combined) with its two parts alone; 95% intervals by bootstrap over the
  pairs (2,000 resamples).
- Direction: the fraction of the 18 true edges oriented cause -> effect, a decision forced on every edge (a tie
  counts half), by IGCI, ANM, RECI, pairwise LiNGAM and a bz2 compression baseline (benchmarks/_pairwise.py,
  implemented from the papers), by the same methods from maintained packages (cdt 0.6.0's IGCI, RECI, ANM, CDS and
  lingam's DirectLiNGAM, run in a separate benchmark venv by benchmarks/_causal_baselines.py; skipped when
  absent), by the previous cnnc-causal (``cnnc-causal-1``) and by cnnc-causal (P(a->b) vs P(b->a), each pair read
  both ways, through cnnc.tl.causal_scores, which also gives bootstrap intervals per edge); 95% intervals by
  bootstrap over the pairs.
- The same direction methods on held-out synthetic pairs of cnnc.datasets.causal_pairs (seeds never used in
  training) of both generators, without and with the cytometer-like readout, and on the Tübingen real
  cause-effect pairs (the 99 univariate pairs as packaged by the Causal Discovery Toolbox, read from --tuebingen
  DIR, default $CNNC_TUEBINGEN_DIR or ../shared/causal-pairs/tuebingen; sha256-checked; skipped when absent),
  weighted as the original benchmark (all pairs, and the continuous ones). Tübingen is the final check, not a
  tuning set: every setting was chosen on synthetic data and Sachs, each candidate was run on Tübingen once and
  is listed in CANDIDATES.

cnnc-causal was trained on synthetic pairs only; its recipe, generator and link score were chosen looking at the
synthetic validation and at these Sachs numbers (the issue allowed tuning on synthetic data and Sachs; every
configuration tried is listed in TUNING and SCORES_TRIED): the Sachs numbers are therefore not a held-out test.

    python -m benchmarks.causal [--model NAME_OR_PATH] [--no-write] [--card FILE] [--no-tuebingen]

Writes benchmarks/results/causal.json and docs/_generated/causal.md. ``--card FILE`` also writes the measured
numbers into the model card of the model file FILE (same weights, new spec metrics), copies it into the package as
cnnc-causal and updates its entry in the model registry (sha256, metrics).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import tempfile
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
    "version 2 (two-view rank+standard images, 70% varied and 30% cells generator, 24,000 pairs, 8 epochs), its "
    "checkpoint of epoch 3 (epochs 0-7) read on the 18 edges during training: 9/18",
    "version 2 as shipped (epoch 6, the best synthetic validation): 9/18 (causal_scores link in the tables)",
    *(
        f"round 3 (benchmarks/causal_select.py, its validation family in brackets, version 1 0.75; no Tübingen run): "
        f"{what}"
        for what in (
            "versions 1 and 2 averaged: 11/18 (0.74)",
            "A, RCC-style generator only, rank+standard images: 7/18 (0.73)",
            "B, RCC-style, varied and cells generators, rank+standard images: 12/18 (0.69)",
            "C, RCC-style and cells generators, rank+standard images: 13/18 (0.73)",
            "D, RCC-style and cells generators, rank images: 11/18 (0.72)",
            "E, RCC-style, cells and varied generators, rank images: 11/18 (0.71)",
            "A and version 1 averaged: 12/18 (0.78)",
            "C and version 1 averaged: 12/18 (0.77)",
        )
    ),
    *(
        f"round 4 (benchmarks/causal_select.py, its two validation families in brackets, version 1 0.75 / 0.58; "
        f"Tübingen only for r8, the one that met the rule): {what}"
        for what in (
            "r16, RCC-style and cells generators, 16x16 rank+standard images, 40,000 pairs: 9/18 (0.76 / 0.62)",
            "r32, the same pairs at 32x32: 13/18 (0.75 / 0.61)",
            "r8, the same pairs at 8x8: 13/18 (0.76 / 0.65)",
            "r8, r16 and r32 averaged: 12/18 (0.77 / 0.63)",
            "r8, r16, r32 and version 1 averaged: 12/18 (0.79 / 0.63)",
            "V, RCC-style, varied and cells generators, 16x16 rank+standard images: 13/18 (0.71 / 0.62)",
        )
    ),
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
#: Every model run on the Tübingen pairs (the final check): what it is; Tübingen weighted / continuous weighted
CANDIDATES = (
    "cnnc-causal-1 (the previous model: rank images, cells generator): run as a peer in every evaluation",
    "r8 (round 4: 8x8 rank+standard images, RCC-style and cells generators, 40,000 pairs; the one candidate of "
    "benchmarks/causal_select.py that met its rule; not shipped): Tuebingen weighted 0.58 [0.45, 0.70], continuous "
    "weighted 0.54 [0.40, 0.67]; Sachs 13/18",
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
    "bz2 compression": _pairwise.compression,
}
#: The Python of the benchmark venv with cdt 0.6.0, lingam and causal-learn (benchmarks/baselines/setup_causal.sh)
BASELINES_PYTHON = Path(
    os.environ.get("CNNC_CAUSAL_BASELINES_PYTHON", ROOT / "benchmarks" / ".venv-causal" / "bin" / "python")
)
#: Scores of the package baselines, kept by a hash of the pairs and of benchmarks/_causal_baselines.py
BASELINES_CACHE = Path(os.environ.get("CNNC_CAUSAL_BASELINES_CACHE", Path.home() / ".cache" / "cnnc-causal-baselines"))
#: Earlier versions of the model, run beside the evaluated one on the same pairs
PEERS = ("cnnc-causal-1",)
#: Bootstrap resamples of the pairs behind every accuracy interval
N_PAIR_BOOT = 2000


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


def binomial(correct: np.ndarray, weights: np.ndarray | None = None, *, seed: int = 0) -> dict:
    """(Weighted) accuracy with its 95% bootstrap interval over the pairs (``N_PAIR_BOOT`` resamples).

    ``correct`` is 1 (right), 0 (wrong) or 0.5 (a method without a decision on the pair: a tie counts half).
    """
    correct = np.asarray(correct, dtype=np.float64)
    w = np.ones(len(correct)) if weights is None else np.asarray(weights, dtype=np.float64)
    rng = np.random.default_rng(seed)
    idx = rng.integers(0, len(correct), (N_PAIR_BOOT, len(correct)))
    boot = (correct[idx] * w[idx]).sum(1) / w[idx].sum(1)
    lo, hi = np.quantile(boot, [0.025, 0.975])
    out = {"accuracy": float((correct * w).sum() / w.sum()), "correct": float(correct.sum()), "n": len(correct)}
    if float(out["correct"]).is_integer():
        out["correct"] = int(out["correct"])
    return {**out, "ci": [float(lo), float(hi)]}


def decided(score: float) -> float:
    """1 if a score says cause -> effect, 0 if effect -> cause, 0.5 on a tie (no decision)."""
    return 1.0 if score > 0 else 0.0 if score < 0 else 0.5


def package_scores(pairs: list[tuple[np.ndarray, np.ndarray]]) -> dict[str, np.ndarray] | None:
    """Scores of cdt / lingam methods on ``(cause, effect)`` pairs, run in the benchmark venv; None if it is absent."""
    if not BASELINES_PYTHON.exists():
        print(f"no benchmark venv at {BASELINES_PYTHON}: the package baselines are skipped")
        return None
    import hashlib

    arrays = {f"{k}{i}": v for i, (x, y) in enumerate(pairs) for k, v in (("x", x), ("y", y))}
    key = hashlib.sha256((ROOT / "benchmarks" / "_causal_baselines.py").read_bytes())
    for name in sorted(arrays):
        key.update(np.ascontiguousarray(arrays[name], dtype=np.float64).tobytes())
    cached = BASELINES_CACHE / f"{key.hexdigest()}.json"  # same pairs, same script: the same scores
    if not cached.exists():
        with tempfile.TemporaryDirectory() as tmp:
            np.savez(Path(tmp) / "pairs.npz", **arrays)
            command = [str(BASELINES_PYTHON), "-m", "benchmarks._causal_baselines", f"{tmp}/pairs.npz"]
            subprocess.run([*command, f"{tmp}/scores.json"], cwd=ROOT, check=True)
            BASELINES_CACHE.mkdir(parents=True, exist_ok=True)
            cached.write_text((Path(tmp) / "scores.json").read_text())
    return {k: np.array(v) for k, v in json.loads(cached.read_text()).items()}


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


def sachs_tables(model, *, network_boot: int = N_NETWORK_BOOT, n_boot: int = N_BOOT) -> dict:
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
    scored = cnnc.tl.causal_scores(adata, model=model, n_boot=n_boot, seed=0, copy=True).uns["cnnc_causal"]["edges"]
    scores_seconds = time.time() - t0
    by_pair = {frozenset((row.regulator, row.target)): row for row in scored.itertuples()}
    undirected["cnnc-causal"] = auroc_auprc(y, np.array([by_pair[frozenset(p)].score for p in pairs]))
    for name, column in ABLATIONS.items():
        undirected[name] = auroc_auprc(y, np.array([getattr(by_pair[frozenset(p)], column) for p in pairs]))

    direction = {}
    edge_values = [(x[:, names.index(c)], x[:, names.index(e)]) for c, e in edges]
    for name, fn in BASELINES.items():
        direction[name] = binomial([decided(fn(c, e)) for c, e in edge_values])
    for name, scores in (package_scores(edge_values) or {}).items():
        direction[name] = binomial([decided(v) for v in scores])
    for peer in PEERS:
        p = cnnc_scores(adata, cnnc.models.load(peer), [(c, e) for c, e in edges])
        direction[peer] = binomial((p["p_ab"] > p["p_ba"]).to_numpy())
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
    network = network_direction(adata, model, edges, image_says, n_boot=network_boot)
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
        "n_boot": n_boot,
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


def network_direction(adata, model, edges, image_says, *, n_boot: int = N_NETWORK_BOOT) -> dict:
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
            for _ in range(n_boot):
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
    model,
    *,
    n_pairs: int = 300,
    n_cells: int = 1000,
    seed: int = 987_654,
    readout: float = 0.0,
    generator: str = "cells",
) -> dict:
    """Direction accuracy on held-out generator pairs (a seed never used in training)."""
    options = {"readout": readout} if generator == "cells" else {}
    adata = cnnc.datasets.causal_pairs(n_pairs, n_cells=n_cells, seed=seed, generator=generator, **options)
    pairs = adata.uns["pairs"]
    causal = pairs[pairs["label"] != "none"]
    forward = (causal["label"] == "a->b").to_numpy()
    x = adata.X.astype(np.float64)
    col = adata.var_names.get_indexer
    out = {}
    a, b = col(causal["gene_a"]), col(causal["gene_b"])
    sign = np.where(forward, 1.0, -1.0)
    for name, fn in BASELINES.items():
        out[name] = binomial([decided(s * fn(x[:, i], x[:, j])) for s, i, j in zip(sign, a, b, strict=True)])
    all_pairs = list(zip(pairs["gene_a"], pairs["gene_b"], strict=True))
    causal_pairs = list(zip(causal["gene_a"], causal["gene_b"], strict=True))
    for peer in PEERS:
        p = cnnc_scores(adata, cnnc.models.load(peer), all_pairs).loc[causal_pairs]
        out[peer] = binomial((p["p_ab"] > p["p_ba"]).to_numpy() == forward)
    proba = cnnc_scores(adata, model, all_pairs)
    p_causal = proba.loc[causal_pairs]
    out["cnnc-causal"] = binomial((p_causal["p_ab"] > p_causal["p_ba"]).to_numpy() == forward)
    link = auroc_auprc((pairs["label"] != "none").to_numpy(), 1 - proba["p_none"].to_numpy(), n_boot=200)
    return {
        "n_pairs": n_pairs,
        "n_cells": n_cells,
        "seed": seed,
        "readout": readout,
        "generator": generator,
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


#: The pairs of the Causal Discovery Toolbox's files are the univariate pairs of the original benchmark (Mooij et
#: al., JMLR 2016), renumbered: original pairs 1-51, 56-70 and 72-104 (52-55, 71 and 105 are multivariate, 106-108
#: came later), matched by their sizes and first values
ORIGINAL_NUMBER = [*range(1, 52), *range(56, 71), *range(72, 105)]
#: The weights of the original benchmark (its pairmeta.txt): pairs from one data set share a total weight of 1
ORIGINAL_WEIGHT = {
    **dict.fromkeys([1, 2, 4, 20], 0.166),
    3: 0.167,
    21: 0.167,
    **dict.fromkeys(range(5, 11), 0.143),
    11: 0.142,
    12: 0.5,
    **dict.fromkeys(range(13, 17), 0.25),
    17: 0.5,
    18: 1,
    19: 1,
    22: 0.333,
    23: 0.333,
    24: 0.334,
    **dict.fromkeys(range(25, 33), 0.125),
    **dict.fromkeys(range(33, 38), 0.2),
    **dict.fromkeys(range(38, 42), 0.25),
    42: 0.5,
    **dict.fromkeys(range(43, 47), 0.25),
    47: 1,
    48: 1,
    49: 0.333,
    50: 0.333,
    51: 0.334,
    **dict.fromkeys([56, 57, 59, 60, 62, 63, 73, 74], 0.083),
    **dict.fromkeys([58, 61, 64, 75], 0.084),
    65: 0.333,
    66: 0.333,
    67: 0.334,
    68: 1,
    69: 1,
    70: 1,
    72: 1,
    76: 1,
    77: 0.5,
    78: 0.3333,
    79: 0.3333,
    80: 0.3334,
    81: 0.3333,
    82: 0.3333,
    83: 0.3334,
    **dict.fromkeys(range(84, 89), 1),
    **dict.fromkeys(range(89, 93), 0.25),
    93: 1,
    94: 0.3333,
    95: 0.3333,
    96: 0.3333,
    97: 0.2,
    98: 0.2,
    99: 1.0,
    100: 1.0,
    101: 0.5,
    102: 0.2,
    103: 0.2,
    104: 0.2,
}
#: A pair is continuous when both variables take at least this many distinct values (79 of the 99 pairs)
CONTINUOUS_LEVELS = 30


def _real_pair_scores(model, pairs) -> dict[str, list[float]]:
    """Every method's decision (1 right, 0 wrong, 0.5 tie) on each ``(cause, effect)`` pair."""
    out = {name: [decided(fn(c, e)) for _, c, e in pairs] for name, fn in BASELINES.items()}
    for name, scores in (package_scores([(c, e) for _, c, e in pairs]) or {}).items():
        out[name] = [decided(v) for v in scores]
    models = {**{peer: cnnc.models.load(peer) for peer in PEERS}, "cnnc-causal": model}
    for name, mdl in models.items():
        calls = []
        for _, cause, effect in pairs:
            adata = ad.AnnData(np.column_stack([cause, effect]).astype(np.float32))
            adata.var_names = ["cause", "effect"]
            p = cnnc_scores(adata, mdl, [("cause", "effect")]).iloc[0]
            calls.append(decided(p["p_ab"] - p["p_ba"]))
        out[name] = calls
    return out


def kept_aside_real(model, folder: Path) -> dict | None:
    """Direction accuracy on the Tübingen cause-effect pairs: real pairs no training or tuning step looked at.

    Weighted as the original benchmark (pairs of one data set share a weight of 1), on all 99 pairs and on the
    continuous ones; unweighted too. A decision is forced on every pair (a tie counts half).
    """
    pairs = tuebingen_pairs(folder)
    if pairs is None:
        print(f"no Tübingen pairs in {folder}: the kept-aside check is skipped")
        return None
    weights = np.array([ORIGINAL_WEIGHT[k] for k in ORIGINAL_NUMBER], dtype=np.float64)
    continuous = np.array([min(len(np.unique(c)), len(np.unique(e))) >= CONTINUOUS_LEVELS for _, c, e in pairs])
    calls = _real_pair_scores(model, pairs)
    return {
        "n_pairs": len(pairs),
        "n_continuous": int(continuous.sum()),
        "source": "Tuebingen cause-effect pairs (Mooij et al. 2016) as packaged by the Causal Discovery Toolbox",
        "weights": "the original benchmark's (pairmeta.txt): pairs of one data set share a total weight of 1",
        "direction": {name: binomial(v, weights) for name, v in calls.items()},
        "direction_continuous": {
            name: binomial(np.asarray(v)[continuous], weights[continuous]) for name, v in calls.items()
        },
        "direction_unweighted": {name: binomial(v) for name, v in calls.items()},
        "calls": {name: [float(c) for c in v] for name, v in calls.items()},
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
        " AUPRC ratio and accuracies. cnnc-causal was trained on synthetic pairs only, but"
        f" {n_tried} configurations (generator and training variants, link scores, directions from more than the"
        " pair; listed below) were tried on Sachs"
        " and the best kept, as the issue allowed: the Sachs numbers are not a held-out test. The Tübingen"
        " cause-effect pairs (real, the final check: each candidate run once, all listed below) are."
        f" Model: {result['model']} (sha256 {result['model_sha256'][:12]}).",
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
    varied = result["synthetic_varied"]
    header = (
        "| method | Sachs (18 edges) | issue's reference | synthetic held-out (cells) | synthetic held-out (varied)"
        " | synthetic, cytometer readout |"
    )
    rule = "|---|---|---|---|---|---|"
    if real:
        header += (
            f" Tübingen, weighted ({real['n_pairs']} real pairs) | Tübingen continuous, weighted"
            f" ({real['n_continuous']}) |"
        )
        rule += "---|---|"
    lines += [
        "",
        f"**Direction** (weighted fraction of true edges oriented cause → effect, a decision forced on every pair, a"
        f" tie counting half; 95% bootstrap intervals over the pairs; synthetic: {syn['n_pairs']} held-out pairs of"
        f" {syn['n_cells']} samples of each generator, causal ones only)",
        "",
        header,
        rule,
    ]
    na = "n/a (needs other variables)"

    def cell(table: dict, name: str) -> str:
        d = table.get(name)
        return f"{_ci(d, 'accuracy')}" if d else "not run"

    for name, d in s["direction"].items():
        ref = REFERENCE["direction"].get(name.split(" ")[0], "") if "(" not in name or "LiNGAM (" in name else ""
        pairwise = name in syn["direction"] or name in (real or {}).get("direction", {})
        label = f"{result['model']} (evaluated)" if name == "cnnc-causal" else name
        row = f"| {label} | {_ci(d, 'accuracy')} ({d['correct']}/{d['n']}) | {ref} |"
        for table in (syn, varied, cyto):
            row += f" {cell(table['direction'], name) if pairwise else na} |"
        if real:
            for key in ("direction", "direction_continuous"):
                row += f" {cell(real[key], name) if pairwise else na} |"
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
            "Tübingen pairs as packaged by the Causal Discovery Toolbox (the 99 univariate pairs of the original"
            " benchmark), weighted by the original benchmark's weights (pairs of one data set share a weight of 1);"
            f" continuous: both variables with at least {CONTINUOUS_LEVELS} distinct values. Methods marked (cdt) or"
            " (lingam) are those packages' implementations (cdt 0.6.0, lingam, run in a separate benchmark venv; cdt's"
            " ANM on at most 200 samples of a pair, as many as its HSIC test reads); the others are implemented in"
            " benchmarks/_pairwise.py. Unweighted accuracies are in benchmarks/results/causal.json.",
        ]
    if real:
        lines += ["", "Every model run on the Tübingen pairs (the final check, once per candidate):", ""]
        lines += [f"- {c}" for c in candidates(result)]
    if s.get("network"):
        lines += ["", network_markdown(s)]
    lines += ["", f"Configurations tried on Sachs ({n_tried}):", ""]
    lines += [f"- model: {t}" for t in TUNING]
    lines += [f"- link score: {t}" for t in SCORES_TRIED]
    lines += [f"- direction beyond the pair: {t}" for t in DIRECTION_TRIED]
    lines += [
        "",
        "Version 1 was chosen among the first nine model variants (a run with readout=0.5 and inhibition=0.3 was"
        " stopped before it was evaluated); version 2 is the one candidate trained within the compute budget of the"
        " second round (about 40 minutes of one shared CPU core), its recipe fixed before any Sachs or Tübingen run"
        " and kept whatever they gave; the link score of causal_scores was chosen among the variants above.",
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
    "Version 2. Cause-effect direction of any two measured variables (3 classes: none, a->b, b->a) from a "
    "two-channel pair image (16x16 bins of the ranks and of the z-scores of both variables), read both ways and "
    "averaged, so score(x, y) = -score(y, x); trained only on synthetic pairs of cnnc.datasets.causal_pairs (the "
    "varied and the cells generators, 100-10,000 samples) by cnnc.models.train_causal. Reads any continuous or "
    "discrete values (expression, protein intensities, physical measurements); the raw-count check does not apply."
)
LIMITS = (
    "Pairwise: a pair's image ignores every other variable, so indirect links and confounded pairs are often "
    "called edges and a confounded pair still gets a direction; for networks use cnnc.tl.causal_scores, which adds "
    "context-normalised partial correlations. Near-symmetric pairs (linear relations with Gaussian-like noise, "
    "where cause and effect look alike) carry no direction: |P(a->b) - P(b->a)| is then small and the call is a "
    "coin flip. The z-score channel changes under non-linear transforms of a variable (a log), so calls may too. "
    "Tuned on Sachs (18 edges; the configurations tried are listed in benchmarks/causal.py), so its Sachs numbers "
    "are optimistic; the Tuebingen real pairs were the final check (see the card's metrics). Use P(a->b) - "
    "P(b->a) as a score with its bootstrap interval (cnnc.tl.causal_scores), not as a label."
)
#: What the registry says of version 2, which was not made the default
LIMITS_2 = (
    "Not the default: below version 1 (cnnc-causal) on Sachs and on the Tuebingen pairs, at chance on Tuebingen "
    "(see the card's metrics); kept as the record of the second training round and for pairs like its varied "
    "synthetic generator, where it is above version 1. "
)


def candidates(result: dict) -> list[str]:
    """Every model run on the Tübingen pairs: the earlier candidates and the model of this run, with its numbers."""
    real = result.get("kept_aside_real")
    if not real:
        return list(CANDIDATES)
    w, c = real["direction"]["cnnc-causal"], real["direction_continuous"]["cnnc-causal"]
    sachs = result["sachs"]["direction"]["cnnc-causal"]
    this = (
        f"{result['model']} (version 2, CAUSAL_RECIPE as shipped): Tuebingen weighted {_ci(w, 'accuracy')},"
        f" continuous weighted {_ci(c, 'accuracy')}; Sachs {sachs['correct']}/18"
    )
    return [*CANDIDATES, this]


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
        "sachs direction accuracy 95% ci (bootstrap over edges)": [round(v, 3) for v in dirn["cnnc-causal"]["ci"]],
        "synthetic held-out direction accuracy": round(syn["direction"]["cnnc-causal"]["accuracy"], 3),
        "synthetic held-out link auroc": round(syn["cnnc_causal_link"]["auroc"], 3),
        "synthetic held-out (cytometer readout) direction accuracy": round(
            cyto["direction"]["cnnc-causal"]["accuracy"], 3
        ),
    }
    varied = result["synthetic_varied"]["direction"]["cnnc-causal"]
    out["synthetic held-out (varied generator) direction accuracy"] = round(varied["accuracy"], 3)
    real = result.get("kept_aside_real")
    if real:
        for key, label in (
            ("direction", f"{real['n_pairs']} real pairs, weighted"),
            ("direction_continuous", f"{real['n_continuous']} continuous pairs, weighted"),
            ("direction_unweighted", f"{real['n_pairs']} real pairs, unweighted"),
        ):
            r = real[key]["cnnc-causal"]
            out[f"tuebingen direction accuracy ({label})"] = round(r["accuracy"], 3)
            out[f"tuebingen direction accuracy ({label}) 95% ci"] = [round(v, 3) for v in r["ci"]]
    out["tuebingen candidates (every model run on the Tuebingen pairs)"] = candidates(result)
    out["evaluation"] = (
        "python -m benchmarks.causal. Sachs is not held out: "
        f"{N_TRIED} configurations were tried on it (tuning on synthetic data and Sachs was allowed); the "
        "Tuebingen pairs were the final check: run once per candidate, every candidate listed"
    )
    return out


def write_card(source: Path, result: dict, name: str = "cnnc-causal") -> str:
    """Copy the model file into the package with the measured numbers in its card; register it. Returns sha256."""
    model = cnnc.models.load(source)
    spec = model.spec
    kept = {k: v for k, v in spec.metrics.items() if k.startswith("synthetic validation") and not k.endswith("loss")}
    spec.metrics = {**kept, **card_metrics(result)}
    spec.name = name
    path = model.save(WEIGHTS / f"{name}.safetensors")
    registry_path = WEIGHTS / "registry.json"
    registry = json.loads(registry_path.read_text())
    registry["models"][name] = {
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
        "limits": (LIMITS_2 if name == "cnnc-causal-2" else "") + LIMITS,
    }
    registry_path.write_text(json.dumps(registry, indent=2) + "\n")
    return model.sha256


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", default="cnnc-causal")
    parser.add_argument("--no-write", action="store_true")
    parser.add_argument("--card", type=Path, default=None)
    parser.add_argument("--card-name", default="cnnc-causal", help="registry name the --card model is written as")
    parser.add_argument("--tuebingen", type=Path, default=TUEBINGEN)
    parser.add_argument("--no-tuebingen", action="store_true", help="choose on synthetic data and Sachs only")
    parser.add_argument(
        "--network-boot", type=int, default=N_NETWORK_BOOT, help="resamples of the cells for causal_network's spread"
    )
    parser.add_argument("--n-boot", type=int, default=N_BOOT, help="resamples of the cells in causal_scores")
    args = parser.parse_args(argv)
    import torch

    torch.set_num_threads(1)
    model = cnnc.models.load(args.card if args.card is not None else args.model)
    result = {
        "model": args.model,
        "model_sha256": model.sha256,
        "sachs": sachs_tables(model, network_boot=args.network_boot, n_boot=args.n_boot),
        "synthetic": synthetic_direction(model),
        "synthetic_readout": synthetic_direction(model, seed=987_655, readout=1.0),
        "synthetic_varied": synthetic_direction(model, seed=987_656, generator="varied"),
        "kept_aside_real": None if args.no_tuebingen else kept_aside_real(model, args.tuebingen),
    }
    if args.card is not None:
        result["model"] = args.card_name
        result["model_sha256"] = write_card(args.card, result, args.card_name)
    text = markdown(result)
    print(text)
    if not args.no_write:
        RESULTS.parent.mkdir(parents=True, exist_ok=True)
        RESULTS.write_text(json.dumps(result, indent=1) + "\n")
        DOCS.write_text(text)
        print(f"wrote {RESULTS} and {DOCS}")


if __name__ == "__main__":
    main()
