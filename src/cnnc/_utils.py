"""Small helpers shared across namespaces."""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version


def package_version() -> str:
    """Installed version of cnnc (recorded in results so they can be traced to the code)."""
    try:
        return version("cnnc")
    except PackageNotFoundError:  # running from a source tree without installation
        return "0.0.0"
