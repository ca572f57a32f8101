"""Choosing the torch device a model runs on (private, shared by the prediction and training code)."""

from __future__ import annotations

import torch

__all__ = ["resolve_device"]


def resolve_device(device: str | torch.device | None = None) -> torch.device:
    """Turn a user's ``device`` argument into a usable :class:`torch.device`.

    Parameters
    ----------
    device
        ``None`` picks ``"cuda"`` when :func:`torch.cuda.is_available` and ``"cpu"`` otherwise;
        a string such as ``"cpu"``, ``"cuda"``, ``"cuda:1"`` or ``"mps"``, or a :class:`torch.device`.

    Returns
    -------
    The device. An unknown name, a device that is not available here, or the ``"meta"`` device
    (which holds no values) is a :class:`ValueError` that says what is available.
    """
    if device is None:
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if not isinstance(device, str | torch.device):
        raise ValueError(f"device must be None, a string such as 'cpu' or 'cuda', or a torch.device; got {device!r}.")
    try:
        dev = torch.device(device)
    except RuntimeError as e:
        raise ValueError(f"Unknown device {device!r} ({e}). Use None (automatic), 'cpu' or 'cuda'.") from None
    if dev.type == "cpu":
        return dev
    if dev.type == "cuda":
        if not torch.cuda.is_available():
            raise ValueError(
                f"device={device!r} was requested but CUDA is not available here; use device='cpu' or None."
            )
        if dev.index is not None and dev.index >= torch.cuda.device_count():
            raise ValueError(
                f"device={device!r} was requested but only {torch.cuda.device_count()} CUDA device(s) exist; "
                "use 'cuda' or 'cuda:0'."
            )
        return dev
    if dev.type == "mps":
        if not torch.backends.mps.is_available():
            raise ValueError(
                f"device={device!r} was requested but MPS is not available here; use device='cpu' or None."
            )
        return dev
    if dev.type == "meta":
        raise ValueError("device='meta' holds no values and cannot compute predictions; use 'cpu', 'cuda' or None.")
    return dev
