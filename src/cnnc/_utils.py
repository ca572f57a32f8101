"""Small helpers shared across namespaces."""

from __future__ import annotations

import os

import numpy as np
import pooch

from ._version import __version__


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


def sha256_file(path: str | os.PathLike) -> str:
    """Hex SHA256 of a file, read in chunks: the hash the model and data registries record and check."""
    # pooch checks its downloads with this same function, so a hash written here is one pooch accepts
    return pooch.file_hash(str(path), alg="sha256")
