"""Train ``cnnc-causal`` on synthetic cause -> effect pairs only (cnnc.datasets.causal_pairs), as RCC/NCC did.

The recipe (generators and their mix, sample sizes 100-10,000, the two-channel "rank+standard" pair images, the
network, the fit) is ``cnnc._training._causal.CAUSAL_RECIPE``; this script calls the public
``cnnc.models.train_causal`` with it and writes the model file (safetensors + JSON spec), saving the best epoch so
far as it goes. The evaluation on Sachs and the Tübingen pairs is ``python -m benchmarks.causal``.

    python -m benchmarks.train_causal [--out PATH] [--set KEY=JSON ...]

``--set n_pairs=2000 --set epochs=2`` changes settings of the recipe (a candidate; the card lists it).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import scanpy as sc
import torch

import cnnc

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "benchmarks" / "results" / "cnnc-causal-candidate.safetensors"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, default=OUT)
    parser.add_argument("--set", action="append", default=[], metavar="KEY=JSON")
    args = parser.parse_args(argv)
    changes = {k: json.loads(v) for k, v in (item.split("=", 1) for item in args.set)}
    torch.set_num_threads(1)
    sc.settings.verbosity = 3

    def save(model):
        path = model.save(args.out)
        print(f"saved {path} sha256 {model.sha256}", flush=True)

    model = cnnc.models.train_causal(on_best=save, **changes)
    save(model)
    print(json.dumps(model.spec.metrics, indent=1))


if __name__ == "__main__":
    main()
