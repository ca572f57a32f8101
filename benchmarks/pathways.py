"""Pathway edges as the CNNC paper trained them: KEGG pairs, gene-disjoint cross-validation, beside |Pearson|.

CNNC's KEGG label table (``cnnc.datasets.cnnc_pairs("mmukegg_new_new_unique_rand_labelx")``: label 1 = a -> b,
2 = the same pair swapped, 0 = a random pair) is restricted to the pairs whose two genes are in BEELINE mESC
TFs+500 (255 a -> b pairs) and mDC TFs+1000 (309). The labelled examples are built here from the table itself
(``cnnc.tl.train`` reads regulator -> target edges, not labelled tables): each a -> b pair is class 1, its swap
class 2, and class 0 holds the table's own random pairs inside the data plus one random pair (a, c) per a -> b
pair, with c drawn among the same fold's genes and never a KEGG partner of a.

Gene-disjoint folds: the genes (symbols upper-cased, pooled over both data sets) are split into 3 groups; a fold
trains on the pairs whose two genes are outside its group (both data sets pooled) and tests on the pairs whose two
genes are inside it, so no test gene is in any training pair. Pairs that straddle are not used in that fold.
Early stopping watches a fifth of the training source genes. Repeated over ``--seeds`` gene splits.

Scores on the test pairs (every positive pair read once, in its KEGG orientation, both images averaged):

- interaction: AUROC and AUPRC ratio of the a -> b pairs against the class-0 pairs, score = 1 - P(none);
- direction accuracy: the share of a -> b pairs with P(a -> b) > P(b -> a) (0.5 = chance; correlation has none).

Models trained: ``original`` (CNNC's network and 32x32 images), ``context`` (the default model's design: context
features on a linear path plus a 16x16 image branch, ``deep_scale`` 1), ``features`` (the linear path alone).
Beside them: |Pearson|, the context z (z_context), and the registry's default model without KEGG training.

Usage: python benchmarks/pathways.py [--seeds 3] [--epochs 30] [--models original context features]
Writes benchmarks/results/pathways.json and docs/_generated/pathways.md.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
import cnnc
from benchmarks._beeline import GENERATED, RESULTS, use_shared_data
from cnnc._engine._params import PairImageParams
from cnnc._scoring import predict_both_ways
from cnnc._training._examples import Examples, data_set_context
from cnnc._training._labels import LabelledPairs
from cnnc.metrics import auprc, auroc
from cnnc.models import Model, ModelSpec
from cnnc.tl._train import fit_examples

DATA = {"mESC": ("mESC", 500), "mDC": ("mDC", 1000)}
LABELS = {"mESC": "mESC TFs+500", "mDC": "mDC TFs+1000"}
FEATURES = ["abs_pearson", "z_regulator", "z_target", "z_context"]
ARCHITECTURES = {
    "original": ({"image_size": 32, "filters": [32, 64, 128], "dense": 512, "n_classes": 3}, 32, []),
    "context": (
        {
            "image_size": 16,
            "filters": [16, 32],
            "dense": 64,
            "n_classes": 3,
            "n_extra_features": 4,
            "wide": True,
            "deep_scale": 1.0,
        },
        16,
        FEATURES,
    ),
    "features": (
        {
            "image_size": 16,
            "filters": [16, 32],
            "dense": 64,
            "n_classes": 3,
            "n_extra_features": 4,
            "wide": True,
            "deep_scale": 0.0,
        },
        16,
        FEATURES,
    ),
}
BASELINES = ("|Pearson|", "1 - |Pearson|", "context z", "default model (no KEGG training)")


class DataSet:
    """One BEELINE data set: its contexts for both image sizes and the KEGG pairs inside it."""

    def __init__(self, name: str, kegg: pd.DataFrame) -> None:
        use_shared_data()
        cell, size = DATA[name]
        self.adata = cnnc.datasets.beeline(cell, "Specific", size)
        self.names = pd.Index(self.adata.var_names.astype(str).str.upper())
        x = np.asarray(self.adata.X, dtype=np.float32)
        self.contexts = {
            bins: data_set_context(x, self.names, PairImageParams(bins=bins), FEATURES) for bins in (16, 32)
        }
        a = self.names.get_indexer(kegg["gene_a"].str.upper())
        b = self.names.get_indexer(kegg["gene_b"].str.upper())
        inside = (a >= 0) & (b >= 0) & (a != b)
        lab = kegg["label"].to_numpy()
        self.pos = np.unique(np.stack([a[inside & (lab == 1)], b[inside & (lab == 1)]], 1), axis=0)
        self.neg0 = np.unique(np.stack([a[inside & (lab == 0)], b[inside & (lab == 0)]], 1), axis=0)
        self.partners = {(i, j) for i, j in self.pos} | {(j, i) for i, j in self.pos}
        self.stats = self.contexts[16].stats

    def labelled(self, genes: set[str], rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Pairs (a, b, label) of the group ``genes``: a -> b (1), b -> a (2), table negatives and random (0)."""
        inside = np.isin(self.names, list(genes))
        pos = self.pos[inside[self.pos[:, 0]] & inside[self.pos[:, 1]]]
        neg0 = self.neg0[inside[self.neg0[:, 0]] & inside[self.neg0[:, 1]]] if len(self.neg0) else self.neg0
        pool = np.flatnonzero(inside)
        neg = []
        for i, _ in pos:
            choices = [c for c in rng.permutation(pool)[:50] if c != i and (i, c) not in self.partners]
            if choices:
                neg.append((i, choices[0]))
        neg = np.array(neg, dtype=np.int64).reshape(-1, 2)
        negs = np.concatenate([neg0.reshape(-1, 2), neg]) if len(neg0) else neg
        a = np.concatenate([pos[:, 0], pos[:, 1], negs[:, 0]])
        b = np.concatenate([pos[:, 1], pos[:, 0], negs[:, 1]])
        label = np.concatenate([np.ones(len(pos)), np.full(len(pos), 2), np.zeros(len(negs))]).astype(np.int64)
        return a, b, label

    def examples(self, a, b, label, bins: int, features: list[str], dataset_id: int) -> Examples:
        context = self.contexts[bins]
        images = context.imager.images(a, b)
        extra = context.stats.features(a, b, tuple(features)) if features else None
        return Examples(images, extra, LabelledPairs(a, b, label, a + dataset_id * 10_000_000), np.full(len(a), 0))

    def proba(self, model: Model, a, b) -> np.ndarray:
        """Class probabilities of pairs, the image and its transpose averaged (as predict_interactions does)."""
        bins = model.spec.image["bins"]
        context = self.contexts[bins]
        images = context.imager.images(a, b)
        feats = model.spec.features
        e_ab = context.stats.features(a, b, tuple(feats)) if feats else None
        e_ba = context.stats.features(b, a, tuple(feats)) if feats else None
        return predict_both_ways(model, images, e_ab, e_ba, symmetric=True, batch_size=512)


def test_pairs(ds: DataSet, a, b, label):
    """The evaluation pairs of a group: each a -> b pair once (label 1) and the class-0 pairs."""
    keep = label != 2
    return a[keep], b[keep], label[keep] == 1


def metrics(y: np.ndarray, score: np.ndarray, p_ab=None, p_ba=None) -> dict:
    out = {"auroc": auroc(y, score), "auprc_ratio": auprc(y, score) / y.mean(), "n_pos": int(y.sum())}
    out["n_neg"] = int((~y).sum())
    if p_ab is not None:
        out["direction_accuracy"] = float(np.mean(p_ab[y] > p_ba[y]) + 0.5 * np.mean(p_ab[y] == p_ba[y]))
    return out


def run(seeds: int, epochs: int, models: list[str]) -> dict:
    torch.set_num_threads(1)
    use_shared_data()
    kegg = cnnc.datasets.cnnc_pairs("mmukegg_new_new_unique_rand_labelx")
    data = {n: DataSet(n, kegg) for n in DATA}
    default = cnnc.models.load("default")
    symbols = sorted(set().union(*(set(d.names) for d in data.values())))
    pooled = {n: {m: {"y": [], "score": [], "p_ab": [], "p_ba": []} for m in (*models, *BASELINES)} for n in data}
    fits = []
    for seed in range(seeds):
        rng = np.random.default_rng(seed)
        groups = np.array_split(rng.permutation(symbols), 3)
        for k, test_genes in enumerate(groups):
            test_set = set(test_genes)
            train_set = set(symbols) - test_set
            train, test = {}, {}
            for n, ds in data.items():
                train[n] = ds.labelled(train_set, rng)
                test[n] = test_pairs(ds, *ds.labelled(test_set, rng))
                a, b, y = test[n]
                r = ds.stats.abs_corr[a, b]
                z = ds.stats.features(a, b, ("z_context",))[:, 0]
                p = ds.proba(default, a, b)
                for m, s, pab, pba in (
                    ("|Pearson|", r, None, None),
                    ("1 - |Pearson|", 1 - r, None, None),
                    ("context z", z, None, None),
                    ("default model (no KEGG training)", 1 - p[:, 0], p[:, 1], p[:, 2]),
                ):
                    pooled[n][m]["y"].append(y)
                    pooled[n][m]["score"].append(s)
                    if pab is not None:
                        pooled[n][m]["p_ab"].append(pab)
                        pooled[n][m]["p_ba"].append(pba)
            for m in models:
                arch, bins, feats = ARCHITECTURES[m]
                parts = [data[n].examples(*train[n], bins, feats, i) for i, n in enumerate(data)]
                examples = Examples.concat(parts)
                t0 = time.perf_counter()
                module, result = fit_examples(
                    examples,
                    architecture=arch,
                    validation_fraction=0.2,
                    rng=np.random.default_rng(seed),
                    seed=seed,
                    fit_kwargs={"epochs": epochs, "patience": 5, "batch_size": 64},
                )
                fits.append(
                    {
                        "model": m,
                        "seed": seed,
                        "fold": k,
                        "n_train": len(examples),
                        "best_epoch": result.best_epoch,
                        "seconds": time.perf_counter() - t0,
                    }
                )
                model = Model(module, _spec(m, arch, bins, feats, {}))
                for n, ds in data.items():
                    a, b, y = test[n]
                    p = ds.proba(model, a, b)
                    pooled[n][m]["y"].append(y)
                    pooled[n][m]["score"].append(1 - p[:, 0])
                    pooled[n][m]["p_ab"].append(p[:, 1])
                    pooled[n][m]["p_ba"].append(p[:, 2])
                print(f"seed {seed} fold {k} {m}: {len(examples)} training pairs, best epoch {result.best_epoch}")
    out = {}
    for n, per in pooled.items():
        out[n] = {"label": LABELS[n], "n_kegg_pairs": int(len(data[n].pos)), "methods": {}}
        for m, acc in per.items():
            # metrics per (seed, fold) part, then averaged: AUROC within a part compares pairs scored by one model
            parts = []
            for i in range(len(acc["y"])):
                y, s = acc["y"][i], acc["score"][i]
                if y.sum() == 0 or (~y).sum() == 0:
                    continue
                pab = acc["p_ab"][i] if acc["p_ab"] else None
                pba = acc["p_ba"][i] if acc["p_ba"] else None
                parts.append(metrics(y, s, pab, pba))
            summary = {
                key: float(np.mean([p[key] for p in parts])) for key in parts[0] if key not in ("n_pos", "n_neg")
            }
            summary["auroc_se"] = float(np.std([p["auroc"] for p in parts], ddof=1) / np.sqrt(len(parts)))
            summary["n_test_pos"] = int(sum(p["n_pos"] for p in parts)) // seeds
            summary["n_test_neg"] = int(sum(p["n_neg"] for p in parts)) // seeds
            summary["parts"] = parts
            out[n]["methods"][m] = summary
        pearson = [p["auroc"] for p in out[n]["methods"]["|Pearson|"]["parts"]]
        for summary in out[n]["methods"].values():
            mine = [p["auroc"] for p in summary["parts"]]
            summary["parts_above_pearson"] = f"{sum(a > b for a, b in zip(mine, pearson, strict=True))}/{len(mine)}"
    return {"seeds": seeds, "epochs": epochs, "data": out, "fits": fits}


def _spec(name: str, arch: dict, bins: int, feats: list[str], training: dict, metrics: dict | None = None) -> ModelSpec:
    return ModelSpec(
        name=f"cnnc-kegg-{name}",
        task="direction",
        classes=["none", "regulator->target", "target->regulator"],
        image=PairImageParams(bins=bins).to_dict(),
        architecture=cnnc.models.CNNC(**arch).config,
        features=list(feats),
        species=["mouse"],
        training=training,
        metrics=metrics or {},
    )


def decision(results: dict) -> str:
    """Whether a trained model beats correlation: a pathway model ships only if one does.

    Beating correlation means, on every data set: a higher AUROC and AUPRC ratio than |Pearson| and than
    1 - |Pearson| (on data where KEGG pairs are less correlated than random pairs, anti-correlation is the bar),
    and an AUROC above chance by two standard errors.
    """
    trained = [m for m in next(iter(results["data"].values()))["methods"] if m not in BASELINES]
    passing = []
    for m in trained:
        ok = True
        for res in results["data"].values():
            s = res["methods"][m]
            for ref in ("|Pearson|", "1 - |Pearson|"):
                r = res["methods"][ref]
                ok &= s["auroc"] > r["auroc"] and s["auprc_ratio"] > r["auprc_ratio"]
            ok &= s["auroc"] - 2 * s["auroc_se"] > 0.5
        if ok:
            passing.append(m)
    direction = [res["methods"][m]["direction_accuracy"] for m in trained for res in results["data"].values()]
    text = (
        f"Direction accuracy of the trained models: {min(direction):.2f} to {max(direction):.2f} (0.5 = chance). "
        + (
            f"Beats correlation on both data sets: {', '.join(passing)}."
            if passing
            else "No trained model beats correlation on both data sets (higher AUROC and AUPRC ratio than |Pearson| "
            "and than 1 − |Pearson|, AUROC above 0.5 by two standard errors): no pathway model is shipped."
        )
    )
    return text.replace("|", "\\|")


def write(results: dict) -> None:
    results["shipped"] = decision(results)
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "pathways.json").write_text(json.dumps(results, indent=1))
    lines = [
        "CNNC's KEGG pathway pairs inside BEELINE data sets, 3-fold gene-disjoint cross-validation (no test gene in any",
        f"training pair; both data sets' training pairs pooled), {results['seeds']} gene splits, metrics averaged over",
        "the folds. Interaction: KEGG a → b pairs against random pairs (the table's own and one per KEGG pair).",
        "Direction: share of KEGG pairs whose predicted a → b beats b → a (0.5 = chance).",
        "",
        "| data | method | AUROC (± s.e.) | AUROC > \\|Pearson\\| in folds | AUPRC ratio | direction accuracy "
        "| test pairs (+/−) per split |",
        "|---|---|---|---|---|---|---|",
    ]
    for res in results["data"].values():
        for m, s in res["methods"].items():
            direction = f"{s['direction_accuracy']:.3f}" if "direction_accuracy" in s else "— (none)"
            label = m.replace("|", "\\|")
            trained = "" if m in BASELINES else "trained: "
            lines.append(
                f"| {res['label']} ({res['n_kegg_pairs']} KEGG pairs) | {trained}{label} | {s['auroc']:.3f} ± "
                f"{s['auroc_se']:.3f} | {s['parts_above_pearson']} | {s['auprc_ratio']:.2f} | {direction} | "
                f"{s['n_test_pos']}/{s['n_test_neg']} |"
            )
    if results.get("shipped"):
        lines += ["", results["shipped"]]
    GENERATED.mkdir(parents=True, exist_ok=True)
    (GENERATED / "pathways.md").write_text("\n".join(lines) + "\n")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--epochs", type=int, default=30)
    parser.add_argument("--models", nargs="+", default=list(ARCHITECTURES), choices=list(ARCHITECTURES))
    parser.add_argument("--tables-only", action="store_true", help="rewrite the table from the stored results")
    args = parser.parse_args()
    if args.tables_only:
        write(json.loads((RESULTS / "pathways.json").read_text()))
        return
    import scanpy as sc

    sc.settings.verbosity = 0
    results = run(args.seeds, args.epochs, args.models)
    for n, res in results["data"].items():
        for m, s in res["methods"].items():
            print(f"{n:5s} {m:34s} " + "  ".join(f"{k} {v:.3f}" for k, v in s.items() if isinstance(v, float)))
    write(results)


if __name__ == "__main__":
    main()
