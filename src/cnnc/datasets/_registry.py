"""The pooch registry of every public data file :mod:`cnnc.datasets` can fetch, and the hash-checked fetch."""

from __future__ import annotations

import os
from functools import cache
from importlib.resources import files
from pathlib import Path

import pooch
from scanpy import logging as logg

from .._utils import sha256_file

ENV = "CNNC_DATA_DIR"
"""Environment variable naming a folder laid out like the registry's keys (checked before the download cache)."""


@cache
def _load_registry() -> tuple[dict[str, str], dict[str, str]]:
    """``(key -> sha256, key -> url)`` from ``registry.txt``."""
    hashes: dict[str, str] = {}
    urls: dict[str, str] = {}
    text = files(__package__).joinpath("registry.txt").read_text()
    for line in text.splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        key, digest, url = line.split()
        hashes[key] = digest
        urls[key] = url
    return hashes, urls


def registry() -> dict[str, str]:
    """Return a copy of the registry: key (path relative to the data folder) -> sha256."""
    return dict(_load_registry()[0])


def make_pooch() -> pooch.Pooch:
    """Create the pooch of cnnc's data now, so that ``CNNC_DATA_DIR`` is read at call time, not import time."""
    hashes, urls = _load_registry()
    return pooch.create(
        path=pooch.os_cache("cnnc"),
        base_url="https://raw.githubusercontent.com/",  # unused: every file has its own URL
        registry=hashes,
        urls=urls,
        env=ENV,
        retry_if_failed=2,
    )


def _unknown_key_error(key: str) -> ValueError:
    hashes, _ = _load_registry()
    folder = key.rpartition("/")[0]
    near = sorted(k for k in hashes if k.startswith(folder + "/")) if folder else []
    listing = near or sorted({k.rpartition("/")[0] for k in hashes})
    what = f"files registered in {folder!r}" if near else "registered folders"
    return ValueError(
        f"{key!r} is not in cnnc's data registry: its sha256 is not known, so it cannot be fetched safely. "
        f"The {what} are: {', '.join(listing)}."
    )


def fetch(key: str) -> Path:
    """Path of the registered file ``key``, downloaded with pooch if it is not there yet, its sha256 checked.

    The file is looked up in ``$CNNC_DATA_DIR`` if set, else in pooch's cache folder for cnnc. A file that is
    there with the right sha256 is only read (the folder may be read-only). A file that is there with another
    sha256 is an error: it is neither used nor overwritten. A missing file is downloaded into a temporary file,
    checked and then moved in place, so a failed download leaves nothing behind.

    Parameters
    ----------
    key
        Path relative to the data folder, e.g. ``"beeline-genelink/Specific/mDC/TFs+500/TF.csv"``.

    Returns
    -------
    Local path of the verified file.
    """
    hashes, urls = _load_registry()
    if key not in hashes:
        raise _unknown_key_error(key)
    pup = make_pooch()
    root = Path(pup.abspath)
    local = root / key
    if local.is_file():
        found = sha256_file(local)
        if found != hashes[key]:
            fix = (
                f"Unset {ENV} or point it at an intact copy of the data folder."
                if os.environ.get(ENV)
                else "Delete it so that it is downloaded again."
            )
            msg = (
                f"{local} does not have the registered sha256 of {key!r} (expected {hashes[key]}, found {found}): "
                f"the file is corrupt or a different version. {fix}"
            )
            raise ValueError(msg)
        logg.debug(f"using {local}")
        return local
    start = logg.info(f"downloading {key!r} from {urls[key]} to {root}")
    missing_dirs = [d for d in (local.parent, *local.parent.parents) if not d.exists()]
    try:
        path = Path(pup.fetch(key))
    except (OSError, ValueError) as error:  # requests' errors are OSErrors; a hash mismatch is a ValueError
        for d in missing_dirs:  # leave no empty folders from a failed download (deepest first)
            if d.is_dir() and not any(d.iterdir()):
                d.rmdir()
        msg = (
            f"Could not fetch {key!r} from {urls[key]} into {root}: {error}. Check the network connection, "
            f"or set {ENV} to a folder holding a copy of cnnc's data (files at their registry paths)."
        )
        raise (ValueError if isinstance(error, ValueError) else OSError)(msg) from error
    logg.info("    finished", time=start)
    return path
