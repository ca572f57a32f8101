"""The model variants the accuracy benchmarks train, and how (shared by transfer.py and train_pretrained.py).

Every choice here was made before looking at any left-out cell type: the image size and the context
features follow benchmarks/study (chosen by validation between the training cell types only), the
labels follow the study's finding that STRING ∪ Non-Specific edges transfer and Specific ChIP-seq
edges (30-49 % positives) do not.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pandas as pd

FEATURES = ["abs_pearson", "z_regulator", "z_target", "z_context"]

VARIANTS = {
    # The default: a small CNN on 16-bin CNNC images, fused ("wide and deep") with the context features.
    "cnnc-context": {
        "labels": ("STRING", "Non-Specific"),
        "train": {
            "bins": 16,
            "features": FEATURES,
            "wide_prior": "z_context",
            "architecture": {"filters": [16, 32], "dense": 64, "wide": True},
            "max_pairs_per_dataset": 20_000,
            "epochs": 12,
            "patience": 3,
            "batch_size": 512,
            "weight_decay": 1e-4,
            "negative_ratio": 1.0,
        },
    },
    # The faithful CNNC: original image recipe and network, ChIP-seq (Specific) labels as in the paper.
    "cnnc-original": {
        "labels": ("Specific",),
        "train": {
            "bins": 32,
            "features": [],
            "architecture": {},
            "max_pairs_per_dataset": 8_000,
            "epochs": 6,
            "patience": 2,
            "batch_size": 256,
            "negative_ratio": 1.0,
        },
    },
}


def training_edges(truths: dict[str, pd.DataFrame], labels: tuple[str, ...]) -> pd.DataFrame:
    """Union of the chosen ground truths of one cell type."""
    return pd.concat([truths[n] for n in labels], ignore_index=True).drop_duplicates(ignore_index=True)


CACHE = Path(__file__).resolve().parent / "results" / "cache" / "models"


def train_variant(
    name: str,
    datasets: list,
    truths: list[dict],
    *,
    seed: int = 0,
    model_name: str | None = None,
    cache_key: str | None = None,
):
    """Train a variant on several cell types at once (no cross-validation: the test is another cell type).

    With ``cache_key``, a model trained with the same recipe, data and seed is reused from
    ``benchmarks/results/cache/models`` (training is deterministic for a seed, so this only saves time).
    """
    import cnnc

    spec = VARIANTS[name]
    edges = [training_edges(t, spec["labels"]) for t in truths]
    path = None
    if cache_key is not None:
        blob = json.dumps([spec, seed, [[*map(str, d.var_names[:5]), *d.shape] for d in datasets]], default=str)
        frames = b"".join(pd.util.hash_pandas_object(e).to_numpy().tobytes() for e in edges)
        digest = hashlib.sha256(blob.encode() + frames).hexdigest()[:16]
        path = CACHE / f"{cache_key}-{digest}.safetensors"
        if path.is_file():
            return cnnc.models.load_file(path)
    model = cnnc.tl.train(datasets, edges, folds=0, seed=seed, name=model_name or name, use_raw=False, **spec["train"])
    if spec["train"].get("wide_prior") and len(datasets) > 1:
        scale, table = choose_deep_scale(name, datasets, truths, seed=seed)
        model.module.config["deep_scale"] = scale
        model.spec.architecture["deep_scale"] = scale
        model.spec.training["deep_scale_validation"] = table
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
        model.save(path)
    return model


DEEP_SCALES = (0.0, 0.3, 1.0)


def choose_deep_scale(name: str, datasets: list, truths: list[dict], *, seed: int = 0) -> tuple[float, dict]:
    """How much the image branch may move the context prior, chosen by validation across the training cell types.

    For each ordered pair (A, B) of training data sets: train on A alone, score every regulator × gene pair of B
    for its label ground truths, and compute the mean log AUPRC ratio for each candidate scale. The scale with the
    best mean over all pairs wins. Only training cell types are used: the left-out cell type is never looked at.
    """
    import numpy as np
    from benchmarks._beeline import candidates, table_lookup

    import cnnc
    from cnnc._metrics import summarize

    spec = VARIANTS[name]
    results = {s: [] for s in DEEP_SCALES}
    for i, train_data in enumerate(datasets):
        edges = training_edges(truths[i], spec["labels"])
        model = cnnc.tl.train(train_data, edges, folds=0, seed=seed, name=f"{name}-val", use_raw=False, **spec["train"])
        for j, val_data in enumerate(datasets):
            if j == i:
                continue
            regs = sorted(
                set().union(*(set(truths[j][n]["regulator"]) for n in spec["labels"])) & set(val_data.var_names)
            )
            for scale in DEEP_SCALES:
                model.module.config["deep_scale"] = scale
                scored = val_data.copy()
                cnnc.tl.predict_interactions(scored, model=model, tfs=regs, use_raw=False, key_added="val")
                edges_val = scored.uns["val"]["edges"]
                for net in spec["labels"]:
                    a, b, y = candidates(val_data, truths[j][net])
                    s = table_lookup(edges_val, pd.Index(val_data.var_names), a, b)
                    results[scale].append(np.log(summarize(y, s)["auprc_ratio"]))
    table = {str(k): float(np.mean(v)) for k, v in results.items()}
    best = max(DEEP_SCALES, key=lambda k: table[str(k)])
    print(f"{name}: validation mean log AUPRC ratio by deep_scale {table} -> {best}", flush=True)
    return float(best), table
