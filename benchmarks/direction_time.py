"""Direction from time (``predict_interactions(..., time_key=...)``): where does a trajectory carry causal order?

The lead of a over b (``cnnc._time``: trajectories in 20 windows along time, ``|corr(a_t, b_t+1)| -
|corr(b_t, a_t+1)|``) calls a -> b where it is at least a margin, b -> a where it is at most minus the margin. The
margin is chosen with the rule of ``benchmarks/direction.py`` on the *training* data only: BoolODE simulations of
BEELINE's six synthetic networks (``../shared/bench-data/boolode/Synthetic``; one-way true edges pooled): a margin
qualifies when its calls are right >= 0.65 of the time with a 95% Wilson lower bound above 0.5 and >= 20 calls;
the qualifying margin that calls the most is chosen. It is then measured, unchanged, on

- the three curated BoolODE networks (mCAD, VSC, HSC: held out), time = the simulation's pseudotime;
- BEELINE's real data (TFs+500; one-way TF -> TF true edges of Specific, Non-Specific and Lofgof pooled): mDC and
  mESC by collection time and by diffusion pseudotime, mHSC-L by diffusion pseudotime (clocks as in
  ``benchmarks/time_lag.py``),

end to end through ``cnnc.tl.predict_interactions(adata, tfs=..., time_key="time")``: accuracy of the calls whose
``direction_evidence`` is "time" (95% Wilson interval) and the fraction of edges called.

Usage: python -m benchmarks.direction_time
Writes benchmarks/results/direction_time.json and docs/_generated/direction_time.md.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
from anndata import AnnData

import cnnc
from benchmarks._beeline import CELLS, GENERATED, RESULTS, ROOT, load_cell
from benchmarks.direction import MIN_CALLS, TARGET, pooled_one_way
from benchmarks.time_lag import times
from benchmarks.transfer import wilson
from cnnc._time import TIME_MARGIN, time_lead, trajectories

BOOLODE = ROOT.parent / "shared" / "bench-data" / "boolode"
MARGINS = (0.0, 0.05, 0.1, 0.15, 0.2, 0.3, 0.4)


def boolode(path: Path) -> tuple[AnnData, pd.DataFrame]:
    """A BoolODE simulation as log1p expression with ``obs["time"]`` (a cell's pseudotime on its branch)."""
    sim = next(path.glob("*-2000-1"))
    x = pd.read_csv(sim / "ExpressionData.csv", index_col=0).T
    pseudotime = pd.read_csv(sim / "PseudoTime.csv", index_col=0).reindex(x.index)
    adata = AnnData(np.log1p(x.to_numpy(dtype=np.float32)), obs=pd.DataFrame(index=x.index.astype(str)))
    adata.var_names = x.columns.astype(str)
    adata.obs["time"] = pseudotime.mean(axis=1).to_numpy()
    net = pd.read_csv(path / "refNetwork.csv").rename(columns={"Gene1": "regulator", "Gene2": "target"})
    return adata, net[["regulator", "target"]]


def one_way(truth: pd.DataFrame, names: pd.Index) -> tuple[np.ndarray, np.ndarray]:
    """Every one-way true edge (a -> b true, b -> a not, a != b), positions in ``names``."""
    edges = set(zip(truth["regulator"], truth["target"], strict=True))
    keep = sorted((r, t) for r, t in edges if r != t and (t, r) not in edges)
    return names.get_indexer([r for r, _ in keep]), names.get_indexer([t for _, t in keep])


def calls(lead: np.ndarray, margin: float) -> dict:
    called = (np.abs(lead) >= margin) & (lead != 0)
    n, k = int(called.sum()), int((lead[called] > 0).sum())
    lo, hi = wilson(k, n)
    return {"margin": margin, "edges": int(len(lead)), "called": n, "correct": k,
            "fraction_called": n / max(len(lead), 1), "accuracy": k / n if n else np.nan, "ci_low": lo, "ci_high": hi}  # fmt: skip


def choose_margin(train: dict[str, tuple]) -> tuple[float | None, list[dict]]:
    """The margin chosen on the training simulations (pooled), and every margin's pooled result there."""
    leads = []
    for adata, truth in train.values():
        a, b = one_way(truth, pd.Index(adata.var_names))
        traj = trajectories(adata.X, adata.obs["time"].to_numpy(), np.arange(adata.n_vars))
        leads.append(time_lead(traj, a, b))
    pooled = np.concatenate(leads)
    rows = [calls(pooled, m) for m in MARGINS]
    ok = [r for r in rows if r["called"] >= MIN_CALLS and r["accuracy"] >= TARGET and r["ci_low"] > 0.5]
    return (max(ok, key=lambda r: r["called"])["margin"] if ok else None), rows


def end_to_end(adata: AnnData, a: np.ndarray, b: np.ndarray, regulators) -> dict:
    """Direction of the true one-way edges (a -> b) from ``predict_interactions(time_key="time")``."""
    scored = adata.copy()
    cnnc.tl.predict_interactions(
        scored, tfs=list(regulators), time_key="time", layer="X", settings=cnnc.tl.ScoringSettings(min_cells=0)
    )
    edges = scored.uns["cnnc"]["edges"].set_index(["regulator", "target"])
    names = pd.Index(adata.var_names)
    rows = edges.reindex(list(zip(names[a], names[b], strict=True)))
    by_time = (rows["direction_evidence"] == "time").to_numpy()
    n, k = int(by_time.sum()), int((rows["direction"].to_numpy()[by_time] == 1).sum())
    lo, hi = wilson(k, n)
    return {"edges": int(len(a)), "called": n, "correct": k, "fraction_called": n / max(len(a), 1),
            "accuracy": k / n if n else np.nan, "ci_low": lo, "ci_high": hi,
            "evidence": rows["direction_evidence"].astype(str).value_counts().to_dict()}  # fmt: skip


def run() -> dict:
    sets = {p.name: (p.parent.name, boolode(p)) for p in sorted(BOOLODE.glob("*/*")) if p.is_dir()}
    train = {k: v for k, (kind, v) in sets.items() if kind == "Synthetic"}
    margin, grid = choose_margin(train)
    out = {"chosen_margin": margin, "shipped_margin": TIME_MARGIN, "training_grid": grid, "rows": []}
    if margin != TIME_MARGIN:
        print(f"WARNING: the chosen margin {margin} differs from cnnc._time.TIME_MARGIN = {TIME_MARGIN}")
    for name, (kind, (adata, truth)) in sets.items():
        a, b = one_way(truth, pd.Index(adata.var_names))
        row = end_to_end(adata, a, b, truth["regulator"].unique())
        out["rows"].append({"data": f"BoolODE {kind}/{name}", "role": "training" if kind == "Synthetic" else "held out",
                            **row})  # fmt: skip
    for cell in CELLS:
        adata, truths = load_cell(cell, lofgof=True)
        names = pd.Index(adata.var_names)
        a, b = pooled_one_way(truths, names)
        regulators = sorted(set().union(*(set(t["regulator"]) for t in truths.values())) & set(names))
        for clock, t in times(adata, cell).items():
            if clock == "time points only":
                continue
            timed = adata.copy()
            timed.obs["time"] = t
            row = end_to_end(timed, a, b, regulators)
            out["rows"].append({"data": f"BEELINE {cell}, {clock}", "role": "held out (real)", **row})
        print(cell, "done", flush=True)
    _write(out)
    return out


def _write(out: dict) -> None:
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "direction_time.json").write_text(json.dumps(out, indent=1, default=float))
    chosen = "none qualifies" if out["chosen_margin"] is None else f"{out['chosen_margin']:g}"
    lines = [
        f"Direction from time (lead margin chosen on BoolODE synthetic networks: {chosen}; shipped "
        f"{out['shipped_margin']:g}), end to end through predict_interactions(time_key=...): accuracy of the calls "
        "on one-way true edges [95% Wilson interval], calls / edges.",
        "",
        "| data | role | accuracy of calls | called / edges |",
        "|---|---|---|---|",
    ]
    for r in out["rows"]:
        acc = "–" if not r["called"] else f"{r['accuracy']:.2f} [{r['ci_low']:.2f}, {r['ci_high']:.2f}]"
        lines.append(
            f"| {r['data']} | {r['role']} | {acc} | {r['called']} / {r['edges']} ({r['fraction_called']:.0%}) |"
        )
    lines += ["", "Training grid (BoolODE synthetic, pooled): " + ", ".join(
        f"m={g['margin']:g}: {g['accuracy']:.2f} of {g['called']}" for g in out["training_grid"])]  # fmt: skip
    GENERATED.mkdir(parents=True, exist_ok=True)
    (GENERATED / "direction_time.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    run()
