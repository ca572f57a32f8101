"""What several benchmarks share: the run header, the wins / geometric-mean summary and peak memory."""

from __future__ import annotations

import os
import resource
from pathlib import Path

import numpy as np
import pandas as pd

#: The repository (benchmarks run from here: ``python -m benchmarks.NAME``).
ROOT = Path(__file__).resolve().parents[1]
#: Real public data (BEELINE, Hallmark, ...) beside the repository; never downloaded by a benchmark.
SHARED = ROOT.parent / "shared" / "data"
#: Where benchmarks write their JSON results and their Markdown tables (included by the docs).
RESULTS = ROOT / "benchmarks" / "results"
GENERATED = ROOT / "docs" / "_generated"


def use_shared_data() -> None:
    """Read BEELINE and the other public data sets from ../shared/data (no download)."""
    if SHARED.is_dir():
        os.environ.setdefault("CNNC_DATA_DIR", str(SHARED))


def model_version(model: str = "default") -> dict:
    """Name and version of a registered model, read through the public registry.

    A model has no version number of its own: it is named by its registry name, the first 12 hex digits of its
    file's sha256, and the cnnc version and date that created it.
    """
    import cnnc

    loaded = cnnc.models.load(model)
    return {
        "model": loaded.name,
        "sha256": loaded.sha256[:12],
        "made_with": loaded.spec.cnnc_version,
        "created": str(loaded.spec.created)[:10],
    }


def run_header(*models: str, trained: str | None = None) -> dict:
    """What a benchmark run ran: cnnc's version, each model's name and version, the machine's load.

    ``models``: registered model names (``"default"`` resolves to the registry's default); ``trained``: a note for
    models trained within the run (e.g. the recipe). Printed as it is made; :func:`header_line` gives the line a
    generated table starts with, and the dict goes into the results JSON under ``"run"``.
    """
    import cnnc

    run = {
        "cnnc_version": cnnc.__version__,
        "default_model": str(cnnc.models.available().query("default").index[0]),
        "models": list({v["model"]: v for v in map(model_version, models)}.values()),  # each model once
        "trained": trained,
        "cores": os.cpu_count(),
        "load_at_start": os.getloadavg()[0],
    }
    print(header_line(run), flush=True)
    return run


def header_line(run: dict) -> str:
    """One line naming cnnc's version and the models of a run (made by :func:`run_header`)."""
    parts = [f"cnnc {run['cnnc_version']}"]
    for m in run["models"]:
        default = " (the default)" if m["model"] == run["default_model"] else ""
        parts.append(
            f"model `{m['model']}`{default}, sha256 {m['sha256']}, made with cnnc {m['made_with']} on {m['created']}"
        )
    if run.get("trained"):
        parts.append(f"models trained in this run: {run['trained']}")
    return "Ran with " + "; ".join(parts) + "."


def geometric_mean(ratios) -> float:
    """Geometric mean of positive ratios (``exp(mean(log))``)."""
    return float(np.exp(np.mean(np.log(np.asarray(ratios, dtype=float)))))


def versus(table: pd.DataFrame, method: str, base: str) -> tuple[int, int, float]:
    """``(wins, sets, geometric mean of method / base)`` over the rows (data sets) where both have a value."""
    both = table[[method, base]].dropna()
    wins = int((both[method] > both[base]).sum())
    return wins, len(both), geometric_mean(both[method] / both[base])


def reset_peak() -> None:
    """Reset this process's RSS high-water mark to its current RSS (Linux >= 4.0; a child starts with its parent's).

    Elsewhere nothing is reset, and :func:`peak_mib` then includes what came before.
    """
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
    except OSError:
        pass


def _status_mib(field: str) -> float | None:
    """A memory line of /proc/self/status (``VmHWM``, ``VmRSS``) in MiB, or None where there is no /proc."""
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith(field + ":"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return None


def peak_mib() -> float:
    """This process's RSS high-water mark in MiB (``VmHWM``; ``ru_maxrss`` where /proc is missing)."""
    peak = _status_mib("VmHWM")
    return peak if peak is not None else resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def rss_mib() -> float:
    """This process's current RSS in MiB (``VmRSS``; the high-water mark where /proc is missing)."""
    rss = _status_mib("VmRSS")
    return rss if rss is not None else peak_mib()
