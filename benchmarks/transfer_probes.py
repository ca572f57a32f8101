"""What limits the default model on unseen cell types: three probes, leave one cell type out, every pair scored.

1. **Images for binding, per truth.** The cell-type-specific ChIP-seq truth ("Specific") is where every method sits
   near chance. Does a CNN trained on that truth alone (the other two cell types' Specific edges, CNNC's 3-class
   labels with reversed pairs and non-target negatives) transfer to the left-out cell type's Specific truth, and do
   the pair images add to the two genes' marginal statistics? Three networks, same labels and fit: pair images
   only; marginals only (detection rate, mean, variance of both genes; no image); both. Each alone and
   rank-averaged with the default's context prior, beside the prior, regdiffusion, and the target's detection rate
   (a marginal prior: ChIP-seq finds more targets among well-detected genes).
2. **The ceiling of stacking.** The default's context prior rank-averaged with regdiffusion's and GRNBoost2's own
   scores (their outputs, so this is no method a user could run without them): if even the strongest peer adds
   little, another correlation-family measure cannot add more.
3. **Within-cluster correlation.** Correlation after centring each gene within k-means clusters of the cells
   (k = 5, 10, 20 on 20 principal components): removes the cell-state differences that dominate correlation
   across a differentiation, added to the prior as one more equal-weight measure.

4. **CNNC's own labels.** The pair-image network of probe 1 trained on the original CNNC label files (GTRD ChIP-seq
   TF -> target pairs with CNNC's swapped and random pairs: mESC on mESC, dendritic cells on mDC; the bone marrow
   file has no pair inside mHSC-L's genes), mapped onto the training cell types' data, and scored on every truth
   of the left-out cell type, alone and rank-averaged with the context prior.

Nothing here is chosen on a left-out cell type; probe 3 reports every k. Seeds: probe 1 trains each network with
seeds 0, 1, 2 and reports the mean and the range.

Usage: python -m benchmarks.transfer_probes [--probes heads stack clusters cnnc_labels] [--seeds 0 1 2]
Writes benchmarks/results/transfer_probes.json and docs/_generated/transfer_probes.md.
"""

from __future__ import annotations

import argparse
import json

import numpy as np
import pandas as pd
from scipy.cluster.vq import kmeans2
from scipy.stats import rankdata

import cnnc
from cnnc.metrics import summarize
from cnnc.models import MARGINAL_FEATURES, ContextStatistics, context_z

from ._beeline import CELLS, baseline_tables, candidates, dense, load_cell, table_lookup, use_shared_data
from ._common import GENERATED, RESULTS, geometric_mean, header_line, run_header

OUT = RESULTS / "transfer_probes.json"
DOC = GENERATED / "transfer_probes.md"
#: The shipped default's context prior (its card's first feature)
PRIOR = "z_mean:pearson+abs_scaled+pc1_removed"
ARCH = {"filters": [16, 32], "dense": 64, "wide": False}


def _head_recipes() -> dict:
    """The three per-truth networks: the default's image size, labels, sampling and fit; no context prior."""
    base = cnnc.tl.recipes()["cnnc-pairs"]
    common = {"wide_prior": False, "measure_choices": (), "deep_scales": ()}
    return {
        "pair images": base.with_overrides(name="probe-images", features=(), architecture=dict(ARCH), **common),
        "marginals": base.with_overrides(
            name="probe-marginals",
            features=MARGINAL_FEATURES,
            architecture={**ARCH, "reads_images": False},
            **common,
        ),
        "pair images + marginals": base.with_overrides(
            name="probe-both", features=MARGINAL_FEATURES, architecture=dict(ARCH), **common
        ),
    }


def _ranks(v: np.ndarray) -> np.ndarray:
    return rankdata(v) / len(v)


def _regulators(adata, truths) -> list[str]:
    base = [t for n, t in truths.items() if n != "Lofgof"]
    return sorted(set().union(*(set(t["regulator"]) for t in base)) & set(adata.var_names))


def _fit_and_score(recipe, train: list, edges: list, adata, regulators: list[str], seed: int) -> pd.DataFrame:
    """Train ``recipe`` on the training data sets' labelled edges, then score every regulator × gene pair of ``adata``."""
    model = cnnc.tl.train(train, edges, recipe=recipe, folds=0, seed=seed, use_raw=False)
    scored = adata.copy()
    cnnc.tl.predict_interactions(scored, model=model, tfs=regulators, layer="X", key_added="probe")
    return scored.uns["probe"]["edges"]


def probe_heads(data: dict, seeds: list[int]) -> list[dict]:
    rows = []
    recipes = _head_recipes()
    for left_out in CELLS:
        adata, truths = data[left_out]
        names, x = pd.Index(adata.var_names), dense(adata)
        regs = _regulators(adata, truths)
        a, b, y = candidates(adata, truths["Specific"])
        prior = ContextStatistics.from_matrix(x, features=(PRIOR,)).features(a, b, (PRIOR,))[:, 0]
        refs = {"context prior (default)": prior, "target's detection rate": (x > 0).mean(0)[b]}
        for label, table in baseline_tables(adata, regs).items():
            refs[label] = table_lookup(table, names, a, b)
        for label, s in refs.items():
            rows.append({"left_out": left_out, "method": label, "seed": None, **summarize(y, s)})
        train = [c for c in CELLS if c != left_out]
        for seed in seeds:
            for label, recipe in recipes.items():
                edges = _fit_and_score(
                    recipe,
                    [data[c][0] for c in train],
                    [{"Specific": data[c][1]["Specific"]} for c in train],
                    adata,
                    regs,
                    seed,
                )
                s = table_lookup(edges, names, a, b)
                rows.append({"left_out": left_out, "method": label, "seed": seed, **summarize(y, s)})
                stacked = _ranks(prior) + _ranks(s)
                rows.append({"left_out": left_out, "method": f"{label} + prior", "seed": seed, **summarize(y, stacked)})
                print(f"heads {left_out} {label} seed {seed}: {rows[-2]['auprc_ratio']:.3f}", flush=True)
    return rows


#: CNNC's label file of each BEELINE cell type's own (or nearest) cell type
CNNC_LABELS = {"mESC": "mesc_gene_pairs_400", "mDC": "dendritic_gene_pairs_200", "mHSC-L": "bone_marrow_gene_pairs_200"}


def _cnnc_labels(adata, name: str) -> pd.DataFrame:
    """CNNC's labelled pairs whose two genes are in ``adata`` (upper-case symbols, as BEELINE writes them)."""
    pairs = cnnc.datasets.cnnc_pairs(name)
    genes = set(adata.var_names.str.upper())
    a, b = pairs["gene_a"].str.upper(), pairs["gene_b"].str.upper()
    inside = a.isin(genes) & b.isin(genes)
    return pd.DataFrame({"regulator": a[inside], "target": b[inside], "label": pairs["label"][inside]})


def probe_cnnc_labels(data: dict, seeds: list[int]) -> list[dict]:
    rows = []
    recipe = _head_recipes()["pair images"]
    labelled = {cell: _cnnc_labels(data[cell][0], CNNC_LABELS[cell]) for cell in CELLS}
    for left_out in CELLS:
        adata, truths = data[left_out]
        names, x = pd.Index(adata.var_names), dense(adata)
        regs = _regulators(adata, truths)
        train = [c for c in CELLS if c != left_out and len(labelled[c])]
        stats = ContextStatistics.from_matrix(x, features=(PRIOR,))
        pairs = {net: candidates(adata, t) for net, t in _scored_truths(adata, truths).items()}
        priors = {net: stats.features(a, b, (PRIOR,))[:, 0] for net, (a, b, _) in pairs.items()}
        for net, (_, _, y) in pairs.items():
            rows.append(
                {"cell": left_out, "network": net, "method": "context prior (default)", **summarize(y, priors[net])}
            )
        trained_on = "+".join(CNNC_LABELS[c] for c in train)
        for seed in seeds:
            edges = _fit_and_score(recipe, [data[c][0] for c in train], [labelled[c] for c in train], adata, regs, seed)
            for net, (a, b, y) in pairs.items():
                s = table_lookup(edges, names, a, b)
                prior = priors[net]
                for label, score in (("images", s), ("images + prior", _ranks(s) + _ranks(prior))):
                    rows.append(
                        {
                            "cell": left_out,
                            "network": net,
                            "method": f"{label} (CNNC labels)",
                            "seed": seed,
                            "trained_on": trained_on,
                            **summarize(y, score),
                        }
                    )
            print(f"cnnc_labels {left_out} seed {seed}", flush=True)
    return rows


def _scored_truths(adata, truths) -> dict:
    regs = _regulators(adata, truths)
    return {n: (t[t["regulator"].isin(regs)] if n == "Lofgof" else t) for n, t in truths.items()}


def probe_stack(data: dict) -> list[dict]:
    rows = []
    for cell in CELLS:
        adata, truths = data[cell]
        names, x = pd.Index(adata.var_names), dense(adata)
        stats = ContextStatistics.from_matrix(x, features=(PRIOR,))
        tables = baseline_tables(adata, _regulators(adata, truths))
        for net, t in _scored_truths(adata, truths).items():
            a, b, y = candidates(adata, t)
            prior = stats.features(a, b, (PRIOR,))[:, 0]
            scores = {"context prior (default)": prior}
            for label, table in tables.items():
                s = table_lookup(table, names, a, b)
                scores[label] = s
                scores[f"prior + {label} (rank mean)"] = _ranks(prior) + _ranks(s)
            for label, s in scores.items():
                rows.append({"cell": cell, "network": net, "method": label, **summarize(y, s)})
    return rows


def probe_clusters(data: dict, ks=(5, 10, 20)) -> list[dict]:
    rows = []
    for cell in CELLS:
        adata, truths = data[cell]
        x = dense(adata)
        # the default's prior exactly as the package computes it (mean of three context scores)
        prior_matrix = ContextStatistics.from_matrix(x, features=(PRIOR,)).means[PRIOR]
        centred = x - x.mean(0)
        u, s, _ = np.linalg.svd(centred, full_matrices=False)
        pcs = u[:, :20] * s[:20]
        extra = {}
        for k in ks:
            _, labels = kmeans2(pcs, k, seed=0, minit="++")
            within = x.copy()
            for c in np.unique(labels):
                within[labels == c] -= within[labels == c].mean(0)
            extra[k] = context_z(np.nan_to_num(np.corrcoef(within.T)))
        for net, t in _scored_truths(adata, truths).items():
            a, b, y = candidates(adata, t)
            prior = prior_matrix[a, b]
            rows.append({"cell": cell, "network": net, "method": "context prior (default)", **summarize(y, prior)})
            for k, z in extra.items():
                s = (3 * prior + z[a, b]) / 4
                rows.append({"cell": cell, "network": net, "method": f"prior + within {k} clusters", **summarize(y, s)})
    return rows


def _versus_rows(rows: list[dict], base: str) -> list[str]:
    table = pd.DataFrame(rows).pivot_table(index=["cell", "network"], columns="method", values="auprc_ratio")
    if base not in table:
        return [f"({base} unavailable: no comparison)"]
    out = []
    for m in table.columns:
        if m == base:
            continue
        both = table[[m, base]].dropna()
        wins = int((both[m] > both[base]).sum())
        out.append(
            f"- {m} vs {base}: higher on {wins}/{len(both)} sets, geometric mean ×{geometric_mean(both[m] / both[base]):.3f}"
        )
    return out


def markdown(result: dict) -> str:
    lines = [header_line(result["run"]), ""] if "run" in result else []
    if "heads" in result:
        df = pd.DataFrame(result["heads"])
        lines += [
            "**Probe 1: per-truth networks on the Specific (cell-type ChIP-seq) truth.** Trained on the other two cell",
            "types' Specific edges only; AUPRC ratio / AUROC on every regulator × gene pair of the left-out cell type",
            "(random: 1 / 0.5). Trained rows: mean over seeds, [min, max] of the AUPRC ratio.",
            "",
            "| method | " + " | ".join(CELLS) + " |",
            "|---|" + "---|" * len(CELLS),
        ]
        for method in dict.fromkeys(df["method"]):
            cells = []
            for cell in CELLS:
                d = df[(df["method"] == method) & (df["left_out"] == cell)]
                if d.empty:
                    cells.append("–")
                    continue
                text = f"{d['auprc_ratio'].mean():.3f} / {d['auroc'].mean():.3f}"
                if len(d) > 1:
                    text += f" [{d['auprc_ratio'].min():.2f}, {d['auprc_ratio'].max():.2f}]"
                cells.append(text)
            lines.append(f"| {method} | " + " | ".join(cells) + " |")
        lines.append("")
    for key, title in (
        ("stack", "**Probe 2: stacking the prior with the peers' own scores** (AUPRC ratio; all 10 sets)."),
        ("clusters", "**Probe 3: within-cluster correlation added to the prior** (AUPRC ratio; all 10 sets)."),
        (
            "cnnc_labels",
            "**Probe 4: pair images trained on CNNC's own GTRD labels** (mESC and dendritic-cell files; AUPRC "
            "ratio, mean over seeds; all 10 sets).",
        ),
    ):
        if key not in result:
            continue
        df = pd.DataFrame(result[key])
        table = df.pivot_table(
            index=["cell", "network"], columns="method", values="auprc_ratio", aggfunc="mean", sort=False
        )
        methods = list(dict.fromkeys(df["method"]))
        lines += [title, "", "| cell | truth | " + " | ".join(methods) + " |", "|---|---|" + "---|" * len(methods)]
        for (cell, net), r in table.iterrows():
            lines.append(f"| {cell} | {net} | " + " | ".join(f"{r[m]:.2f}" for m in methods) + " |")
        lines.append("")
        base = "regdiffusion" if key == "stack" else "context prior (default)"
        lines += _versus_rows(result[key], base) + [""]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--probes", nargs="*", default=["heads", "stack", "clusters", "cnnc_labels"])
    parser.add_argument("--seeds", nargs="*", type=int, default=[0, 1, 2])
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args(argv)
    use_shared_data()
    data = {cell: load_cell(cell, lofgof=True) for cell in CELLS}
    result = json.loads(OUT.read_text()) if OUT.is_file() and not args.no_write else {}
    result["run"] = run_header("default", trained="per-truth networks, stacks and image networks of the probes")
    if "stack" in args.probes:
        result["stack"] = probe_stack(data)
    if "clusters" in args.probes:
        result["clusters"] = probe_clusters(data)
    if "heads" in args.probes:
        result["heads"] = probe_heads(data, args.seeds)
    if "cnnc_labels" in args.probes:
        result["cnnc_labels"] = probe_cnnc_labels(data, args.seeds)
    text = markdown(result)
    print(text)
    if not args.no_write:
        OUT.write_text(json.dumps(result, indent=1, default=float) + "\n")
        DOC.write_text(text)
        print(f"wrote {OUT} and {DOC}")


if __name__ == "__main__":
    main()
