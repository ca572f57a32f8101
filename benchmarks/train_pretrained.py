"""Train the models shipped inside the package, on every BEELINE cell type with expression in ../shared/data.

Deterministic given its seed. Writes src/cnnc/models/weights/<name>.safetensors and updates
src/cnnc/models/weights/registry.json (sha256, training data, held-out metrics from
benchmarks/results/transfer.json when that file exists: run benchmarks/transfer.py first).

Usage: python benchmarks/train_pretrained.py [--seed 0] [--variants cnnc-context cnnc-original]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from benchmarks._beeline import CELLS, RESULTS, load_cell
from benchmarks.variants import VARIANTS, train_variant

WEIGHTS = Path(__file__).resolve().parents[1] / "src" / "cnnc" / "models" / "weights"
DEFAULT = "cnnc-context"
DESCRIPTIONS = {
    "cnnc-context": "Default. CNNC network with context features (|Pearson| z-scored within each gene's correlations to "
    "all genes) on a fixed linear path; its 16-bin pair-image branch is weighted by deep_scale, chosen by validation "
    "across training cell types (0 when the images did not help: then scores follow the context prior and carry no "
    "direction). Trained on STRING + Non-Specific edges of BEELINE mDC, mESC, mHSC-L.",
    "cnnc-original": "The original CNNC network and image recipe (32×32 pair images, 48 MFLOP per pair), trained on "
    "ChIP-seq (Specific) edges of BEELINE mDC, mESC, mHSC-L. Kept for reproduction; near chance on unseen cell types.",
}
LIMITS = (
    "Scores rank pairs within one data set; they are not calibrated probabilities across data sets. Trained on mouse "
    "BEELINE data (hundreds of cells, TFs + 500 most variable genes); pair images ignore every other gene except "
    "through the context features. ChIP-seq-like (Specific) ground truths are near chance for every method measured."
)


def heldout_metrics(name: str) -> dict:
    """Mean leave-one-cell-type-out metrics of this variant per ground truth (from transfer.json)."""
    path = RESULTS / "transfer.json"
    if not path.is_file():
        return {}
    rows = pd.DataFrame(json.loads(path.read_text())["rows"])
    rows = rows[rows["method"] == name]
    out = {}
    for (cell, net), r in rows.set_index(["left_out", "network"]).iterrows():
        out[f"loco {cell} {net}"] = {k: round(float(r[k]), 4) for k in ("auroc", "auprc_ratio", "epr")}
    return out


def main(variants: list[str], seed: int) -> None:
    data = [load_cell(c) for c in CELLS]
    registry = json.loads((WEIGHTS / "registry.json").read_text())
    for name in variants:
        model = train_variant(name, [d[0] for d in data], [d[1] for d in data], seed=seed, model_name=name)
        model.spec.training["datasets"] = [
            f"BEELINE {c} TFs+500 ({', '.join(VARIANTS[name]['labels'])})" for c in CELLS
        ]
        model.spec.metrics.update(heldout_metrics(name))
        # float16 halves the file; keep it only if predictions move less than 1e-3
        path = WEIGHTS / f"{name}.safetensors"
        model.save(path, dtype="float16")
        import cnnc

        half = cnnc.models.load_file(path)
        probe = np.random.default_rng(0).random((64, *[model.spec.architecture["image_size"]] * 2)).astype("float32")
        n_features = len(model.spec.features)
        extra = np.random.default_rng(1).normal(size=(64, n_features)).astype("float32") if n_features else None
        diff = np.abs(half.predict_proba(probe, extra) - model.predict_proba(probe, extra)).max()
        if diff > 1e-3:
            model.save(path)
        digest = hashlib.sha256(path.read_bytes()).hexdigest()
        registry["models"][name] = {
            "file": path.name,
            "sha256": digest,
            "url": None,
            "bundled": True,
            "description": DESCRIPTIONS[name],
            "training": {
                k: v
                for k, v in model.spec.training.items()
                if k in ("datasets", "n_labelled_pairs", "seed", "epochs", "best_epoch")
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
    p.add_argument("--variants", nargs="*", default=list(VARIANTS))
    args = p.parse_args()
    main(args.variants, args.seed)
