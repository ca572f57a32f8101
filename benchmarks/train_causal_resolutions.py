"""Train an ensemble of cnnc-causal models over image resolutions (8, 16 and 32 bins), on synthetic pairs only.

The pairs (``cnnc._training._causal.CAUSAL_RECIPE`` with the changes given) are drawn once and imaged at each
resolution; one network per resolution is fitted (``cnnc.models.train_causal_resolutions``) and written
as ``OUT/NAME.safetensors`` (safetensors + JSON spec), the best epoch so far as it goes. The members are read
together by ``python -m benchmarks.causal_select OUT/r16.safetensors+OUT/r32.safetensors+OUT/r8.safetensors``
(each pair both ways, direction scores averaged).

    python -m benchmarks.train_causal_resolutions OUT [--set KEY=JSON ...]
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import scanpy as sc
import torch

from cnnc.models import train_causal_resolutions

_COMMON = {"n_classes": 3, "conv_dropout": 0.1, "dense_dropout": 0.3, "batchnorm": True, "dense": 128}
#: Each member: two-channel (ranks and z-scores) images of its resolution and a network with as many blocks as fit
VIEWS = {
    "r16": {
        "image": {"bins": 16, "scaling": "rank+standard"},
        "architecture": {"in_channels": 2, "image_size": 16, "filters": [32, 64], **_COMMON},
    },
    "r32": {
        "image": {"bins": 32, "scaling": "rank+standard"},
        "architecture": {"in_channels": 2, "image_size": 32, "filters": [16, 32, 64], **_COMMON},
    },
    "r8": {
        "image": {"bins": 8, "scaling": "rank+standard"},
        "architecture": {"in_channels": 2, "image_size": 8, "filters": [32], **_COMMON},
    },
}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("out", type=Path, help="folder of the members' model files")
    parser.add_argument("--set", action="append", default=[], metavar="KEY=JSON")
    args = parser.parse_args(argv)
    changes = {k: json.loads(v) for k, v in (item.split("=", 1) for item in args.set)}
    torch.set_num_threads(1)
    sc.settings.verbosity = 3
    args.out.mkdir(parents=True, exist_ok=True)

    def save(name, model):
        path = model.save(args.out / f"{name}.safetensors")
        print(f"saved {path} sha256 {model.sha256}", flush=True)

    models = train_causal_resolutions(VIEWS, on_best=save, **changes)
    for name, model in models.items():
        save(name, model)
        print(name, json.dumps(model.spec.metrics), flush=True)


if __name__ == "__main__":
    main()
