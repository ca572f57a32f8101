"""Small helpers shared across namespaces."""

from __future__ import annotations

from ._version import __version__


def package_version() -> str:
    """Version of cnnc (recorded in results so they can be traced to the code)."""
    return __version__
