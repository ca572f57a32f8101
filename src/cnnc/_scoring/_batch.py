"""What every way of scoring shares: batches of pairs, images read both ways, the loop that drives them.

No ``n_pairs × bins × bins`` array is ever built: images exist one batch at a time, so memory is bounded by the
batch size whatever the number of pairs. Where a batch is computed (in this process, or on a cluster's workers) is
the business of a *runner* (:class:`BatchRunner`); the loop here is the same for all of them.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterator
from typing import Protocol

import numpy as np
from scanpy import settings
from tqdm.auto import tqdm

from .._utils import PROGRESS_DELAY

#: ``extra(a, b)``: the model's extra per-pair features of a batch of pairs (positions among the imager's genes).
ExtraFeatures = Callable[[np.ndarray, np.ndarray], np.ndarray]


def pair_batches(a: np.ndarray, b: np.ndarray, batch_size: int) -> Iterator[tuple[int, np.ndarray, np.ndarray]]:
    """Yield ``(start, a_batch, b_batch)`` slices of the pair arrays."""
    for start in range(0, len(a), batch_size):
        yield start, a[start : start + batch_size], b[start : start + batch_size]


def symmetrize(p_ab_image: np.ndarray, p_ba_image: np.ndarray, task: str) -> np.ndarray:
    """Average the predictions of the (a, b) image and of its transpose, the (b, a) image.

    For the direction task the transposed image's "a→b" is the pair's "b→a", so its two directed
    columns are swapped before averaging; the network then reads every pair both ways.
    """
    if task == "direction":
        swapped = p_ba_image[:, [0, 2, 1]]
    else:
        swapped = p_ba_image
    return (p_ab_image + swapped) / 2


def predict_both_ways(
    model, images, extra_ab, extra_ba, *, symmetric: bool, batch_size: int, device=None, precision: str = "float32"
) -> np.ndarray:
    """Probabilities of a batch of pair images, averaged with those of the transposed images when ``symmetric``."""
    proba = model.predict_proba(images, extra_ab, batch_size=batch_size, device=device, precision=precision)
    if symmetric:
        flipped = model.predict_proba(
            np.ascontiguousarray(images.transpose(0, 2, 1)),
            extra_ba,
            batch_size=batch_size,
            device=device,
            precision=precision,
        )
        proba = symmetrize(proba, flipped, model.spec.task)
    return proba


def extra_both_ways(extra: ExtraFeatures | None, a: np.ndarray, b: np.ndarray, *, symmetric: bool):
    """The extra features of the pairs read as (a, b) and, when ``symmetric``, as (b, a)."""
    if extra is None:
        return None, None
    return extra(a, b), (extra(b, a) if symmetric else None)


class BatchRunner(Protocol):
    """Computes the probabilities of batches of pairs somewhere: :func:`run_batches` drives it.

    ``submit`` starts a batch and returns a handle, ``collect`` waits for a handle's ``(n, n_classes)``
    probabilities; at most ``in_flight`` batches are started and not yet collected.
    """

    in_flight: int

    def step(self, batch_size: int) -> int:
        """Pairs per submitted batch, for the user's ``batch_size``."""

    def submit(self, a: np.ndarray, b: np.ndarray, extra_ab, extra_ba): ...

    def collect(self, handle) -> np.ndarray: ...


def run_batches(
    runner: BatchRunner,
    a: np.ndarray,
    b: np.ndarray,
    *,
    n_classes: int,
    batch_size: int,
    symmetric: bool,
    extra: ExtraFeatures | None,
    progress: bool,
    on_batch: Callable[[int], None] | None = None,
) -> np.ndarray:
    """Class probabilities ``(n_pairs, n_classes)`` of pairs ``(a[i], b[i])``, batch by batch through ``runner``.

    ``on_batch(k)`` is called after the ``k``-th batch's probabilities arrived (from 0).
    """
    out = np.empty((len(a), n_classes), dtype=np.float32)
    # shown at scanpy's default verbosity (warning) once a run takes more than a few seconds (PROGRESS_DELAY)
    bar = tqdm(
        total=len(a),
        desc="cnnc: scoring pairs",
        unit="pair",
        unit_scale=True,
        disable=not progress or settings.verbosity < 1,
        delay=PROGRESS_DELAY,
    )
    pending: deque = deque()
    done = 0

    def collect() -> None:
        nonlocal done
        start, n, handle = pending.popleft()
        out[start : start + n] = runner.collect(handle)
        bar.update(n)
        if on_batch is not None:
            on_batch(done)
        done += 1

    for start, ab, bb in pair_batches(a, b, runner.step(batch_size)):
        pending.append((start, len(ab), runner.submit(ab, bb, *extra_both_ways(extra, ab, bb, symmetric=symmetric))))
        while len(pending) >= runner.in_flight:
            collect()
    while pending:
        collect()
    bar.close()
    return out
