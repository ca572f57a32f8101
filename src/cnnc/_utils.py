"""Small helpers shared across namespaces."""

from __future__ import annotations

import os

import pooch

from ._version import __version__


def package_version() -> str:
    """Version of cnnc (recorded in results so they can be traced to the code)."""
    return __version__


def sha256_file(path: str | os.PathLike) -> str:
    """Hex SHA256 of a file, read in chunks: the hash the model and data registries record and check."""
    # pooch checks its downloads with this same function, so a hash written here is one pooch accepts
    return pooch.file_hash(str(path), alg="sha256")
