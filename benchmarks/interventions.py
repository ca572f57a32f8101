"""Direction from interventions: cnnc's interventional graph against simple and published peers, in one run.

- **Sachs et al. (2005)**, 7,466 cells × 11 phospho-proteins in 9 conditions (each cell's condition from
  ``../shared/bench-data/sachs/cyto_full_conditions.csv``; what each perturbs from ``interventions.tsv``; control
  ``cd3cd28``), log1p intensities; truth: the 20-edge consensus (``consensus_20_edges.txt``). Directed AUPRC ratio
  over the 110 ordered pairs (AUPRC / 20/110) and the consensus edges oriented right: for a graph, found and
  pointing the right way; for a ranking, scored above their reverse.
- **Simulated CRISPRi screens** (:func:`cnnc.datasets.simulate_screen`: Hill-function regulation on a random DAG,
  Poisson counts with background genes, knock-down of a share of the genes), log-normalised (normalize_total,
  log1p), network genes only. Setting ``tuned`` is the one the method's two thresholds (``alpha`` 0.05,
  ``min_shift`` 0.1), the choice of leaving colliders out and the ranking of ``causal_scores``
  (``intervention_method="combined"``) were picked on (seeds 0-2); every setting here is scored on seeds
  100-102, settings ``untuned_*`` were never looked at while choosing, and ``activity_inhibitors``
  (``acts_on="activity"``: a perturbation lowers what the gene's targets read, not its own measured level, as
  the Sachs inhibitors do) was looked at as a check only (seeds 0-2), not chosen on; the ``"dependence"``
  ranking's threshold was chosen on ``tuned``, ``activity_inhibitors`` and ``activity_feedback`` (activity
  perturbations with 5 negative feedback loops) with seeds 0-2. Each setting passes what its perturbations act
  on (``intervention_targets`` with ``acts_on``); so does Sachs (every reagent on its target's activity but
  LY294002, which lowers PIP3 itself).

Methods: ``cnnc interventional network`` (:func:`cnnc.tl.causal_network` with ``interventions=``, ``alpha=0.05``),
``cnnc interventional scores`` (:func:`cnnc.tl.causal_scores` with ``interventions=``, every pair ranked; the
default ``intervention_method="combined"``, and the ``graph``, ``shift`` and ``dependence`` rankings), ``mean shift``
(standardised shift of b's mean in cells where a is perturbed, vs control), ``GIES`` (PyPI ``gies``, BIC score,
every condition an environment with its targets; run in its own venv, ``benchmarks/.venv-gies`` made by
``benchmarks/baselines/setup_gies.sh``, or ``$CNNC_GIES_PYTHON``), a discrete ``Bayesian network`` in the manner
of Sachs et al. (2005) (``benchmarks/_bayesnet.py``: 3 levels, BDeu with perfect interventions, greedy search,
its best DAG and its edge frequency over 20 bootstrap resamples), linear models that allow cycles
(``benchmarks/_cyclic.py``: backShift, shift interventions with unknown targets, and the mean-shift form of LLC,
known targets; a pair ``a → b`` scored by ``|B_ba|`` or backShift's stability-selection frequency),
``causal_network, no interventions``
(default alpha 0.01). For graphs, a pair's score is 1 + |partial correlation| when the graph orients it that way (an
undirected GIES edge counts both ways), else 0.

    python -m benchmarks.interventions [--no-write] [--seeds 100,101,102]

Writes benchmarks/results/interventions.json and docs/_generated/interventions.md.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import scanpy as sc
from sklearn.metrics import average_precision_score

import cnnc
from benchmarks import _cyclic
from benchmarks._bayesnet import network_frequencies

ROOT = Path(__file__).resolve().parents[1]
BENCH = ROOT.parent / "shared" / "bench-data" / "sachs"
RESULTS = ROOT / "benchmarks" / "results" / "interventions.json"
DOCS = ROOT / "docs" / "_generated" / "interventions.md"
GIES_PYTHON = os.environ.get("CNNC_GIES_PYTHON", str(ROOT / "benchmarks" / ".venv-gies" / "bin" / "python"))
GIES_RUNNER = ROOT / "benchmarks" / "baselines" / "run_gies.py"
#: Sachs's protein names → the consensus file's names
SHORT = dict(
    zip(
        cnnc.datasets._sachs.PROTEINS,
        ["raf", "mek", "plc", "pip2", "pip3", "erk", "akt", "pka", "pkc", "p38", "jnk"],
        strict=False,
    )
)
ALPHA = 0.05  # chosen on the tuned simulation setting
#: Sachs conditions acting on their target's level (set from the reagents' mechanism before any scoring): LY294002
#: inhibits PI3K, so PIP3 itself falls; the other reagents inhibit or activate their target's activity.
SACHS_LEVEL = {"cd3cd28+ly"}
#: every scoring/orientation candidate ever scored on Sachs (it is a check, not a tuning set)
SACHS_CANDIDATES = (
    "the first interventional graph and its ranking (tiers + |direct effect z| and |partial correlation|); "
    "the mean shift (rank-biserial); mean percentile rank of the shift and |partial correlation|; "
    "link strength (larger shift either way, |partial correlation|) plus a shift-asymmetry orientation "
    "(weights 0.25 and 1); shift kept only where not contradicted, with |partial correlation|; PC-stable skeleton "
    "oriented by shift asymmetry and Meek's rules, alone, with the transitive reduction of the 'moves' graph "
    "added, and with that reduction replacing the skeleton on perturbed pairs; the first graph with its "
    "undirected links oriented by shift asymmetry; the first graph plus the reduced 'moves' graph or every "
    "direct effect, directed; the first graph's tiers with strengths (shift, |partial "
    "correlation|), (shift, |partial correlation|, |direct effect z|) [shipped until the next round]. "
    "Second round: discrete Bayesian network (3 equal-frequency levels, BDeu with perfect interventions, greedy "
    "search with restarts, up to 3 parents), best DAG and bootstrap edge frequency, with ESS 1 or 10, up to 2 "
    "parents, 2 levels, and with the perturbed protein's level set to low/high where the intervention is an "
    "inhibitor/activator; shift-first rankings: significant shift first (S3), any perturbed regulator by "
    "rank-biserial or standardised mean shift, with and without a strength tie-break (S1, S2, S4); the mean "
    "percentile rank of the graph ranking with S3, S1 or the mean shift; link from that mean with the orientation "
    "of S3, S1, the graph ranking or the mean itself (tie-break or a 0.5 penalty); link from the graph ranking + "
    "S3, oriented by S3 with the 0.5 penalty; shipped: the same with S3's halved directions ordered by their "
    "insignificant shift (S3t) ('combined'), with 'graph' and 'shift' (S3t) as options. "
    "Third round (invariance of dependence within each condition, what each perturbation acts on given): "
    "'combined' with its orientation overridden where |dependence vote| > 1, 2 (shipped as 'dependence'), 3, 4 or "
    "8; the vote only where the shift leaves a pair tied; the vote's sign with the shift as tie-break; the "
    "shift's z statistic plus 0.5, 1 or 3 times the vote; the vote from regression slopes instead of correlations "
    "(keep 0.7 or 0.5). "
    "Fourth round (linear models that allow cycles, benchmarks/_cyclic.py): backShift from covariance differences "
    "against the controls or against the mean of all conditions, from second moments about the controls' mean "
    "(the same two bases), each on log or normal-score values, |B| or stability-selection frequency (q = p or 2p); "
    "mean-shift LLC with ridge 0.01, 0.1 or 1 (log or normal scores); 'combined' with the orientation of pairs "
    "whose ends are both perturbed taken from backShift (second moments) or LLC, and (designed after reading "
    "Sachs) from backShift (covariance) on those pairs or on every pair. "
    "Table: docs/interventions.md"
)
SETTINGS = {
    "tuned": {},
    "untuned_sparse_perturbation": {
        "n_genes": 30,
        "perturbed": 0.4,
        "cells_per_guide": 100,
        "noise": 0.5,
        "knockdown": 0.3,
    },
    "activity_inhibitors": {"acts_on": "activity"},
    "activity_feedback": {"acts_on": "activity", "feedback": 5},
    "untuned_dense_strong": {
        "n_genes": 15,
        "n_edges": 25,
        "perturbed": 0.8,
        "cells_per_guide": 200,
        "knockdown": 0.05,
        "depth": 10.0,
    },
}


def truth_matrix(names: list[str], edges) -> np.ndarray:
    pos = {n: i for i, n in enumerate(names)}
    t = np.zeros((len(names), len(names)), dtype=bool)
    for r, g in edges:
        t[pos[r], pos[g]] = True
    return t


def directed_metrics(score: np.ndarray, truth: np.ndarray, graph: bool) -> dict:
    """AUPRC ratio over ordered pairs and true edges oriented right (graph: found and right; ranking: above reverse)."""
    off = ~np.eye(len(truth), dtype=bool)
    ratio = average_precision_score(truth[off], score[off]) / truth[off].mean()
    right = (score > 0) & (score.T <= 0) if graph else score > score.T
    return {
        "auprc_ratio": round(float(ratio), 3),
        "oriented_right": int(right[truth].sum()),
        "n_true": int(truth.sum()),
    }


def network_scores(edges: pd.DataFrame, names: list[str]) -> np.ndarray:
    pos = {n: i for i, n in enumerate(names)}
    s = np.zeros((len(names), len(names)))
    for r, t, pc in zip(edges["regulator"], edges["target"], edges["partial_corr"], strict=True):
        s[pos[r], pos[t]] = 1 + abs(pc)
    return s


def ranking_scores(edges: pd.DataFrame, names: list[str]) -> np.ndarray:
    """Ordered-pair scores of an edge table: ``score`` for regulator → target, ``reverse_score`` (0 if absent)
    for the other way."""
    pos = {n: i for i, n in enumerate(names)}
    s = np.zeros((len(names), len(names)))
    reverse = edges["reverse_score"] if "reverse_score" in edges else np.zeros(len(edges))
    for r, t, v, w in zip(edges["regulator"], edges["target"], edges["score"], reverse, strict=True):
        s[pos[r], pos[t]], s[pos[t], pos[r]] = v, w
    return s


def mean_shift(values: np.ndarray, labels: np.ndarray, control, targets: dict, names: list[str]) -> np.ndarray:
    pos = {n: i for i, n in enumerate(names)}
    ctrl = np.isin(labels, control)
    s = np.zeros((len(names), len(names)))
    for lab, hit in targets.items():
        if not hit:
            continue
        m = labels == lab
        shift = np.abs(values[m].mean(0) - values[ctrl].mean(0)) / np.maximum(values[ctrl].std(0), 1e-12)
        for a in [hit] if isinstance(hit, str) else hit:
            s[pos[a]] = np.maximum(s[pos[a]], shift)
    np.fill_diagonal(s, 0)
    return s


def gies_scores(values: np.ndarray, labels: np.ndarray, control, targets: dict, names: list[str]) -> np.ndarray:
    pos = {n: i for i, n in enumerate(names)}
    envs = list(dict.fromkeys([*control, *targets]))
    env_targets = [
        [] if (e in control or not targets.get(e)) else [pos[t] for t in np.atleast_1d(targets[e])] for e in envs
    ]
    env = np.array([envs.index(lab) for lab in labels])
    with tempfile.TemporaryDirectory() as tmp:
        np.savez(f"{tmp}/in.npz", X=values, env=env, targets=json.dumps(env_targets))
        subprocess.run([GIES_PYTHON, str(GIES_RUNNER), f"{tmp}/in.npz", f"{tmp}/out.npy"], check=True, timeout=3600)
        adj = np.load(f"{tmp}/out.npy") != 0
    partial = np.abs(np.corrcoef(values.T))
    return np.where(adj, 1 + partial, 0.0)


def plain_targets(targets: dict | None) -> dict | None:
    """``intervention_targets`` without what each perturbation acts on (the peers model every one alike)."""
    if targets is None:
        return None
    return {k: (v["targets"] if isinstance(v, dict) else v) for k, v in targets.items()}


def bayesnet_scores(adata, column: str, control, targets, names: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """The discrete Bayesian network peer: its best DAG and its bootstrap edge frequencies (ties by |corr|)."""
    targets = plain_targets(targets)
    labels = adata.obs[column].astype(str).to_numpy()
    control = set(np.atleast_1d(control))
    mapping = targets or {lab: lab for lab in pd.unique(labels) if lab not in control}
    pos = {n: i for i, n in enumerate(names)}
    hits = {lab: [pos[t] for t in np.atleast_1d(hit)] for lab, hit in mapping.items() if hit}
    best, freq = network_frequencies(np.asarray(adata.X, dtype=np.float64), labels, hits, n_boot=20)
    corr = np.abs(np.corrcoef(np.asarray(adata.X, dtype=np.float64).T))
    return np.where(best, 1 + corr, 0.0), freq + 1e-3 * corr


def cyclic_scores(values: np.ndarray, labels: np.ndarray, control, targets: dict, names: list[str]) -> dict:
    """The linear cyclic peers (``benchmarks/_cyclic.py``), every control label pooled as the base environment:
    backShift in the paper's form (covariance differences against the controls) and in the form chosen on the
    simulations (second moments about the controls' mean, stability selection, ``q = 2p``), and the mean-shift
    LLC (ridge 1) with each condition's targets."""
    base = np.isin(labels, np.atleast_1d(control))
    order = [lab for lab in pd.unique(labels) if lab not in np.atleast_1d(control)]
    env = np.where(base, 0, np.searchsorted(np.sort(order), labels) + 1)
    envs = dict(zip(np.sort(order), range(1, len(order) + 1), strict=True))
    out = {"backShift (covariance differences)": _cyclic.pair_scores(_cyclic.backshift(values, env, 0))}
    freq, b = _cyclic.stability(values, env, 0, gram=True, q=2 * len(names), n_sub=20)
    out["backShift (second moments, stability selection)"] = _cyclic.pair_scores(b, freq)
    shift, rows = _cyclic.mean_shifts(values, env)
    label_of = {v: k for k, v in envs.items()}
    hit = [[names.index(t) for t in np.atleast_1d(targets.get(label_of[e]) or [])] for e in rows]
    out["LLC (mean shifts, ridge 1)"] = _cyclic.pair_scores(_cyclic.llc(shift, hit, ridge=1.0))
    return out


def run_methods(adata, column: str, control, targets, names: list[str], truth: np.ndarray) -> dict:
    """Every method on one data set (values in X, conditions in obs[column])."""
    out, values, labels = {}, np.asarray(adata.X, dtype=np.float64), adata.obs[column].astype(str).to_numpy()
    kw = {"interventions": column, "control": control, "intervention_targets": targets}
    t0 = time.perf_counter()
    net = cnnc.tl.causal_network(adata, alpha=ALPHA, copy=True, **kw).uns["cnnc_network"]["edges"]
    out["cnnc interventional network"] = directed_metrics(network_scores(net, names), truth, graph=True)
    out["cnnc interventional network"]["seconds"] = round(time.perf_counter() - t0, 2)
    for method in ("combined", "graph", "shift", "dependence"):
        scores = cnnc.tl.causal_scores(adata, n_boot=0, copy=True, intervention_method=method, **kw)
        name = "cnnc interventional scores" + ("" if method == "combined" else f", {method} ranking")
        out[name] = directed_metrics(ranking_scores(scores.uns["cnnc_causal"]["edges"], names), truth, graph=False)
        if method == "combined":
            shipped = ranking_scores(scores.uns["cnnc_causal"]["edges"], names)
    t0 = time.perf_counter()
    bn_graph, bn_freq = bayesnet_scores(adata, column, control, targets, names)
    out["Bayesian network (BDeu, perfect interventions), best DAG"] = directed_metrics(bn_graph, truth, graph=True)
    out["Bayesian network, bootstrap edge frequency"] = directed_metrics(bn_freq, truth, graph=False)
    out["Bayesian network, bootstrap edge frequency"]["seconds"] = round(time.perf_counter() - t0, 2)
    full_targets = plain_targets(targets) or {
        lab: lab for lab in pd.unique(labels) if lab not in np.atleast_1d(control)
    }
    out["mean shift"] = directed_metrics(mean_shift(values, labels, control, full_targets, names), truth, graph=False)
    t0 = time.perf_counter()
    for name, cyclic in cyclic_scores(values, labels, control, full_targets, names).items():
        out[name] = directed_metrics(cyclic, truth, graph=False)
    out[name]["seconds"] = round(time.perf_counter() - t0, 2)
    t0 = time.perf_counter()
    out["GIES"] = directed_metrics(
        gies_scores(values, labels, np.atleast_1d(control), full_targets, names), truth, True
    )
    out["GIES"]["seconds"] = round(time.perf_counter() - t0, 2)
    plain = cnnc.tl.causal_network(adata, copy=True).uns["cnnc_network"]["edges"]
    out["causal_network, no interventions"] = directed_metrics(network_scores(plain, names), truth, graph=True)
    return out, {"network": network_scores(net, names), "scores": shipped}


def sachs() -> dict:
    os.environ.setdefault("CNNC_DATA_DIR", str(ROOT.parent / "shared" / "data"))
    adata = cnnc.datasets.sachs(log=True)
    adata.var_names = [SHORT[v] for v in adata.var_names]
    conditions = pd.read_csv(BENCH / "cyto_full_conditions.csv")
    adata.obs["condition"] = pd.Categorical(conditions["condition"].to_numpy())
    design = pd.read_csv(BENCH / "interventions.tsv", sep="\t")
    targets = {
        c: (None if p == "none" else {"targets": p, "acts_on": "level" if c in SACHS_LEVEL else "activity"})
        for c, p in zip(design["condition"], design["perturbed"], strict=True)
    }
    lines = [
        line.split(". ", 1)[1] for line in (BENCH / "consensus_20_edges.txt").read_text().splitlines() if "-->" in line
    ]
    names = list(adata.var_names)
    truth = truth_matrix(names, [tuple(x.strip() for x in line.split("-->")) for line in lines])
    return run_methods(adata, "condition", "cd3cd28", targets, names, truth)[0]


def simulated(setting: dict, seed: int) -> dict:
    screen = cnnc.datasets.simulate_screen(seed=seed, **setting)
    kind = "activity" if setting.get("acts_on") == "activity" else "level"
    targets = {g: {"targets": g, "acts_on": kind} for g in screen.uns["simulation"]["perturbed"]}
    sc.pp.normalize_total(screen, target_sum=1e2)
    sc.pp.log1p(screen)
    screen = screen[:, screen.var["in_network"].to_numpy()].copy()
    names = list(screen.var_names)
    gt = screen.uns["ground_truth"]
    truth = truth_matrix(names, zip(gt["regulator"], gt["target"], strict=True))
    out, shipped = run_methods(screen, "guide", "non-targeting", targets, names, truth)
    perturbed = np.isin(names, screen.uns["simulation"]["perturbed"])
    for method, s in shipped.items():
        right = ((s > 0) & (s.T <= 0)) if method == "network" else s > s.T
        for kind, mask in {
            "regulator perturbed": perturbed[:, None] & truth,
            "only target perturbed": ~perturbed[:, None] & perturbed[None, :] & truth,
            "neither perturbed": ~perturbed[:, None] & ~perturbed[None, :] & truth,
        }.items():
            out[f"cnnc interventional {method}"][f"oriented right, {kind}"] = [int(right[mask].sum()), int(mask.sum())]
    return out


def summarise(runs: list[dict]) -> dict:
    methods = runs[0].keys()
    out = {}
    for m in methods:
        auprc = [r[m]["auprc_ratio"] for r in runs]
        frac = [r[m]["oriented_right"] / r[m]["n_true"] for r in runs]
        out[m] = {
            "auprc_ratio_mean": round(float(np.mean(auprc)), 3),
            "auprc_ratio": auprc,
            "oriented_share_mean": round(float(np.mean(frac)), 3),
            "oriented_share": [round(f, 3) for f in frac],
        }
    return out


def markdown(result: dict) -> str:
    lines = [
        f"# Direction from interventions (cnnc {cnnc.__version__})",
        "",
        "Generated by `python -m benchmarks.interventions`; see that module for the protocol.",
        "",
        "## Sachs et al. (2005), 9 conditions, 20-edge consensus",
        "",
        "| method | directed AUPRC ratio (110 ordered pairs) | consensus edges oriented right |",
        "|---|---|---|",
    ]
    for m, r in result["sachs"].items():
        lines.append(f"| {m} | {r['auprc_ratio']:.2f} | {r['oriented_right']}/20 |")
    lines += ["", "Targets set beforehand: AUPRC ratio ≥ 3.3 and ≥ 16/20 with the estimated graph.", ""]
    lines += [f"Candidates run on Sachs (as a check, after choosing on the tuned setting): {SACHS_CANDIDATES}", ""]
    for name, setting in result["simulations"].items():
        lines += [
            f"## Simulated CRISPRi screens: {name} ({setting['generator']})",
            "",
            "| method | directed AUPRC ratio (mean over seeds) | share of true edges oriented right |",
            "|---|---|---|",
        ]
        for m, r in setting["summary"].items():
            lines.append(f"| {m} | {r['auprc_ratio_mean']:.2f} | {r['oriented_share_mean']:.2f} |")
        lines.append("")
        for method, kinds in setting["by_kind"].items():
            lines.append(
                f"cnnc interventional {method}, oriented right by kind of edge (summed over seeds): "
                + ", ".join(f"{k}: {v[0]}/{v[1]}" for k, v in kinds.items())
            )
            lines.append("")
    return "\n".join(lines) + "\n"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--no-write", action="store_true")
    parser.add_argument("--seeds", default="100,101,102")
    args = parser.parse_args(argv)
    warnings.filterwarnings("ignore", category=UserWarning)
    sc.settings.verbosity = 0
    seeds = [int(s) for s in args.seeds.split(",")]
    result = {"cnnc_version": cnnc.__version__, "alpha": ALPHA, "sachs": sachs(), "simulations": {}}
    print(json.dumps(result["sachs"], indent=1), flush=True)
    for name, setting in SETTINGS.items():
        runs = [simulated(setting, seed) for seed in seeds]
        by_kind = {"network": {}, "scores": {}}
        for r in runs:
            for method, kinds in by_kind.items():
                for k, v in r[f"cnnc interventional {method}"].items():
                    if k.startswith("oriented right, "):
                        prev = kinds.get(k[16:], [0, 0])
                        kinds[k[16:]] = [prev[0] + v[0], prev[1] + v[1]]
        result["simulations"][name] = {
            "generator": ", ".join(f"{k}={v}" for k, v in setting.items()) or "simulate_screen defaults",
            "seeds": seeds,
            "summary": summarise(runs),
            "by_kind": by_kind,
            "runs": runs,
        }
        print(name, json.dumps(result["simulations"][name]["summary"], indent=1), flush=True)
    if not args.no_write:
        RESULTS.write_text(json.dumps(result, indent=1) + "\n")
        DOCS.write_text(markdown(result))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
