"""The registry of pre-trained models: bundled with the package or downloaded (and cached) with pooch."""

from __future__ import annotations

import copy
import json
import os
import re
import shutil
from contextlib import contextmanager
from importlib.resources import as_file, files
from pathlib import Path

import pandas as pd
import pooch
from scanpy import logging as logg
from scanpy import settings

from .._utils import sha256_file
from ._io import load_file
from ._model import Model

__all__ = ["available", "info", "load", "register"]

ENV_CACHE = "CNNC_MODELS_DIR"
_REGISTRY_FILE = "registry.json"
_REGISTRY_FORMAT = 1
_REQUIRED = ("file", "sha256", "url", "bundled", "description")
_OPTIONAL = ("training", "metrics", "task", "species", "expects", "limits", "recipe", "choices")
_SHA256 = re.compile(r"^[0-9a-f]{64}$")
_URL_SCHEMES = ("https://", "http://", "ftp://", "doi:")

_REGISTRY: dict | None = None


def _validate_entry(name: str, entry: dict) -> dict:
    if not isinstance(name, str) or not name or name == "default" or "/" in name or "\\" in name:
        raise ValueError(f"Invalid model name {name!r}: use a non-empty name without slashes, other than 'default'.")
    if not isinstance(entry, dict):
        raise ValueError(f"Registry entry {name!r} must be a dict, got {type(entry).__name__}.")
    missing = [k for k in _REQUIRED if k not in entry]
    unknown = sorted(set(entry) - set(_REQUIRED) - set(_OPTIONAL))
    if missing or unknown:
        raise ValueError(
            f"Registry entry {name!r}: missing keys {missing}, unknown keys {unknown}; "
            f"required {list(_REQUIRED)}, optional {list(_OPTIONAL)}."
        )
    entry = dict(entry)
    sha = entry["sha256"]
    if not isinstance(sha, str) or not _SHA256.match(sha.lower().removeprefix("sha256:")):
        raise ValueError(f"Registry entry {name!r}: sha256 must be 64 hexadecimal digits, got {sha!r}.")
    entry["sha256"] = sha.lower().removeprefix("sha256:")
    f = entry["file"]
    if not isinstance(f, str) or not f.endswith(".safetensors") or Path(f).name != f:
        raise ValueError(f"Registry entry {name!r}: file must be a bare file name ending in .safetensors, got {f!r}.")
    if not isinstance(entry["bundled"], bool):
        raise ValueError(f"Registry entry {name!r}: bundled must be true or false, got {entry['bundled']!r}.")
    url = entry["url"]
    if not entry["bundled"] and (not isinstance(url, str) or not url.startswith(_URL_SCHEMES)):
        raise ValueError(
            f"Registry entry {name!r}: a model that is not bundled needs a download url ({_URL_SCHEMES}), got {url!r}."
        )
    if url is not None and not isinstance(url, str):
        raise ValueError(f"Registry entry {name!r}: url must be a string or null, got {url!r}.")
    if not isinstance(entry["description"], str):
        raise ValueError(f"Registry entry {name!r}: description must be a string.")
    for key in ("training", "metrics"):
        entry.setdefault(key, {})
        if not isinstance(entry[key], dict):
            raise ValueError(f"Registry entry {name!r}: {key} must be a dict.")
    return entry


def _read_registry() -> dict:
    text = files("cnnc.models").joinpath("weights", _REGISTRY_FILE).read_text(encoding="utf-8")
    raw = json.loads(text)
    if raw.get("format_version") != _REGISTRY_FORMAT or set(raw) != {"format_version", "default", "models"}:
        raise ValueError(f"cnnc's model registry ({_REGISTRY_FILE}) is malformed; reinstall cnnc.")
    models = {name: _validate_entry(name, e) for name, e in raw["models"].items()}
    if raw["default"] is not None and raw["default"] not in models:
        raise ValueError(
            f"cnnc's model registry names default {raw['default']!r}, which it does not list; reinstall cnnc."
        )
    return {"default": raw["default"], "models": models}


def _get_registry() -> dict:
    global _REGISTRY
    if _REGISTRY is None:
        _REGISTRY = _read_registry()
    return _REGISTRY


def cache_dir() -> Path:
    """Folder where downloaded models are kept: ``$CNNC_MODELS_DIR`` or the OS cache (``pooch.os_cache("cnnc")/models``)."""
    env = os.environ.get(ENV_CACHE)
    folder = Path(env).expanduser() if env else Path(pooch.os_cache("cnnc")) / "models"
    if folder.exists() and not folder.is_dir():
        source = f"the environment variable {ENV_CACHE}" if env else "the default model cache"
        raise NotADirectoryError(
            f"The model cache {folder} (from {source}) is a file, not a folder. Set {ENV_CACHE} to a folder "
            "(it is created when missing), or move that file away."
        )
    return folder


def register(
    name: str,
    file: str,
    sha256: str,
    url: str | None,
    *,
    description: str = "",
    training: dict | None = None,
    metrics: dict | None = None,
    bundled: bool = False,
    default: bool = False,
    overwrite: bool = False,
    **card: object,
) -> None:
    """Add a model to the registry of this session.

    Parameters
    ----------
    name
        Name to load the model by.
    file
        File name of the model (``*.safetensors``), in the package's ``weights`` folder if
        ``bundled``, else the name it is cached under.
    sha256
        SHA256 of the file (64 hexadecimal digits); downloads and bundled files are checked against it.
    url
        Where to download the file from (``None`` only if ``bundled``).
    description
        One-line description shown by :func:`available`.
    training, metrics
        Summaries shown by :func:`info`.
    bundled
        The file ships inside the package.
    default
        Make this model the one ``load("default")`` returns.
    overwrite
        Replace an existing entry of the same name.
    **card
        Further model-card fields: ``task``, ``species``, ``expects``, ``limits``.
    """
    entry = _validate_entry(
        name,
        {
            "file": file,
            "sha256": sha256,
            "url": url,
            "bundled": bundled,
            "description": description,
            "training": training or {},
            "metrics": metrics or {},
            **card,
        },
    )
    reg = _get_registry()
    if name in reg["models"] and not overwrite:
        raise ValueError(f"A model named {name!r} is already registered; pass overwrite=True to replace it.")
    reg["models"][name] = entry
    if default:
        reg["default"] = name


def available() -> pd.DataFrame:
    """List the registered models.

    Returns
    -------
    One row per model (index ``name``) with columns ``description``, ``task``, ``species``,
    ``bundled``, ``default``, ``downloaded`` (the file is bundled or already in the cache),
    ``file``, ``url`` and ``sha256``.
    """
    reg = _get_registry()
    columns = ["description", "task", "species", "bundled", "default", "downloaded", "file", "url", "sha256"]
    rows = []
    for name, e in reg["models"].items():
        rows.append(
            {
                "name": name,
                "description": e["description"],
                "task": e.get("task"),
                "species": ", ".join(e["species"]) if isinstance(e.get("species"), list) else e.get("species"),
                "bundled": e["bundled"],
                "default": name == reg["default"],
                "downloaded": e["bundled"] or (cache_dir() / e["file"]).is_file(),
                "file": e["file"],
                "url": e["url"],
                "sha256": e["sha256"],
            }
        )
    return pd.DataFrame(rows, columns=["name", *columns]).set_index("name")


def _resolve_name(name: str) -> str:
    reg = _get_registry()
    if name == "default":
        if reg["default"] is None:
            raise ValueError(
                "No default model is registered in this version of cnnc yet. "
                "Pass the path of a model file you trained (cnnc.models.load('path/to/model.safetensors')), "
                "or the name of a registered model (see cnnc.models.available())."
            )
        return reg["default"]
    return name


def _unknown(name: str) -> ValueError:
    names = list(_get_registry()["models"])
    listed = f"registered models: {names}" if names else "no models are registered"
    return ValueError(
        f"Unknown model {name!r}: it is not a registered name ({listed}) and not an existing file. "
        "Pass a registered name (see cnnc.models.available()) or the path of a .safetensors model file."
    )


def _looks_like_path(s: str) -> bool:
    return s.endswith(".safetensors") or "/" in s or os.sep in s or Path(s).exists()


@contextmanager
def _quiet_pooch():
    logger = pooch.get_logger()
    level = logger.level
    logger.setLevel("WARNING")
    try:
        yield
    finally:
        logger.setLevel(level)


def _load_bundled(name: str, entry: dict) -> Model:
    resource = files("cnnc.models").joinpath("weights", entry["file"])
    with as_file(resource) as path:
        if not path.is_file():
            raise FileNotFoundError(f"The bundled file {entry['file']} of model {name!r} is missing; reinstall cnnc.")
        sha = sha256_file(path)
        if sha != entry["sha256"]:
            raise ValueError(
                f"The bundled file of model {name!r} ({path}) has SHA256 {sha}, but the registry expects "
                f"{entry['sha256']}: the installation is damaged. Reinstall cnnc (pip install --force-reinstall cnnc)."
            )
        return load_file(path)


def _download(name: str, entry: dict) -> Path:
    folder = cache_dir()
    created = not folder.exists()
    # A cached file whose hash is not the registry's is downloaded again: say so, and in any error that follows.
    stale = ""
    cached = folder / entry["file"]
    if cached.is_file():
        sha = sha256_file(cached)
        if sha != entry["sha256"]:
            stale = (
                f" The cached file {cached} has SHA256 {sha}, not the registry's {entry['sha256']} (damaged, or "
                "another version of the model): it is replaced by a new download."
            )
            logg.warning(stale.strip())
    start = logg.info(f"fetching model {name!r} from {entry['url']}")
    try:
        fname = _retrieve(name, entry, folder, stale)
    except BaseException:
        if created:  # the folder was made for this download: leave nothing behind
            shutil.rmtree(folder, ignore_errors=True)
        raise
    logg.info("    finished", time=start)
    return Path(fname)


def _retrieve(name: str, entry: dict, folder: Path, stale: str) -> str:
    import requests  # pooch's downloader uses requests

    try:
        with _quiet_pooch():
            fname = pooch.retrieve(
                entry["url"],
                known_hash=f"sha256:{entry['sha256']}",
                fname=entry["file"],
                path=folder,
                progressbar=settings.verbosity >= 2,
            )
    except requests.exceptions.RequestException as e:
        raise ConnectionError(
            f"Could not download model {name!r} from {entry['url']} ({type(e).__name__}: {e}). Nothing was kept in "
            f"the cache ({folder}). Check your internet connection and retry; or download the file yourself and "
            f"pass its path to cnnc.models.load (its SHA256 must be {entry['sha256']}).{stale}"
        ) from None
    except ValueError as e:
        raise ValueError(
            f"The download of model {name!r} from {entry['url']} is not the expected file: its SHA256 does not match "
            f"the registry ({entry['sha256']}). The download was interrupted or the server sent something else "
            f"(an error page?). Nothing was kept in the cache ({folder}). Retry later; if it persists, download the "
            f"file yourself and pass its path to cnnc.models.load. [{e}]{stale}"
        ) from None
    except PermissionError as e:
        raise PermissionError(
            f"Cannot write model {name!r} to the cache folder {folder} ({e}); set the environment variable "
            f"{ENV_CACHE} to a writable folder."
        ) from None
    return fname


def load(name_or_path: str | os.PathLike = "default") -> Model:
    """Load a pre-trained model by registry name, or a model file by path.

    Parameters
    ----------
    name_or_path
        ``"default"`` (the registry's default model), a name listed by :func:`available`, or the
        path of a ``.safetensors`` model file. Models that are not bundled are downloaded once
        with :mod:`pooch`, checked against their SHA256, and cached in
        ``pooch.os_cache("cnnc")/models`` (override with the environment variable ``CNNC_MODELS_DIR``).

    Returns
    -------
    The model.

    Examples
    --------
    >>> import cnnc
    >>> cnnc.models.available()  # doctest: +SKIP
    >>> model = cnnc.models.load("my_model.safetensors")  # doctest: +SKIP
    """
    if isinstance(name_or_path, os.PathLike):
        return load_file(name_or_path)
    if not isinstance(name_or_path, str):
        raise TypeError(f"name_or_path must be a model name or a path, got {type(name_or_path).__name__}.")
    name = _resolve_name(name_or_path)
    entry = _get_registry()["models"].get(name)
    if entry is None:
        if _looks_like_path(name):
            return load_file(name)
        raise _unknown(name)
    if entry["bundled"]:
        return _load_bundled(name, entry)
    return load_file(_download(name, entry))


def _cached_file(entry: dict) -> Path | None:
    """Return the downloaded model file if it is in the cache and intact, else None."""
    path = cache_dir() / entry["file"]
    if path.is_file() and sha256_file(path) == entry["sha256"]:
        return path
    return None


def info(name_or_path: str | os.PathLike = "default") -> str:
    """Print and return the model card: training data, expected input, metrics and limits.

    Parameters
    ----------
    name_or_path
        As in :func:`load`. A registered model that is neither bundled nor downloaded yet is
        described from the registry alone (nothing is downloaded).

    Returns
    -------
    The card's text.
    """
    if isinstance(name_or_path, os.PathLike) or (
        isinstance(name_or_path, str)
        and name_or_path != "default"
        and name_or_path not in _get_registry()["models"]
        and _looks_like_path(name_or_path)
    ):
        text = load_file(name_or_path).card()
        print(text)
        return text
    if not isinstance(name_or_path, str):
        raise TypeError(f"name_or_path must be a model name or a path, got {type(name_or_path).__name__}.")
    name = _resolve_name(name_or_path)
    entry = _get_registry()["models"].get(name)
    if entry is None:
        raise _unknown(name)
    source = "bundled with cnnc" if entry["bundled"] else f"downloaded from {entry['url']}"
    lines = [f"{name}: {entry['description']}" if entry["description"] else name, f"  source: {source}"]
    path = None if entry["bundled"] else _cached_file(entry)
    if entry["bundled"] or path is not None:
        lines.append((_load_bundled(name, entry) if entry["bundled"] else load_file(path)).card())
    else:
        e = copy.deepcopy(entry)
        for key in ("task", "species", "expects"):
            if key in e:
                lines.append(f"  {key}: {', '.join(e[key]) if isinstance(e[key], list) else e[key]}")
        for key in ("training", "metrics"):
            if e[key]:
                lines.append(f"  {key}:")
                lines += [f"    {k}: {v}" for k, v in e[key].items()]
        if "limits" in e:
            lines.append(f"  limits: {e['limits']}")
        lines.append(f"  sha256: {e['sha256']}")
        lines.append(f"  (not downloaded yet: cnnc.models.load({name!r}) fetches it and gives the full card)")
    text = "\n".join(lines)
    print(text)
    return text
