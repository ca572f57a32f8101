"""Train ``cnnc-causal`` on synthetic cause -> effect pairs only (cnnc.datasets.causal_pairs), as RCC/NCC did.

The pair images use the ``"rank"`` recipe (bins are quantiles of each variable), so the model reads any continuous
variable and its calls do not change under increasing transforms of a variable (raw or log intensities alike).
Training data: pairs from ``causal_pairs`` with several sample sizes; validation: pairs from other seeds. The
network sees every image with random reversals of either axis (label kept) and transposed (label swapped).

    python benchmarks/train_causal.py [--out PATH] [--epochs N] [--pairs N] [--seed N]
        [--p-interventions P] [--inhibition P] [--readout P]

(the generator's options: share of pairs pooled over perturbation regimes, of interventions that inhibit a cause's
activity, of pairs measured through the cytometer-like readout).

Writes the model file (safetensors + JSON spec) and prints its sha256 and the validation numbers; the Sachs
evaluation is benchmarks/causal.py.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np
import torch

import cnnc
from cnnc.models import CNNC, Model, ModelSpec

ROOT = Path(__file__).resolve().parents[1]
WEIGHTS = ROOT / "src" / "cnnc" / "models" / "weights"
CLASSES = ["none", "a->b", "b->a"]
LABEL = {c: i for i, c in enumerate(CLASSES)}
#: The image recipe (``cnnc.tl.pair_histograms``'s parameters; the others at their defaults).
IMAGE = {"bins": 16, "pseudocount": 0.01, "density_pseudocount": 0.0001, "transform": "cnnc", "scaling": "rank"}
ARCHITECTURE = {
    "image_size": 16,
    "filters": [32, 64],
    "dense": 128,
    "n_classes": 3,
    "conv_dropout": 0.1,
    "dense_dropout": 0.3,
    "batchnorm": True,
}
#: (samples per pair, share of the pairs): sizes from a small experiment to a flow-cytometry run
SIZES = ((300, 0.2), (1000, 0.35), (3000, 0.3), (7500, 0.15))


def images_of(adata) -> tuple[np.ndarray, np.ndarray]:
    """Pair images (rank recipe) and class labels of a ``causal_pairs`` AnnData."""
    pairs = adata.uns["pairs"]
    images = cnnc.tl.pair_histograms(adata, pairs[["gene_a", "gene_b"]], store_bins=False, copy=True, **IMAGE)
    return images.uns["cnnc"]["histograms"], pairs["label"].map(LABEL).to_numpy()


def make_set(
    n_pairs: int, seed: int, p_interventions: float, inhibition: float, readout: float = 0.0
) -> tuple[np.ndarray, np.ndarray]:
    xs, ys = [], []
    for k, (n_cells, share) in enumerate(SIZES):
        todo, part = max(1, int(n_pairs * share)), 0
        while todo > 0:  # at most 10^7 values per call, to keep memory small
            n = min(todo, max(1, 5_000_000 // n_cells))
            adata = cnnc.datasets.causal_pairs(
                n,
                n_cells=n_cells,
                seed=seed * 10_000 + k * 100 + part,
                p_interventions=p_interventions,
                inhibition=inhibition,
                readout=readout,
            )
            x, y = images_of(adata)
            xs.append(x)
            ys.append(y)
            todo, part = todo - n, part + 1
    return np.concatenate(xs), np.concatenate(ys)


def augment(x: torch.Tensor, y: torch.Tensor, gen: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
    """Reverse either variable's axis (direction kept) and transpose (a->b and b->a swap) at random."""
    n = len(x)
    flip_rows = torch.rand(n, generator=gen) < 0.5
    flip_cols = torch.rand(n, generator=gen) < 0.5
    swap = torch.rand(n, generator=gen) < 0.5
    x = torch.where(flip_rows[:, None, None, None], x.flip(2), x)
    x = torch.where(flip_cols[:, None, None, None], x.flip(3), x)
    x = torch.where(swap[:, None, None, None], x.transpose(2, 3), x)
    swapped = torch.tensor([0, 2, 1])[y]
    return x, torch.where(swap, swapped, y)


def evaluate(net: CNNC, x: np.ndarray, y: np.ndarray) -> dict:
    net.eval()
    with torch.no_grad():
        xt = torch.from_numpy(x)[:, None]
        p = (torch.softmax(net(xt), 1) + torch.softmax(net(xt.transpose(2, 3)), 1)[:, [0, 2, 1]]) / 2
    p = p.numpy()
    causal = y > 0
    direction = np.mean((p[causal, 1] > p[causal, 2]) == (y[causal] == 1))
    from sklearn.metrics import roc_auc_score

    return {
        "accuracy": float(np.mean(p.argmax(1) == y)),
        "direction_accuracy": float(direction),
        "auroc_link": float(roc_auc_score(causal, 1 - p[:, 0])),
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, default=WEIGHTS / "cnnc-causal.safetensors")
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--pairs", type=int, default=60_000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--p-interventions", type=float, default=0.5)
    parser.add_argument("--inhibition", type=float, default=0.0)
    parser.add_argument("--readout", type=float, default=0.0)
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    torch.manual_seed(args.seed)
    t0 = time.time()
    x_train, y_train = make_set(
        args.pairs,
        seed=args.seed + 1,
        p_interventions=args.p_interventions,
        inhibition=args.inhibition,
        readout=args.readout,
    )
    x_val, y_val = make_set(
        max(2000, args.pairs // 10),
        seed=args.seed + 1000,
        p_interventions=args.p_interventions,
        inhibition=args.inhibition,
        readout=args.readout,
    )
    print(f"images: {len(x_train)} training, {len(x_val)} validation pairs in {time.time() - t0:.0f} s", flush=True)

    net = CNNC(**ARCHITECTURE)
    opt = torch.optim.Adam(net.parameters(), lr=1e-3, weight_decay=1e-5)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=args.epochs)
    gen = torch.Generator().manual_seed(args.seed)
    xt, yt = torch.from_numpy(x_train)[:, None], torch.from_numpy(y_train).long()
    best, best_state, history = -1.0, None, []
    for epoch in range(args.epochs):
        net.train()
        order = torch.randperm(len(xt), generator=gen)
        total = 0.0
        for start in range(0, len(order), 256):
            idx = order[start : start + 256]
            xb, yb = augment(xt[idx], yt[idx], gen)
            loss = torch.nn.functional.cross_entropy(net(xb), yb)
            opt.zero_grad()
            loss.backward()
            opt.step()
            total += loss.item() * len(idx)
        sched.step()
        metrics = evaluate(net, x_val, y_val)
        history.append({"epoch": epoch, "loss": total / len(xt), **metrics})
        print(json.dumps(history[-1]), f"{time.time() - t0:.0f} s", flush=True)
        score = metrics["direction_accuracy"] + metrics["auroc_link"]
        if score > best:
            best, best_state = score, {k: v.clone() for k, v in net.state_dict().items()}
    net.load_state_dict(best_state)
    best_epoch = max(history, key=lambda h: h["direction_accuracy"] + h["auroc_link"])
    spec = ModelSpec(
        name="cnnc-causal",
        task="direction",
        classes=CLASSES,
        image=dict(IMAGE),
        architecture=net.config,
        gene_matching="exact",
        species=["any"],
        expects=(
            "any continuous or discrete variables (protein intensities, expression, z-scores; negative values "
            "allowed): the pair image bins the ranks of each variable"
        ),
        training={
            "generator": f"cnnc.datasets.causal_pairs (p_none=1/3, p_interventions={args.p_interventions}, "
            f"inhibition={args.inhibition}, readout={args.readout})",
            "n_pairs": len(x_train),
            "samples_per_pair": [s for s, _ in SIZES],
            "seed": args.seed,
            "epochs": args.epochs,
            "best_epoch": best_epoch["epoch"],
            "augmentation": "random reversal of either axis; transposition with the direction label swapped",
        },
        metrics={
            "training loss": round(best_epoch["loss"], 4),
            **{f"synthetic validation {k}": round(v, 4) for k, v in best_epoch.items() if k not in ("epoch", "loss")},
        },
    )
    model = Model(net.eval(), spec)
    path = model.save(args.out)
    print(f"saved {path} ({path.stat().st_size} bytes) sha256 {model.sha256} in {time.time() - t0:.0f} s")


if __name__ == "__main__":
    sys.exit(main())
