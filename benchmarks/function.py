"""Gene function from predicted interactions: hidden members of Hallmark gene sets, beside guilt by association.

For every Hallmark set with at least 10 members in a data set, a third of its members (seeded) is hidden; the
other two thirds are the known members given to ``cnnc.tl.assign_function``. Every gene that is not a known
member is a candidate; the hidden members are the positives. Per set: AUROC and AUPRC ratio (average precision /
fraction of positives). Each set is scored over ``--repeats`` seeded hidings (seeds 0, 1, ...) and its metrics
averaged, so that one unlucky split does not decide a set.

Methods, on the same candidates:

- ``cnnc (default model)``: ``cnnc.tl.assign_function`` with its defaults (the ``cnnc-pairs`` model's log-odds of
  interaction between the gene and each known member, aggregated by the soft maximum at temperature 0.5).
- ``cnnc, former default``: the method before this version (``model="cnnc-context"``, anti-correlated pairs read
  as uncorrelated, mean of the 5 strongest links).
- ``context formula GBA``: mean context z (|Pearson| z-scored within both genes' correlations) to the known
  members (``method="context", aggregate="top_k", top_k=None, signed=False``).
- ``|Pearson| GBA``: mean |Pearson| to the known members (guilt by association).

``--options`` also scores the aggregation options ``assign_function`` offers (``OPTIONS``), so that the choice of
the default can be re-made: the one with the highest sum of the two means over the four data sets (of the fraction
of sets above |Pearson| GBA and of the median AUROC) was picked, one rule for all.

Data: BEELINE mESC TFs+500, mDC TFs+1000, mHSC-L TFs+1000 (expression of the ``Specific`` folder; gene symbols
upper case) with ``hallmark.mouse.gmt``; scanpy's ``pbmc68k_reduced`` (log values in ``.raw``) with
``hallmark.human.gmt``. Method choices (model, ``aggregate``, ``temperature``) were tuned on these Hallmark results
only; other gene set collections were kept aside.

``--options`` also scores ``VARIANTS``: set-level changes of the default tried for the target, decided as one grid
before any of them was scored and judged by one rule (an option must meet the target on all four data sets; among
those, the highest sum of the two means above). They are scored here from the default model's gene × gene log-odds
(``pair_log_odds``, read through ``assign_function``), not offered by ``assign_function``; the grid's base (model
evidence, equal members, raw columns, hub correction 0.25) is checked to equal the default's scores. Factors:

- evidence: the model's log-odds, or ``positive`` (pairs with signed Pearson <= 0 get the median pair score, read as
  uninformative, since a set's members co-vary positively);
- members: equal weights, ``coherence`` (each known member weighted by the percentile, among all genes, of its own
  leave-self-out score for the set: members weakly linked to the rest of the set add less) or ``trim`` (weight 1 if
  that percentile is above 0.5, else 0);
- columns: raw, or ``rank`` (each member's log-odds with every gene replaced by the normal quantile of its rank);
- hub correction: 0.25 or 0.5 (same soft maximum over every gene, of the transformed evidence).

None met the target on all four data sets (see the options table), nor did the mean of the ``top_k`` strongest links
with the hub correction, tried after them (``OPTIONS``); the default did not change.

``--scale`` also times ``assign_function`` on random log data (``--scale-genes`` genes × 1,000 random sets) and
records the peak memory traced by tracemalloc.

Usage: python -m benchmarks.function [--repeats 5] [--data mESC mDC mHSC-L PBMC] [--scale] [--options]
Writes benchmarks/results/function.json and docs/_generated/function.md.
"""

from __future__ import annotations

import argparse
import json
import time
import tracemalloc

import numpy as np
import pandas as pd

import cnnc
from cnnc.metrics import auprc, auroc

from ._common import GENERATED, RESULTS, header_line, run_header, use_shared_data

DATA = {"mESC": ("mESC", 500), "mDC": ("mDC", 1000), "mHSC-L": ("mHSC-L", 1000), "PBMC": None}
LABELS = {"mESC": "mESC TFs+500", "mDC": "mDC TFs+1000", "mHSC-L": "mHSC-L TFs+1000", "PBMC": "PBMC 68k reduced"}
METHODS = ("cnnc (default model)", "cnnc, former default", "context formula GBA", "|Pearson| GBA")
RUNS = {
    "cnnc (default model)": {},
    "cnnc, former default": {
        "model": "cnnc-context",
        "aggregate": "top_k",
        "top_k": 5,
        "signed": True,
        "hub_correction": 0.0,
    },
    "context formula GBA": {
        "method": "context",
        "aggregate": "top_k",
        "top_k": None,
        "signed": False,
        "hub_correction": 0.0,
    },
}
#: Aggregation options of assign_function scored with --options (the default was picked among them).
OPTIONS = {
    **{f"cnnc-pairs, softmax T={t}": {"temperature": t, "hub_correction": 0.0} for t in (0.25, 0.5, 1.0, 2.0)},
    **{f"cnnc-pairs, softmax T=0.5, hub correction {h}": {"hub_correction": h} for h in (0.25, 0.5, 1.0)},
    **{f"cnnc-pairs, top {k}": {"aggregate": "top_k", "top_k": k, "hub_correction": 0.0} for k in (3, 5, 10)},
    "cnnc-pairs, mean": {"aggregate": "top_k", "top_k": None, "hub_correction": 0.0},
    "cnnc-context signed, softmax T=0.5": {"model": "cnnc-context", "signed": True, "hub_correction": 0.0},
    "cnnc-context signed, top 5 (former default)": RUNS["cnnc, former default"],
    "cnnc-context unsigned, top 5": {
        "model": "cnnc-context",
        "aggregate": "top_k",
        "top_k": 5,
        "signed": False,
        "hub_correction": 0.0,
    },
    "context formula, softmax T=0.5": {"method": "context", "signed": True, "hub_correction": 0.0},
    # tried after the VARIANTS grid missed the target: the strongest links' mean with the hub correction
    **{
        f"cnnc-pairs, top {k}, hub correction {h}": {"aggregate": "top_k", "top_k": k, "hub_correction": h}
        for k in (5, 10)
        for h in (0.25, 0.5)
    },
}
#: Set-level variants of the default scored with --options (one grid, decided before any was scored; see above):
#: label -> (evidence, member weights, member columns, hub correction). The first is the default itself.
VARIANTS = {
    f"set-level: {ev} evidence, {weights} members, {col} columns, hub {hub}": (ev, weights, col, hub)
    for ev in ("model", "positive")
    for weights in ("equal", "coherence", "trim")
    for col in ("raw", "rank")
    for hub in (0.25, 0.5)
}
#: The variant that is the default (checked against assign_function's scores).
BASE_VARIANT = ("model", "equal", "raw", 0.25)
MIN_MEMBERS = 10


def load(name: str):
    """Expression (AnnData, log values in X) and the species of its Hallmark sets."""
    import scanpy as sc

    if name == "PBMC":
        raw = sc.datasets.pbmc68k_reduced().raw.to_adata()
        return raw, "human"
    use_shared_data()
    cell, size = DATA[name]
    return cnnc.datasets.beeline(cell, "Specific", size), "mouse"


def members_in_data(species: str, names: pd.Index) -> dict[str, np.ndarray]:
    """Positions of each Hallmark set's members in the data (case-insensitive), sets with >= MIN_MEMBERS."""
    upper = pd.Index(names.str.upper())
    out = {}
    use_shared_data()
    for name, genes in cnnc.datasets.hallmark(species).items():
        pos = np.unique(upper.get_indexer(pd.Index(genes).str.upper()))
        pos = pos[pos >= 0]
        if len(pos) >= MIN_MEMBERS:
            out[name] = pos
    return out


def signed_pearson(adata) -> np.ndarray:
    """Genes × genes Pearson correlation (a constant gene correlates with nothing; self pairs NaN)."""
    x = adata.X.toarray() if hasattr(adata.X, "toarray") else np.asarray(adata.X)
    corr = np.nan_to_num(np.corrcoef(np.asarray(x, dtype=np.float64).T))
    np.fill_diagonal(corr, np.nan)
    return corr


def abs_pearson(adata) -> np.ndarray:
    return np.abs(signed_pearson(adata))


def pair_log_odds(adata) -> np.ndarray:
    """The default model's genes × genes log-odds of interaction, as ``assign_function`` scores pairs (self pairs NaN).

    Read through the public function: every gene is a set of its own, without hub correction, and the soft maximum
    of one value is that value.
    """
    names = adata.var_names.astype(str)
    cnnc.tl.assign_function(adata, {g: [g] for g in names}, min_size=1, hub_correction=0.0, key_added="pairs")
    out = adata.varm["pairs"][list(names)].to_numpy(dtype=np.float64)
    del adata.varm["pairs"], adata.uns["pairs"]
    return out


def weighted_soft_max_mean(block: np.ndarray, weights: np.ndarray, temperature: float = 0.5) -> np.ndarray:
    """Row-wise ``T · log(Σ w exp(x / T) / Σ w)`` over the finite values (equal weights: ``_soft_max_mean``)."""
    w = np.where(np.isfinite(block), weights[None, :], 0.0)
    use = w > 0
    top = np.max(np.where(use, block, -np.inf), axis=1)
    top = np.where(np.isfinite(top), top, 0.0)
    terms = w * np.exp((np.where(use, block, 0.0) - top[:, None]) / temperature)
    total = w.sum(1)
    with np.errstate(divide="ignore", invalid="ignore"):
        out = top + temperature * np.log(terms.sum(1) / total)
    return np.where(total > 0, out, np.nan)


def variant_evidence(log_odds: np.ndarray, corr: np.ndarray, evidence: str, columns: str) -> np.ndarray:
    """Pair scores of a variant: anti-correlated pairs made uninformative (``positive``), columns rank-transformed."""
    from scipy.special import ndtri
    from scipy.stats import rankdata

    out = log_odds.copy()
    if evidence == "positive":
        out[(corr <= 0) & np.isfinite(out)] = np.nanmedian(log_odds)
    if columns == "rank":
        for j in range(out.shape[1]):
            ok = np.isfinite(out[:, j])
            out[ok, j] = ndtri(rankdata(out[ok, j]) / (ok.sum() + 1))
    return out


def variant_scores(evidence: np.ndarray, hub: np.ndarray, members: np.ndarray, weights: str) -> np.ndarray:
    """A variant's score of every gene for one set from its known ``members``."""
    block = evidence[:, members]
    score = weighted_soft_max_mean(block, np.ones(len(members))) - hub
    if weights == "equal":
        return score
    # how the rest of the set ranks each member among all genes (its leave-self-out score's percentile)
    pct = pd.Series(np.nan_to_num(score, nan=-np.inf)).rank().to_numpy()[members] / len(score)
    w = pct if weights == "coherence" else (pct > 0.5).astype(float)
    if not w.any():
        w = np.ones(len(members))
    return weighted_soft_max_mean(block, w) - hub


def score_split(adata, known: dict[str, np.ndarray], corr: np.ndarray, runs: dict) -> dict[str, pd.DataFrame]:
    """Genes × sets scores of every method from the known members."""
    names = adata.var_names
    sets = {k: names[v].tolist() for k, v in known.items()}
    out = {}
    for label, kwargs in runs.items():
        cnnc.tl.assign_function(adata, sets, min_size=1, key_added="bench", **kwargs)
        out[label] = adata.varm["bench"].copy()
    out["|Pearson| GBA"] = pd.DataFrame(
        {k: np.nanmean(corr[:, v], axis=1) for k, v in known.items()}, index=names.astype(str)
    )
    return out


def run_data(name: str, repeats: int, runs: dict | None = None, variants: dict | None = None) -> dict:
    runs = RUNS if runs is None else runs
    variants = variants or {}
    methods = (*runs, *variants, "|Pearson| GBA")
    adata, gmt = load(name)
    sets = members_in_data(gmt, pd.Index(adata.var_names.astype(str)))
    corr = abs_pearson(adata)
    evidence, hubs = {}, {}
    if variants:
        log_odds, signed = pair_log_odds(adata), signed_pearson(adata)
        for ev, _, col, hub in variants.values():
            if (ev, col) not in evidence:
                evidence[ev, col] = variant_evidence(log_odds, signed, ev, col)
            everyone = evidence[ev, col]
            hubs[ev, col, hub] = hub * weighted_soft_max_mean(everyone, np.ones(everyone.shape[1]))
    per = {m: {s: [] for s in sets} for m in methods}
    t0 = time.perf_counter()
    for seed in range(repeats):
        rng = np.random.default_rng(seed)
        hidden, known = {}, {}
        for s, mem in sets.items():
            perm = rng.permutation(mem)
            n_hide = len(mem) // 3
            hidden[s], known[s] = perm[:n_hide], perm[n_hide:]
        scores = score_split(adata, known, corr, runs)
        for label, (ev, weights, col, hub) in variants.items():
            scores[label] = pd.DataFrame(
                {k: variant_scores(evidence[ev, col], hubs[ev, col, hub], v, weights) for k, v in known.items()},
                index=adata.var_names.astype(str),
            )
        if variants and seed == 0:  # the grid's base is the default: same scores as assign_function's
            names = adata.var_names
            cnnc.tl.assign_function(adata, {k: names[v].tolist() for k, v in known.items()}, min_size=1, key_added="c")
            base = scores[next(k for k, v in variants.items() if v == BASE_VARIANT)]
            np.testing.assert_allclose(adata.varm["c"][base.columns].to_numpy(), base.to_numpy(), rtol=1e-4, atol=1e-4)
        for s in sets:
            candidates = np.setdiff1d(np.arange(adata.n_vars), known[s])
            y = np.isin(candidates, hidden[s])
            for m in methods:
                sc = np.nan_to_num(scores[m][s].to_numpy()[candidates], nan=-np.inf)
                per[m][s].append((auroc(y, sc), auprc(y, sc) / y.mean()))
    seconds = time.perf_counter() - t0
    table = {
        m: {
            s: {"auroc": float(np.mean([v[0] for v in vals])), "auprc_ratio": float(np.mean([v[1] for v in vals]))}
            for s, vals in per[m].items()
        }
        for m in methods
    }
    pearson = np.array([table["|Pearson| GBA"][s]["auroc"] for s in sets])
    summary = {}
    for m in methods:
        a = np.array([table[m][s]["auroc"] for s in sets])
        r = np.array([table[m][s]["auprc_ratio"] for s in sets])
        summary[m] = {
            "median_auroc": float(np.median(a)),
            "mean_auroc": float(np.mean(a)),
            "median_auprc_ratio": float(np.median(r)),
            "fraction_above_pearson": float(np.mean(a > pearson)),
            "n_above_pearson": int(np.sum(a > pearson)),
        }
    return {
        "label": LABELS[name],
        "n_genes": int(adata.n_vars),
        "n_cells": int(adata.n_obs),
        "n_sets": len(sets),
        "set_sizes": {s: int(len(v)) for s, v in sets.items()},
        "repeats": repeats,
        "seconds": seconds,
        "per_set": table,
        "summary": summary,
    }


def run_images(name: str, model: str = "cnnc-original", n_candidates: int = 30, max_members: int = 20) -> dict:
    """Do pair images reorder a set's top candidates better than the context prior? (seed 0 hiding only)

    For every set, the ``n_candidates`` best non-members by the context prior (what ``assign_function`` reads
    as images with a model that reads images) are ranked three ways: by the prior, by the default model's score,
    and by the image model's score against up to ``max_members`` members. AUROC of the hidden members among them.
    """
    adata, gmt = load(name)
    sets = members_in_data(gmt, pd.Index(adata.var_names.astype(str)))
    rng = np.random.default_rng(0)
    hidden, known = {}, {}
    for s, mem in sets.items():
        perm = rng.permutation(mem)
        hidden[s], known[s] = perm[: len(mem) // 3], perm[len(mem) // 3 :]
    names = adata.var_names
    given = {k: names[v].tolist() for k, v in known.items()}
    t0 = time.perf_counter()
    cnnc.tl.assign_function(
        adata, given, min_size=1, key_added="img", model=model, n_candidates=n_candidates, max_members=max_members
    )
    seconds = time.perf_counter() - t0
    cnnc.tl.assign_function(adata, given, min_size=1, key_added="prior", method="context")
    cnnc.tl.assign_function(adata, given, min_size=1, key_added="default")
    rows = {}
    for s in sets:
        img = adata.varm["img"][s].to_numpy()
        candidates = np.setdiff1d(np.flatnonzero(np.isfinite(img)), known[s])
        y = np.isin(candidates, hidden[s])
        if y.sum() == 0 or y.all():
            continue
        rows[s] = {
            label: auroc(y, adata.varm[key][s].to_numpy()[candidates])
            for label, key in (("images", "img"), ("context prior", "prior"), ("default model", "default"))
        }
        rows[s]["n_hidden_in_candidates"] = int(y.sum())
    frame = pd.DataFrame(rows).T
    return {
        "model": model,
        "n_candidates": n_candidates,
        "max_members": max_members,
        "seconds": seconds,
        "n_sets": len(frame),
        "median_auroc": {c: float(frame[c].median()) for c in ("images", "context prior", "default model")},
        "fraction_images_above_prior": float((frame["images"] > frame["context prior"]).mean()),
        "per_set": rows,
    }


def run_scale(n_genes: int, n_sets: int = 1000, n_cells: int = 2000, set_size: int = 100) -> dict:
    """Time and traced peak memory of assign_function on random log data."""
    import anndata as ad

    rng = np.random.default_rng(0)
    x = np.log1p(rng.poisson(0.5, size=(n_cells, n_genes)).astype(np.float32) * 1.7).astype(np.float32)
    adata = ad.AnnData(x)
    adata.var_names = [f"G{i}" for i in range(n_genes)]
    sets = {f"S{j}": adata.var_names[rng.choice(n_genes, set_size, replace=False)].tolist() for j in range(n_sets)}
    tracemalloc.start()
    t0 = time.perf_counter()
    cnnc.tl.assign_function(adata, sets)
    seconds = time.perf_counter() - t0
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return {
        "n_genes": n_genes,
        "n_sets": n_sets,
        "n_cells": n_cells,
        "set_size": set_size,
        "seconds": seconds,
        "peak_mib": peak / 2**20,
        "genes_x_genes_mib": n_genes**2 * (8 + 4) / 2**20,  # one float64 Gram matrix + the float32 feature
        "output_mib": n_genes * n_sets * (4 + 1) / 2**20,
    }


def _meets(c: dict) -> bool:
    return c["fraction_above_pearson"] >= 0.7 and c["median_auroc"] >= 0.65


def _option_rows(opts: dict, names: list[str], options, *, ratio: bool) -> list[str]:
    """Table rows of the options scored on every data set in ``names``."""
    rows = []
    for option in options:
        cells = [(opts[n]["summary"][option], opts[n]["n_sets"]) for n in names if option in opts[n]["summary"]]
        if len(cells) < len(names):
            continue
        shown = []
        for c, n_sets in cells:
            text = f"{c['fraction_above_pearson']:.0%} ({round(c['fraction_above_pearson'] * n_sets)}/{n_sets}) / "
            text += f"{c['median_auroc']:.3f}"
            shown.append(text + (f" / {c['median_auprc_ratio']:.2f}" if ratio else ""))
        row = (
            f"| {option} | "
            + " | ".join(shown)
            + f" | {np.mean([c['fraction_above_pearson'] for c, _ in cells]):.0%}"
            + f" | {np.mean([c['median_auroc'] for c, _ in cells]):.3f} |"
        )
        if ratio:
            row += " yes |" if len(cells) == 4 and all(_meets(c) for c, _ in cells) else " no |"
        rows.append(row)
    return rows


def write(results: dict) -> None:
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "function.json").write_text(json.dumps(results, indent=1))
    lines = [
        *([header_line(results["run"]), ""] if "run" in results else []),
        "Hallmark gene sets (MSigDB v7.0; mouse orthologs for BEELINE) with at least 10 members in the data; a third of",
        f"each set's members hidden ({results['repeats']} seeded hidings, metrics averaged per set); candidates = every",
        "gene that is not a known member. *above |Pearson|*: fraction of sets whose AUROC is higher than |Pearson|",
        "guilt by association's. AUPRC ratio = average precision / fraction of hidden members among the candidates.",
        "Target: above |Pearson| on at least 70% of the sets and median AUROC at least 0.65.",
        "",
        "| data | sets | method | median AUROC | mean AUROC | median AUPRC ratio | above \\|Pearson\\| |",
        "|---|---|---|---|---|---|---|",
    ]
    for res in results["data"].values():
        for m in METHODS:
            s = res["summary"][m]
            above = "—" if m == "|Pearson| GBA" else f"{s['fraction_above_pearson']:.0%}"
            lines.append(
                f"| {res['label']} ({res['n_genes']:,} genes) | {res['n_sets']} | {m.replace('|', chr(92) + '|')} | "
                f"{s['median_auroc']:.3f} | {s['mean_auroc']:.3f} | {s['median_auprc_ratio']:.2f} | {above} |"
            )
    if "scale" in results:
        sc = results["scale"]
        lines += [
            "",
            f"Scale: {sc['n_genes']:,} random genes × {sc['n_sets']:,} sets of {sc['set_size']} genes "
            f"({sc['n_cells']:,} cells): {sc['seconds']:.0f} s, peak traced memory {sc['peak_mib']:,.0f} MiB. The "
            "default model's genes × genes context feature dominates the memory and grows with genes²: it is made "
            "one association measure and one block of rows at a time, holding one float64 Gram matrix and the float32 "
            f"feature ({sc['genes_x_genes_mib']:,.0f} MiB here); the sets are scored one at a time, by blocks of at "
            "most 2·10⁶ gene × member pairs, so the number of sets adds only the genes × sets result "
            f"({sc['output_mib']:,.0f} MiB).",
        ]
    if "options" in results:
        opts = results["options"]
        names = [n for n in DATA if n in opts]
        lines += [
            "",
            "### Options tried",
            "",
            "The aggregation options of `assign_function` on the same hidings: fraction of sets above |Pearson| GBA (count) / "
            "median AUROC per data set, and their means over the data sets (the default: the highest sum of the two "
            "means).",
            "",
            "| option | " + " | ".join(LABELS[n].split()[0] for n in names) + " | mean above | mean median AUROC |",
            "|---|" + "---|" * (len(names) + 2),
        ]
        lines += _option_rows(opts, names, OPTIONS, ratio=False)
        lines += [
            "",
            "Set-level variants of the default, one grid decided before any was scored (evidence: the model's log-odds "
            "or *positive*, anti-correlated pairs read as uninformative; members: equal weights, *coherence* weights "
            "(the percentile among all genes of each known member's leave-self-out score for the set) or *trim* "
            "(members the rest of the set ranks below the middle dropped); columns: raw or *rank* (normal quantile of "
            "each member's ranks); hub correction 0.25 or 0.5). Scored in the benchmark from the default model's gene × "
            "gene log-odds; the first row is the default. Per data set: share of sets above |Pearson| GBA (count) / "
            "median AUROC / median AUPRC ratio. *meets*: the target on all four data sets.",
            "",
            "| variant | "
            + " | ".join(LABELS[n].split()[0] for n in names)
            + " | mean above | mean median AUROC | meets |",
            "|---|" + "---|" * (len(names) + 3),
        ]
        lines += _option_rows(opts, names, VARIANTS, ratio=True)
        tried = [o for o in (*OPTIONS, *VARIANTS) if all(o in opts[n]["summary"] for n in names)]
        meeting = [o for o in tried if all(_meets(opts[n]["summary"][o]) for n in names)]
        best = {
            n: (
                max(opts[n]["summary"][o]["fraction_above_pearson"] for o in tried),
                max(opts[n]["summary"][o]["median_auroc"] for o in tried),
            )
            for n in names
        }
        lines += [
            "",
            f"Options and variants meeting the target on every data set shown: {len(meeting)} of {len(tried)}"
            + (f" ({', '.join(meeting)})" if meeting else "")
            + ". Best of any of them, per data set (share above |Pearson| GBA; median AUROC, not necessarily the same "
            "option): " + "; ".join(f"{LABELS[n].split()[0]} {a:.0%}, {m:.3f}" for n, (a, m) in best.items()) + ".",
        ]
    for name, im in results.get("images", {}).items():
        med = im["median_auroc"]
        lines += [
            "",
            f"Pair images, {LABELS[name]} (one hiding): the {im['n_candidates']} best non-members of each set by the "
            f"context prior read as `{im['model']}` images against up to {im['max_members']} members. AUROC of the "
            f"hidden members among those candidates, median over {im['n_sets']} sets: images {med['images']:.3f}, "
            f"context prior {med['context prior']:.3f}, default model {med['default model']:.3f}; images above the "
            f"prior on {im['fraction_images_above_prior']:.0%} of the sets ({im['seconds']:.0f} s).",
        ]
    GENERATED.mkdir(parents=True, exist_ok=True)
    (GENERATED / "function.md").write_text("\n".join(lines) + "\n")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--data", nargs="+", default=list(DATA), choices=list(DATA))
    parser.add_argument("--scale", action="store_true")
    parser.add_argument("--scale-genes", type=int, default=5000)
    parser.add_argument("--images", nargs="*", default=[], choices=list(DATA), help="data sets for the image check")
    parser.add_argument("--options", action="store_true", help="also score the aggregation options (OPTIONS)")
    args = parser.parse_args()
    import scanpy as sc

    sc.settings.verbosity = 0
    results = {"repeats": args.repeats, "data": {}, "cnnc_version": cnnc.__version__}
    results["run"] = run_header(*dict.fromkeys(["default", *(r["model"] for r in RUNS.values() if "model" in r)]))
    previous = RESULTS / "function.json"
    if previous.is_file():
        old = json.loads(previous.read_text())
        if old.get("repeats") == args.repeats:
            results["data"] = {  # earlier rows of the same methods only
                k: v for k, v in old.get("data", {}).items() if k in DATA and set(METHODS) <= set(v["summary"])
            }
            for part in ("scale", "images", "options"):
                if part in old:
                    results[part] = old[part]
    for name in args.data:
        res = run_data(name, args.repeats)
        results["data"][name] = res
        for m in METHODS:
            s = res["summary"][m]
            print(
                f"{name:7s} {m:22s} median AUROC {s['median_auroc']:.3f}  AUPRC ratio {s['median_auprc_ratio']:.2f}"
                f"  above |Pearson| {s['fraction_above_pearson']:.0%}"
            )
        write(results)
    if args.options:
        results["options"] = {
            k: v for k, v in results.get("options", {}).items() if {*OPTIONS, *VARIANTS} <= set(v["summary"])
        }
        for name in args.data:
            res = run_data(name, args.repeats, OPTIONS, VARIANTS)
            results["options"][name] = {"summary": res["summary"], "n_sets": res["n_sets"]}
            for option in (*OPTIONS, *VARIANTS):
                s = res["summary"][option]
                print(
                    f"{name:7s} {option:45s} median AUROC {s['median_auroc']:.3f}  "
                    f"AUPRC ratio {s['median_auprc_ratio']:.2f}  above {s['fraction_above_pearson']:.0%}"
                )
            write(results)
    if args.scale:
        results["scale"] = run_scale(args.scale_genes)
        print(results["scale"])
    if args.images:
        results.setdefault("images", {})
        for name in args.images:
            results["images"][name] = run_images(name)
            print(name, results["images"][name]["median_auroc"], results["images"][name]["fraction_images_above_prior"])
    results["data"] = {k: results["data"][k] for k in DATA if k in results["data"]}
    write(results)


if __name__ == "__main__":
    main()
