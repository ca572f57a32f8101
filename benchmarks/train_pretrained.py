"""Train the models shipped inside the package, by their named recipes, with the public API only.

Each model is ``cnnc.tl.train([mDC, mESC, mHSC-L], [their ground truths], recipe=name, folds=0, seed=seed)``
on BEELINE TFs+500 from ../shared/data (ground truths per recipe below). Deterministic given its seed. Writes
src/cnnc/models/weights/<name>.safetensors and its entry in src/cnnc/models/weights/registry.json (sha256, training
data, the choices made by validation, and the leave-one-cell-type-out numbers of the same recipe from
benchmarks/results/transfer.json: run ``python -m benchmarks.transfer`` first; for cnnc-original also the
regulator-disjoint cross-validation of ``python -m benchmarks.original_cv``).

Usage: python -m benchmarks.train_pretrained [--seed 0] [--recipes cnnc-pairs]
"""

from __future__ import annotations

import argparse
import json

import numpy as np
import pandas as pd

import cnnc

from ._beeline import CELLS, load_cell
from ._common import RESULTS, ROOT

WEIGHTS = ROOT / "src" / "cnnc" / "models" / "weights"
DEFAULT = "cnnc-pairs"
#: Ground truths each recipe trains on (the faithful CNNC: ChIP-seq only, as in the paper).
TRUTHS = {
    "cnnc-pairs": ("Specific", "STRING", "Non-Specific", "Lofgof"),
    "cnnc-pairs-no-images": ("Specific", "STRING", "Non-Specific", "Lofgof"),
    "cnnc-context": ("STRING", "Non-Specific"),
    "cnnc-original": ("Specific",),
}
LIMITS = (
    "Scores rank pairs within one data set; they are not calibrated probabilities across data sets. Trained on mouse "
    "BEELINE data (hundreds of cells, TFs + 500 most variable genes). Cell-type-specific ChIP-seq truths stay near "
    "chance for every method measured; direction calls on unseen cell types are weak (see the card's direction "
    "numbers)."
)


def loco_metrics(name: str) -> dict:
    """This recipe's leave-one-cell-type-out metrics per left-out cell type and truth, and its direction accuracy."""
    path = RESULTS / "transfer.json"
    if not path.is_file():
        return {}
    results = json.loads(path.read_text())
    rows = pd.DataFrame(results["rows"])
    out = {}
    for _, r in rows[rows["method"] == name].iterrows():
        out[f"loco {r['left_out']} {r['network']}"] = {
            k: round(float(r[k]), 4) for k in ("auroc", "auprc_ratio", "epr")
        }
    direction = pd.DataFrame(results.get("direction", []))
    if not direction.empty and name in set(direction["method"]):
        mine = direction[direction["method"] == name]
        for _, r in mine.iterrows():
            out[f"direction {r['left_out']} {r['network']}"] = {
                "accuracy": round(float(r["accuracy"]), 4),
                "n": int(r["n"]),
                "ci95": [round(float(r["ci_low"]), 4), round(float(r["ci_high"]), 4)],
            }
        out["direction macro accuracy"] = round(float(mine["accuracy"].mean()), 4)
    return out


def cv_metrics(name: str) -> dict:
    """Regulator-disjoint cross-validation within one cell type and truth (benchmarks/original_cv.py), if run."""
    path = RESULTS / "original_cv.json"
    if name != "cnnc-original" or not path.is_file():
        return {}
    out = {}
    for part in json.loads(path.read_text())["sets"]:
        m, d = part["metrics"], part["direction"]
        out[f"cv {part['cell']} {part['network']}"] = {
            "auroc": round(m["cv_auroc_mean"], 4),
            "auprc_ratio": round(m["cv_auprc_ratio_mean"], 4),
            "epr": round(m["cv_epr_mean"], 4),
            "folds": m["cv_folds"],
            "direction": {"accuracy": round(d["accuracy"], 4), "n": d["n"], "ci95": [round(v, 4) for v in d["ci95"]]}
            if d["n"]
            else None,
        }
    return out


def main(recipes: list[str], seed: int, cards_only: bool = False) -> None:
    data = [load_cell(c, lofgof=True) for c in CELLS]
    registry = json.loads((WEIGHTS / "registry.json").read_text())
    for name in recipes:
        truths = [{n: t for n, t in tr.items() if n in TRUTHS[name]} for _, tr in data]
        if cards_only:  # the trained weights stay; only the card's held-out numbers are refreshed
            model = cnnc.models.load_file(WEIGHTS / f"{name}.safetensors")
        else:
            model = cnnc.tl.train(
                [d for d, _ in data], truths, recipe=name, folds=0, seed=seed, use_raw=False, name=name
            )
        model.spec.training["datasets"] = [
            f"BEELINE {c} TFs+500 ({', '.join(sorted(t))})" for c, t in zip(CELLS, truths, strict=True)
        ]
        model.spec.metrics.update(loco_metrics(name))
        model.spec.metrics.update(cv_metrics(name))
        path = WEIGHTS / f"{name}.safetensors"
        # float16 halves the file; keep it only if predictions move less than 1e-3
        model.save(path, dtype="float16")
        half = cnnc.models.load_file(path)
        side = model.image_size
        probe = np.random.default_rng(0).random((64, side, side)).astype("float32")
        n_features = len(model.spec.features)
        extra = np.random.default_rng(1).normal(size=(64, n_features)).astype("float32") if n_features else None
        diff = np.abs(half.predict_proba(probe, extra) - model.predict_proba(probe, extra)).max()
        if diff > 1e-3:
            model.save(path)
        digest = model.sha256  # of the file just written, float16 or float32
        registry["models"][name] = {
            "file": path.name,
            "sha256": digest,
            "url": None,
            "bundled": True,
            "description": cnnc.tl.recipes()[name].description,
            "recipe": name,
            "training": {
                k: v
                for k, v in model.spec.training.items()
                if k in ("datasets", "n_labelled_pairs", "seed", "epochs", "best_epoch", "validation")
            },
            "choices": {
                "context prior": model.spec.features[0] if model.spec.features else None,
                "deep_scale": model.deep_scale,
                "edge_score": model.spec.edge_score,
            },
            "metrics": model.spec.metrics,
            "task": model.spec.task,
            "species": ["mouse", "human"],
            "limits": LIMITS,
        }
        print(f"{name}: {path} ({path.stat().st_size / 1e3:.0f} kB, float16 max diff {diff:.2e}), sha256 {digest}")
    registry["default"] = DEFAULT if DEFAULT in registry["models"] else registry.get("default")
    (WEIGHTS / "registry.json").write_text(json.dumps(registry, indent=2) + "\n")


if __name__ == "__main__":
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--recipes", nargs="*", default=[DEFAULT])
    p.add_argument("--cards-only", action="store_true", help="keep the weights, refresh the cards from transfer.json")
    args = p.parse_args()
    main(args.recipes, args.seed, args.cards_only)
