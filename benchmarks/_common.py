"""What several benchmarks share: the wins / geometric-mean summary and one way to measure peak memory."""

from __future__ import annotations

import resource

import numpy as np
import pandas as pd


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
