"""Scoring in this process: each batch's images are made and read by the model as the batch is submitted."""

from __future__ import annotations

import numpy as np

from .._engine._images import PairImager
from ._batch import predict_both_ways

#: When the bin codes of all cells do not fit in memory, every batch of images costs one pass over the data
#: (from disk for backed or dask data): then batches grow until their images fill this many bytes.
UNCACHED_IMAGE_BYTES = 256 * 2**20


class InProcess:
    """A :class:`~cnnc._scoring._batch.BatchRunner` that computes each batch at once, here."""

    in_flight = 1

    def __init__(self, imager: PairImager, model, *, symmetric: bool, batch_size: int, device, precision: str) -> None:
        self.imager, self.model = imager, model
        self.symmetric, self.device, self.precision = symmetric, device, precision
        self.forward_batch = batch_size  # the network's batch stays the user's, whatever the image batch

    def step(self, batch_size: int) -> int:
        if self.model.reads_images and not self.imager.binner.cached:
            per_pair = self.model.image_size**2 * 4 * (2 if self.symmetric else 1)
            return max(batch_size, UNCACHED_IMAGE_BYTES // per_pair)
        return batch_size

    def submit(self, a: np.ndarray, b: np.ndarray, extra_ab, extra_ba) -> np.ndarray:
        images = self.imager.images(a, b) if self.model.reads_images else self.model.blank_images(len(a))
        return predict_both_ways(
            self.model,
            images,
            extra_ab,
            extra_ba,
            symmetric=self.symmetric,
            batch_size=self.forward_batch,
            device=self.device,
            precision=self.precision,
        )

    def collect(self, handle: np.ndarray) -> np.ndarray:
        return handle
