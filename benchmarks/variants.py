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
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
        model.save(path)
    return model
