"""The fit loop: mini-batch training with early stopping on validation regulators."""

from __future__ import annotations

import copy
from dataclasses import dataclass, field

import numpy as np
import torch
from scanpy import logging as logg
from scanpy import settings
from tqdm.auto import tqdm

from .._engine._threads import with_jobs
from .._utils import PROGRESS_DELAY
from ..models._device import resolve_device


@dataclass
class FitResult:
    """What training did: per-epoch losses and the epoch whose weights were kept."""

    train_loss: list[float] = field(default_factory=list)
    val_loss: list[float] = field(default_factory=list)
    best_epoch: int = -1
    seconds: float = 0.0


def _batches(n: int, batch_size: int, rng: np.random.Generator | None):
    order = rng.permutation(n) if rng is not None else np.arange(n)
    for start in range(0, n, batch_size):
        yield order[start : start + batch_size]


def _to_tensor(x: np.ndarray, idx: np.ndarray, device, *, image: bool = False) -> torch.Tensor:
    batch = np.ascontiguousarray(x[idx], dtype=np.float32)
    if image and batch.ndim == 3:  # single-channel images: add the channel axis
        batch = batch[:, None]
    tensor = torch.from_numpy(batch).to(device)
    # channels-last convolutions train ~1.3x faster on CPUs (same values up to float rounding)
    return tensor.contiguous(memory_format=torch.channels_last) if image else tensor


def _evaluate(module, images, extra, labels, batch_size, device) -> tuple[float, float]:
    module.eval()
    total, correct = 0.0, 0
    with torch.inference_mode():
        for idx in _batches(len(labels), batch_size, None):
            logits = module(
                _to_tensor(images, idx, device, image=True), None if extra is None else _to_tensor(extra, idx, device)
            )
            y = torch.from_numpy(labels[idx]).to(device)
            total += float(torch.nn.functional.cross_entropy(logits, y, reduction="sum"))
            correct += int((logits.argmax(1) == y).sum())
    return total / len(labels), correct / len(labels)


@with_jobs  # torch on sc.settings.n_jobs threads
def fit_module(
    module: torch.nn.Module,
    images: np.ndarray,
    labels: np.ndarray,
    val_images: np.ndarray,
    val_labels: np.ndarray,
    *,
    extra: np.ndarray | None = None,
    val_extra: np.ndarray | None = None,
    epochs: int = 30,
    batch_size: int = 256,
    optimizer: str = "adam",
    learning_rate: float | None = None,
    weight_decay: float = 0.0,
    patience: int = 5,
    seed: int = 0,
    device: str | torch.device | None = None,
) -> FitResult:
    """Train ``module`` in place; keep the weights of the epoch with the lowest validation loss.

    ``optimizer="sgd"`` is CNNC's (Nesterov momentum 0.9, learning rate 0.02, decay 1e-6 per step);
    ``"adam"`` converges in fewer epochs on a CPU budget. Runs are identical for the same seed and device.
    """
    import time

    if len(labels) == 0 or len(val_labels) == 0:
        raise ValueError("Training and validation sets must both hold labelled pairs.")
    dev = resolve_device(device)
    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    module.to(dev).to(memory_format=torch.channels_last)
    if optimizer == "sgd":
        lr = 0.02 if learning_rate is None else learning_rate
        opt = torch.optim.SGD(module.parameters(), lr=lr, momentum=0.9, nesterov=True, weight_decay=weight_decay)
        # Keras' SGD(decay=1e-6): lr / (1 + decay * iterations)
        sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda step: 1.0 / (1.0 + 1e-6 * step))
    elif optimizer == "adam":
        lr = 1e-3 if learning_rate is None else learning_rate
        opt = torch.optim.AdamW(module.parameters(), lr=lr, weight_decay=weight_decay)
        sched = None
    else:
        raise ValueError(f"optimizer must be 'sgd' or 'adam', got {optimizer!r}.")
    result = FitResult()
    best_state, best_loss, since_best = None, np.inf, 0
    start = time.perf_counter()
    bar = tqdm(range(epochs), desc="cnnc: training", unit="epoch", disable=settings.verbosity < 1, delay=PROGRESS_DELAY)
    for epoch in bar:
        module.train()
        running, seen = 0.0, 0
        for idx in _batches(len(labels), batch_size, rng):
            x = _to_tensor(images, idx, dev, image=True)
            e = None if extra is None else _to_tensor(extra, idx, dev)
            y = torch.from_numpy(labels[idx]).to(dev)
            opt.zero_grad(set_to_none=True)
            loss = torch.nn.functional.cross_entropy(module(x, e), y)
            loss.backward()
            opt.step()
            if sched is not None:
                sched.step()
            running += float(loss.detach()) * len(idx)
            seen += len(idx)
        if not np.isfinite(running):
            raise ValueError(
                f"Training diverged in epoch {epoch}: the loss became NaN or infinite (optimizer {optimizer!r}, "
                f"learning_rate {lr!r}). Pass a smaller learning_rate (the default of {optimizer!r} is "
                f"{0.02 if optimizer == 'sgd' else 1e-3})."
            )
        val_loss, val_acc = _evaluate(module, val_images, val_extra, val_labels, 1024, dev)
        result.train_loss.append(running / seen)
        result.val_loss.append(val_loss)
        bar.set_postfix(loss=f"{running / seen:.4f}", val_loss=f"{val_loss:.4f}", val_acc=f"{val_acc:.3f}")
        logg.debug(f"epoch {epoch}: loss {running / seen:.4f}, validation loss {val_loss:.4f}, accuracy {val_acc:.3f}")
        if val_loss < best_loss - 1e-6:
            best_loss, since_best, result.best_epoch = val_loss, 0, epoch
            best_state = copy.deepcopy(module.state_dict())
        else:
            since_best += 1
            if since_best >= patience:
                break
    if best_state is not None:
        module.load_state_dict(best_state)
    module.to(memory_format=torch.contiguous_format)  # safetensors stores contiguous tensors only
    module.eval()
    result.seconds = time.perf_counter() - start
    return result
