"""Small helpers shared across namespaces."""

from __future__ import annotations

import os
import warnings

import numpy as np
import pooch
from scanpy import logging as logg

from ._version import __version__

#: Seconds before a progress bar appears: at scanpy's default verbosity, runs longer than this show one line.
PROGRESS_DELAY = 3.0


def package_version() -> str:
    """Version of cnnc (recorded in results so they can be traced to the code)."""
    return __version__


def cross_pairs(first: np.ndarray, second: np.ndarray, *, drop_self: bool = True) -> tuple[np.ndarray, np.ndarray]:
    """Every pair ``(first[i], second[j])`` as two arrays, ``first[0]``'s pairs first; self pairs dropped by default."""
    a = np.repeat(first, len(second))
    b = np.tile(second, len(first))
    if not drop_self:
        return a, b
    keep = a != b
    return a[keep], b[keep]


def dedupe_pairs(a: np.ndarray, b: np.ndarray, names) -> tuple[np.ndarray, np.ndarray]:
    """Drop repeated (a, b) pairs, keeping the first of each (logged); (a, b) and (b, a) are different pairs."""
    key = a.astype(np.int64) * (int(max(a.max(initial=0), b.max(initial=0))) + 1) + b
    _, first = np.unique(key, return_index=True)
    if len(first) == len(a):
        return a, b
    keep = np.sort(first)
    repeated = np.setdiff1d(np.arange(len(a)), keep)[0]
    logg.warning(
        f"{len(a) - len(keep):,} pairs are given more than once (e.g. ({names[a[repeated]]!r}, "
        f"{names[b[repeated]]!r})); each pair is scored once."
    )
    return a[keep], b[keep]


def sha256_file(path: str | os.PathLike) -> str:
    """Hex SHA256 of a file, read in chunks: the hash the model and data registries record and check."""
    # pooch checks its downloads with this same function, so a hash written here is one pooch accepts
    return pooch.file_hash(str(path), alg="sha256")


def resolve_random_state(random_state, seed, function: str) -> int:
    """The seed to use: ``random_state``, or the deprecated ``seed`` (with a FutureWarning naming the fix)."""
    if seed is not None:
        warnings.warn(
            f"{function}: `seed` is deprecated and will be removed; pass `random_state={seed!r}` instead.",
            FutureWarning,
            stacklevel=3,
        )
        if random_state not in (None, 0, seed):
            raise ValueError(
                f"{function}: pass `random_state` only (got random_state={random_state!r}, seed={seed!r})."
            )
        random_state = seed
    if random_state is None:
        return 0
    if isinstance(random_state, bool) or not isinstance(random_state, int | np.integer) or random_state < 0:
        raise ValueError(f"{function}: random_state must be a non-negative integer seed, got {random_state!r}.")
    return int(random_state)
