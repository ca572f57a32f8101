"""Loading a model file: safetensors only (never pickle), with checks that say what is wrong."""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

import torch
from safetensors.torch import load as load_safetensors

from ._cnnc import CNNC
from ._model import FORMAT, FORMAT_VERSION, Model
from ._spec import ModelSpec

__all__ = ["load_file"]

_MAX_HEADER = 100 * 1024 * 1024
_N_NAMED = 5


def _describe_garbage(data: bytes) -> str:
    head = data[:512].lstrip().lower()
    if head.startswith((b"<!doctype html", b"<html", b"<?xml", b"<head", b"<body")) or b"<html" in head:
        return (
            " It looks like an HTML page (probably a web server's error or login page saved in place of the model):"
            " delete it and download the model again."
        )
    if head.startswith(b"version https://git-lfs"):
        return " It is a Git LFS pointer, not the file itself: fetch the real file with `git lfs pull`."
    if head.startswith((b"pk\x03\x04", b"\x80\x02", b"\x80\x04", b"\x80\x05")):
        return (
            " It looks like a pickle / torch.save checkpoint, which cnnc never loads (pickles can run code):"
            " re-save the model with cnnc.models.Model.save."
        )
    if head.startswith(b"\x89hdf"):
        return " It is an HDF5 file (e.g. a Keras .h5 model); cnnc reads only models written by cnnc.models.Model.save."
    return ""


def _parse_header(data: bytes, path: Path) -> dict:
    def bad(reason: str) -> ValueError:
        return ValueError(
            f"{path} is not a valid cnnc model file (safetensors header could not be read: {reason})."
            f"{_describe_garbage(data)}"
        )

    if len(data) < 8:
        raise bad(f"the file has only {len(data)} bytes")
    n = int.from_bytes(data[:8], "little")
    if n < 2 or n > _MAX_HEADER or n > len(data) - 8:
        raise bad(f"declared header length {n} does not fit a file of {len(data)} bytes")
    try:
        header = json.loads(data[8 : 8 + n])
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise bad(f"header is not JSON: {e}") from None
    if not isinstance(header, dict):
        raise bad("header is not a JSON object")
    try:
        ends = [int(v["data_offsets"][1]) for k, v in header.items() if k != "__metadata__"]
    except (TypeError, KeyError, IndexError, ValueError):
        raise bad("tensor entries lack valid 'data_offsets'") from None
    meta = header.get("__metadata__", {})
    if not isinstance(meta, dict) or not all(isinstance(v, str) for v in meta.values()):
        raise bad("'__metadata__' is not a mapping of strings")
    needed = 8 + n + max(ends, default=0)
    if len(data) < needed:
        raise ValueError(
            f"{path} is not a valid cnnc model file: it is truncated ({len(data)} bytes, but its header describes "
            f"{needed} bytes). The download or copy was interrupted; delete it and download or copy it again."
        )
    return header


def _compare_state(
    expected: dict[str, torch.Tensor], found: dict[str, torch.Tensor], path: Path, spec: ModelSpec
) -> None:
    missing = [k for k in expected if k not in found]
    unexpected = [k for k in found if k not in expected]
    shapes = [
        f"{k} is {tuple(found[k].shape)} in the file but {tuple(v.shape)} in the architecture"
        for k, v in expected.items()
        if k in found and tuple(found[k].shape) != tuple(v.shape)
    ]
    if missing or unexpected or shapes:
        parts = []
        if missing:
            parts.append(f"missing tensors {missing[:_N_NAMED]}{' ...' if len(missing) > _N_NAMED else ''}")
        if unexpected:
            parts.append(f"unexpected tensors {unexpected[:_N_NAMED]}{' ...' if len(unexpected) > _N_NAMED else ''}")
        if shapes:
            parts.append("shape mismatch: " + "; ".join(shapes[:_N_NAMED]) + (" ..." if len(shapes) > _N_NAMED else ""))
        raise ValueError(
            f"The weights in {path} do not match the architecture in its spec {spec.architecture}: "
            + "; ".join(parts)
            + ". The file was edited or written by a different program; re-save the model with Model.save."
        )


def _read_bytes(path: Path) -> bytes:
    if not path.exists():
        raise FileNotFoundError(f"Model file {path} does not exist.")
    if path.is_dir():
        raise IsADirectoryError(f"{path} is a folder; pass the path of a .safetensors model file.")
    return path.read_bytes()


def _spec_from_header(header: dict, path: Path) -> ModelSpec:
    meta = header.get("__metadata__") or {}
    if "cnnc_spec" not in meta:
        raise ValueError(
            f"{path} is a safetensors file but not a cnnc model: it has no 'cnnc_spec' metadata "
            "(it was not written by cnnc.models.Model.save). Save models with Model.save."
        )
    if meta.get("format") != FORMAT:
        raise ValueError(
            f"{path} has metadata format={meta.get('format')!r}, expected {FORMAT!r}; it is not a cnnc model file."
        )
    if meta.get("format_version") != FORMAT_VERSION:
        raise ValueError(
            f"{path} is a cnnc model file of format version {meta.get('format_version')!r}, but this cnnc reads "
            f"version {FORMAT_VERSION!r}. Upgrade cnnc (pip install -U cnnc)."
        )
    try:
        return ModelSpec.from_json(meta["cnnc_spec"])
    except ValueError as e:
        raise ValueError(f"{path} has an invalid cnnc model spec: {e}") from None


def load_file(path: str | os.PathLike) -> Model:
    """Load a model from a safetensors file written by :meth:`cnnc.models.Model.save`.

    Only the safetensors format is read (never pickle), so loading cannot run code.

    Parameters
    ----------
    path
        The ``.safetensors`` file.

    Returns
    -------
    The model, float32, on the CPU, in evaluation mode, with :attr:`~cnnc.models.Model.sha256` set.
    A file that is not a safetensors file (a truncated download, an HTML error page, ...), lacks the
    cnnc spec, or whose weights do not match the spec's architecture or are not finite is a
    :class:`ValueError` that names the problem.
    """
    path = Path(path)
    data = _read_bytes(path)
    header = _parse_header(data, path)
    spec = _spec_from_header(header, path)
    try:
        tensors = load_safetensors(data)
    except Exception as e:  # noqa: BLE001 - safetensors raises its own error types
        raise ValueError(
            f"{path} is not a valid cnnc model file (safetensors could not read its tensors: {e})."
        ) from None
    with torch.device("meta"):  # shapes only: no allocation, no use of the global random generator
        module = CNNC(**spec.architecture)
    _compare_state(module.state_dict(), tensors, path, spec)
    bad = [k for k, t in tensors.items() if t.is_floating_point() and not torch.isfinite(t).all()]
    if bad:
        raise ValueError(
            f"{path} has NaN or infinite weights in {bad[:_N_NAMED]}; the model is broken (training diverged?) "
            "and cannot be used."
        )
    tensors = {k: (t.float() if t.is_floating_point() else t) for k, t in tensors.items()}
    module.load_state_dict(tensors, strict=True, assign=True)
    module.eval()
    model = Model(module, spec)
    model._attach_file(path, hashlib.sha256(data).hexdigest())
    return model
