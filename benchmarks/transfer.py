"""Leave-one-cell-type-out accuracy and direction: train on two BEELINE cell types, predict the third with no labels.

For each left-out cell type (mDC, mESC, mHSC-L, TFs+500), the recipes are trained by the public API
(``cnnc.tl.train([two cell types], [their truths], recipe=...)``) on the other two cell types' ground truths
(Specific, STRING, Non-Specific, and Lofgof where it exists: mESC), every choice made by validation between those
two. Then every (regulator, gene) pair of the left-out cell type is scored (regulators: the ground truth's
regulators in the data; genes: all) and AUROC, AUPRC ratio (AUPRC / positive rate) and early precision ratio are
reported beside, on exactly the same pairs, |Pearson|, |Spearman|, the context formula (|Pearson| z-scored in
context, the former default), the model's own context prior alone, the target's detection rate (a trivial prior
that reads no pair), GRNBoost2 and regdiffusion (benchmark-only venvs, see benchmarks/baselines; cached).
Direction: on the left-out cell type's one-way TF -> TF true edges (a -> b true, b also a regulator of that
truth, b -> a not true) of Specific, Non-Specific and Lofgof, the accuracy of p_ab > p_ba with a 95% Wilson
interval, beside three fixed cues (the regulator has the higher mean, variance or detection rate). Nothing is
chosen on the left-out cell type.

Usage: python -m benchmarks.transfer [--recipes cnnc-pairs cnnc-pairs-no-images] [--no-baselines]
Writes benchmarks/results/transfer.json and docs/_generated/transfer.md.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import time
from pathlib import Path

import numpy as np
import pandas as pd

import cnnc
from cnnc.metrics import summarize
from cnnc.models import ContextStatistics

from ._beeline import CELLS, baseline_tables, candidates, correlation_scores, dense, load_cell, table_lookup
from ._common import GENERATED, RESULTS, header_line, run_header, versus

DIRECTION_TRUTHS = ("Specific", "Non-Specific", "Lofgof")
#: A trivial prior that reads no pair at all: ChIP-seq truths list more targets among well-detected genes
TRIVIAL = "target's detection rate (trivial prior)"
MODELS = RESULTS / "cache" / "models"


def wilson(k: int, n: int, z: float = 1.96) -> tuple[float, float]:
    """95% Wilson score interval of a proportion k / n."""
    if n == 0:
        return (np.nan, np.nan)
    p = k / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * np.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return (float(centre - half), float(centre + half))


def train_recipe(recipe: str, cells: list[str], data: dict, seed: int = 0):
    """Train (or reuse from the cache, same recipe, data and seed: training is deterministic) a recipe."""
    adatas = [data[c][0] for c in cells]
    truths = [data[c][1] for c in cells]
    blob = json.dumps([recipe, cnnc.tl.recipes()[recipe].to_dict(), seed, cells, cnnc.__version__], default=str)
    frames = b"".join(pd.util.hash_pandas_object(t).to_numpy().tobytes() for tr in truths for t in tr.values())
    path = MODELS / f"{recipe}-{'+'.join(cells)}-{hashlib.sha256(blob.encode() + frames).hexdigest()[:12]}.safetensors"
    if path.is_file():
        return cnnc.models.load_file(path), json.loads(path.with_suffix(".json").read_text())["seconds"]
    t0 = time.perf_counter()
    model = cnnc.tl.train(adatas, truths, recipe=recipe, folds=0, seed=seed, use_raw=False)
    seconds = time.perf_counter() - t0
    path.parent.mkdir(parents=True, exist_ok=True)
    model.save(path)
    path.with_suffix(".json").write_text(json.dumps({"seconds": seconds}))
    return model, seconds


def one_way_edges(truth: pd.DataFrame, names: pd.Index) -> tuple[np.ndarray, np.ndarray]:
    """Positions of the truth's one-way regulator -> regulator edges (a -> b true, b -> a not, both regulators)."""
    regs = set(truth["regulator"])
    edges = set(zip(truth["regulator"], truth["target"], strict=True))
    keep = [(r, t) for r, t in edges if t in regs and (t, r) not in edges and r != t]
    a = names.get_indexer([r for r, _ in keep])
    b = names.get_indexer([t for _, t in keep])
    ok = (a >= 0) & (b >= 0)
    return a[ok], b[ok]


def direction_rows(left_out, truths, names, x, directed: dict) -> list[dict]:
    """Direction accuracy of each model and of three fixed marginal cues on one-way TF -> TF edges."""
    rows = []
    cues = {
        "regulator has the higher mean": x.mean(axis=0),
        "regulator has the higher variance": x.var(axis=0),
        "regulator has the higher detection rate": (x > 0).mean(axis=0),
    }
    for net in DIRECTION_TRUTHS:
        if net not in truths:
            continue
        a, b = one_way_edges(truths[net], names)
        if not len(a):
            continue
        methods = {label: fn(a, b) for label, fn in directed.items()}
        methods.update({label: v[a] - v[b] for label, v in cues.items()})
        for label, diff in methods.items():
            k = int((diff > 0).sum())
            lo, hi = wilson(k, len(a))
            rows.append(
                {"left_out": left_out, "network": net, "method": label, "n": int(len(a)), "correct": k,
                 "ties": int((diff == 0).sum()), "accuracy": k / len(a), "ci_low": lo, "ci_high": hi}
            )  # fmt: skip
    return rows


def previous_rows(path: Path | None, methods=("GRNBoost2", "regdiffusion")) -> list[dict]:
    """Baseline rows of an earlier run of this benchmark (same pairs, same seeds), labelled as such."""
    if path is None or not path.is_file():
        return []
    rows = json.loads(path.read_text())["rows"]
    return [{**r, "method": f"{r['method']} (earlier run)"} for r in rows if r["method"] in methods]


EARLIER_BASELINES = RESULTS / "transfer_baselines_earlier.json"


def run(recipes: list[str], baselines: bool, tag: str = "", cells=CELLS, previous: Path | None = None) -> dict:
    data = {cell: load_cell(cell, lofgof=True) for cell in CELLS}
    results = {"rows": [], "direction": [], "seconds": {}, "choices": {}}
    results["run"] = run_header(trained=f"recipes {', '.join(recipes)}, on the two cell types not left out")
    for left_out in cells:
        adata, truths = data[left_out]
        names = pd.Index(adata.var_names)
        x = dense(adata)
        base_truths = {n: t for n, t in truths.items() if n != "Lofgof"}
        regs_all = sorted(set().union(*(set(t["regulator"]) for t in base_truths.values())) & set(names))
        # Lofgof pairs: only regulators every method scores (the baselines' cache holds the other truths' regulators)
        scored_truths = {n: (t[t["regulator"].isin(regs_all)] if n == "Lofgof" else t) for n, t in truths.items()}
        pairs = {net: candidates(adata, t) for net, t in scored_truths.items()}
        scores: dict[str, dict[str, np.ndarray]] = {net: {} for net in pairs}
        corr = correlation_scores(adata)
        formula = ContextStatistics.from_matrix(x)
        detection = (x > 0).mean(axis=0)
        for net, (a, b, _) in pairs.items():
            for label, m in corr.items():
                scores[net][label] = m[a, b]
            scores[net][TRIVIAL] = detection[b]
            scores[net]["context formula (former default)"] = formula.features(a, b, ("z_context",))[:, 0]
        if baselines:
            for label, table in baseline_tables(adata, regs_all).items():
                results["seconds"][f"{label} {left_out}"] = float(table.attrs.get("seconds", np.nan))
                for net, (a, b, _) in pairs.items():
                    scores[net][label] = table_lookup(table, names, a, b)
        directed = {}
        for recipe in recipes:
            train_cells = [c for c in CELLS if c != left_out]
            model, t_train = train_recipe(recipe, train_cells, data)
            results["choices"][f"{recipe} without {left_out}"] = {
                "features": model.spec.features[:1],
                "deep_scale": model.deep_scale,
                "edge_score": model.spec.edge_score,
                "validation": model.spec.training.get("validation"),
            }
            scored = adata.copy()
            t0 = time.perf_counter()
            cnnc.tl.predict_interactions(scored, model=model, tfs=regs_all, layer="X", key_added="transfer")
            t_pred = time.perf_counter() - t0
            edges = scored.uns["transfer"]["edges"]
            results["seconds"][f"{recipe} {left_out}"] = {"train": t_train, "predict": t_pred, "pairs": len(edges)}
            p_ab = edges.assign(score=edges["p_ab"])
            p_ba = edges.assign(score=edges["p_ba"])
            directed[recipe] = lambda a, b, p_ab=p_ab, p_ba=p_ba, names=names: (
                table_lookup(p_ab, names, a, b) - table_lookup(p_ba, names, a, b)
            )
            for net, (a, b, _) in pairs.items():
                scores[net][recipe] = table_lookup(edges, names, a, b)
            if recipe == recipes[0]:  # the default's prior alone: one more pass over the data, for one recipe only
                prior = ContextStatistics.from_matrix(x, features=model.spec.features[:1])
                for net, (a, b, _) in pairs.items():
                    scores[net]["context prior alone (chosen)"] = prior.features(a, b, model.spec.features[:1])[:, 0]
            print(f"{recipe} without {left_out}: train {t_train:.0f} s, predict {t_pred:.1f} s", flush=True)
        for net, (_, _, y) in pairs.items():
            for method, s in scores[net].items():
                results["rows"].append({"left_out": left_out, "network": net, "method": method, **summarize(y, s)})
        if not any(m in scores[next(iter(pairs))] for m in ("GRNBoost2", "regdiffusion")):
            results["rows"] += [r for r in previous_rows(previous) if r["left_out"] == left_out]
        results["direction"] += direction_rows(left_out, truths, names, x, directed)
        _write(results, recipes, tag)
    return results


def _write(results: dict, recipes: list[str], tag: str = "") -> None:
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / f"transfer{tag}.json").write_text(json.dumps(results, indent=1, default=float))
    df = pd.DataFrame(results["rows"])
    if df.empty:
        return
    default = recipes[0]
    cell = df.apply(lambda r: f"{r['auprc_ratio']:.2f} / {r['epr']:.2f} / {r['auroc']:.3f}", axis=1)
    table = df.assign(value=cell).pivot_table(
        index=["left_out", "network"], columns="method", values="value", aggfunc="first"
    )
    fixed = (
        "context prior alone (chosen)",
        "context formula (former default)",
        "|Pearson|",
        "|Spearman|",
        "GRNBoost2",
        "regdiffusion",
        "GRNBoost2 (earlier run)",
        "regdiffusion (earlier run)",
        TRIVIAL,
    )
    order = [m for m in (*recipes, *fixed) if m in table.columns]
    lines = [
        *([header_line(results["run"]), ""] if "run" in results else []),
        "Leave-one-cell-type-out (BEELINE TFs+500): each cell is **AUPRC ratio / EPR / AUROC** on every regulator × gene",
        "pair of the left-out cell type (random: 1 / 1 / 0.5). cnnc models never saw the left-out cell type or its labels;",
        "every choice (context prior, image weight, edge score) was made by validation between the two training cell",
        "types, each ground truth weighed equally. Lofgof (mESC only) is scored on the regulators every method scores.",
        "",
        "| left out | ground truth | " + " | ".join(m.replace("|", "\\|") for m in order) + " |",
        "|---|---|" + "---|" * len(order),
    ]
    for (cell_type, net), row in table.iterrows():
        lines.append(
            f"| {cell_type} | {net} | "
            + " | ".join(str(row[m]) if isinstance(row[m], str) else "–" for m in order)
            + " |"
        )
    piv = df.pivot_table(index=["left_out", "network"], columns="method", values="auprc_ratio")
    if default in piv:
        lines.append("")
        others = [m for m in (*recipes[1:], *fixed) if m in piv]
        for base in others:
            wins, sets, gm = versus(piv, default, base)
            lines.append(f"- {default} vs {base}: higher AUPRC ratio on {wins}/{sets} sets, geometric mean ×{gm:.2f}")
        rivals = [m for m in fixed if m in piv and m not in ("context prior alone (chosen)", TRIVIAL)]
        for group in (rivals, [*rivals, TRIVIAL] if TRIVIAL in piv else []):
            if not group:
                continue
            wins = int((piv[default] > piv[group].max(axis=1)).sum())
            lines.append(
                f"- {default} above the best of {', '.join(group)} on {wins}/{len(piv)} sets "
                "(a missing baseline value does not count)"
            )
    direction = pd.DataFrame(results["direction"])
    if not direction.empty:
        lines += [
            "",
            "Direction on one-way TF -> TF true edges of the left-out cell type: accuracy of p_ab > p_ba (ties count as",
            "wrong) with its 95% Wilson interval and the number of edges; beside three fixed cues.",
            "",
            "| left out | ground truth | n | " + " | ".join(direction["method"].unique()) + " |",
            "|---|---|---|" + "---|" * direction["method"].nunique(),
        ]
        for (cell_type, net), grp in direction.groupby(["left_out", "network"], sort=False):
            vals = {
                r["method"]: f"{r['accuracy']:.2f} [{r['ci_low']:.2f}, {r['ci_high']:.2f}]" for _, r in grp.iterrows()
            }
            lines.append(
                f"| {cell_type} | {net} | {int(grp['n'].iloc[0])} | "
                + " | ".join(vals.get(m, "–") for m in direction["method"].unique())
                + " |"
            )
        macro = direction.groupby("method")["accuracy"].mean()
        lines.append("")
        lines.append("Macro-averaged over cases: " + ", ".join(f"{m} {v:.3f}" for m, v in macro.items()))
    if not tag:  # partial runs (--tag) print their table; the docs show the combined one
        GENERATED.mkdir(parents=True, exist_ok=True)
        (GENERATED / "transfer.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


def combine(tags: list[str], recipes: list[str], previous: Path | None) -> dict:
    """Merge partial runs (``--tag``) into transfer.json/.md; the earlier baselines fill in where none ran."""
    results = {"rows": [], "direction": [], "seconds": {}, "choices": {}}
    seen = set()
    for tag in tags:
        part = json.loads((RESULTS / f"transfer{tag}.json").read_text())
        for row in part["rows"]:
            key = (row["left_out"], row["network"], row["method"])
            if key not in seen:
                seen.add(key)
                results["rows"].append(row)
        results["direction"] += [d for d in part["direction"] if d["method"] in recipes or tag == tags[0]]
        results["seconds"].update(part["seconds"])
        results["choices"].update(part["choices"])
        results.setdefault("run", part.get("run"))
    methods = {r["method"] for r in results["rows"]}
    if not methods & {"GRNBoost2", "regdiffusion"}:
        results["rows"] += previous_rows(previous)
        if previous is not None and previous.is_file():
            earlier = json.loads(previous.read_text())
            results["seconds"].update({f"{k} (earlier run)": v for k, v in earlier.get("seconds", {}).items()})
    _write(results, recipes)
    return results


if __name__ == "__main__":
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--recipes", nargs="*", default=["cnnc-pairs", "cnnc-pairs-no-images"])
    p.add_argument("--no-baselines", action="store_true")
    p.add_argument("--tag", default="", help="suffix of the output files (partial runs)")
    p.add_argument("--cells", nargs="*", default=list(CELLS), help="left-out cell types (default: all)")
    p.add_argument(
        "--previous",
        type=Path,
        default=None,
        help="an earlier transfer.json whose GRNBoost2/regdiffusion rows stand in where the baselines are not run",
    )
    p.add_argument("--combine", nargs="*", help="merge these partial runs' tags into transfer.json instead of running")
    args = p.parse_args()
    if args.combine:
        combine(args.combine, args.recipes, args.previous)
    else:
        run(args.recipes, not args.no_baselines, args.tag, args.cells, args.previous)
