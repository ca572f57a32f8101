"""Pairwise cause-effect scores from maintained packages, run in the benchmark venv (never a package dependency).

    /work/venvs/i25/bin/python -m benchmarks._causal_baselines PAIRS.npz SCORES.json

``PAIRS.npz`` holds ``x0, y0, x1, y1, ...``; ``SCORES.json`` gets ``{method: [score of each pair]}`` with one
convention: ``score > 0`` says x -> y. Methods: IGCI (cdt 0.6.0, its default Gaussian reference and entropy
estimator, and the uniform reference), RECI, ANM and CDS (cdt), DirectLiNGAM (lingam; the variable it puts first
causes the other: +1 or -1). ANM fits a Gaussian process, cubic in the samples: on at most ``ANM_SAMPLES``
samples of a pair (a seeded subsample), and is called through its ``anm_score`` (see ``_anm``). Imports nothing of
cnnc, so it runs in a venv without it.
"""

from __future__ import annotations

import json
import sys
import warnings

import numpy as np

#: Samples of a pair the Gaussian-process ANM sees at most
ANM_SAMPLES = 200


def _lingam(x: np.ndarray, y: np.ndarray) -> float:
    import lingam

    model = lingam.DirectLiNGAM()
    model.fit(np.column_stack([x, y]))
    return 1.0 if model.causal_order_[0] == 0 else -1.0


def _anm(x: np.ndarray, y: np.ndarray) -> float:
    from cdt.causality.pairwise import ANM

    if len(x) > ANM_SAMPLES:
        keep = np.random.default_rng(0).choice(len(x), ANM_SAMPLES, replace=False)
        x, y = x[keep], y[keep]
    # ANM.predict_proba passes the regression target as an (n, 1) column, which current scikit-learn's Gaussian
    # process predicts as (n,): the residual then broadcasts to n x n and both directions score the same. Its own
    # anm_score on the same standardized values, with a flat target, is the method as published.
    x, y = (x - x.mean()) / x.std(), (y - y.mean()) / y.std()
    anm = ANM()
    return float(anm.anm_score(y[:, None], x) - anm.anm_score(x[:, None], y))


def methods() -> dict:
    from cdt.causality.pairwise import CDS, IGCI, RECI

    return {
        "IGCI (cdt)": lambda x, y: float(IGCI().predict_proba((x, y))),
        "IGCI uniform (cdt)": lambda x, y: float(IGCI().predict_proba((x, y), ref_measure="uniform")),
        "RECI (cdt)": lambda x, y: float(RECI().predict_proba((x, y))),
        "ANM (cdt)": _anm,
        "CDS (cdt)": lambda x, y: float(CDS().predict_proba((x, y))),
        "LiNGAM (lingam)": _lingam,
    }


def main(argv: list[str] | None = None) -> None:
    argv = sys.argv[1:] if argv is None else argv
    data = np.load(argv[0])
    n = len(data.files) // 2
    out = {}
    for name, fn in methods().items():
        scores = []
        for i in range(n):
            x, y = data[f"x{i}"].astype(np.float64), data[f"y{i}"].astype(np.float64)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                try:
                    s = fn(x, y)
                except Exception as e:  # noqa: BLE001 - a method that fails on a pair makes no call on it
                    print(f"{name} failed on pair {i}: {type(e).__name__}: {e}", file=sys.stderr)
                    s = 0.0
            scores.append(s if np.isfinite(s) else 0.0)
        out[name] = scores
        print(f"{name}: {n} pairs", file=sys.stderr, flush=True)
    with open(argv[1], "w") as f:
        json.dump(out, f)


if __name__ == "__main__":
    main()
