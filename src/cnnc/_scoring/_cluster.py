"""Scoring on the workers of a dask.distributed cluster (see :mod:`cnnc._distributed` for what moves where).

Each worker bins its own chunks of cells and keeps the bin codes; per batch of pairs each chunk's partial joint
counts are summed in a tree on the workers, then turned into images and read by the model on a worker, which returns
only the probabilities. The model is sent to every worker once.
"""

from __future__ import annotations

import numpy as np
from scanpy import logging as logg

from .._distributed import chunk_columns, row_chunks, tree_sum
from .._engine._binning import GeneBinner, scan_block
from .._engine._kernel import accumulate_block, counts_to_pixels
from .._engine._params import PairImageParams
from .._engine._source import value_dtype
from .._engine._transform import count_lookup
from ._batch import predict_both_ways

#: Pairs per batch when images are counted on the cluster: each chunk's partial counts are 16 MiB at 32 bins.
CLUSTER_IMAGE_BATCH = 4096
#: Pairs per batch when the model reads features only.
CLUSTER_FEATURE_BATCH = 65_536
#: Batches in flight at once (bounds the workers' memory, keeps them busy).
IN_FLIGHT = 2
#: Times a batch lost with a worker is scored before the loss is an error.
RETRIES = 3


# --- tasks run on the workers (module-level functions: workers import them) ---------------------------------


def _scan_task(chunk, genes, gene_names):
    return scan_block(chunk_columns(chunk, genes), gene_names)


def _bin_task(chunk, genes, binner: GeneBinner, first: int):
    return binner.bin_block(first, chunk_columns(chunk, genes))


def _codes_task(block):
    return np.ascontiguousarray(block.codes.T)


def _counts_task(block, binner: GeneBinner, a: np.ndarray, b: np.ndarray):
    bins = binner.params.bins
    out = np.zeros((len(a), bins, bins), dtype=np.int32)
    accumulate_block(block, binner.zero_code, a, b, out)
    return out


def _score_task(counts, model, lookup, n, extra_ab, extra_ba, symmetric, forward_batch, precision):
    images = model.blank_images(n) if counts is None else counts_to_pixels(counts, lookup)
    return predict_both_ways(
        model, images, extra_ab, extra_ba, symmetric=symmetric, batch_size=forward_batch, precision=precision
    )


# --- the driver side ------------------------------------------------------------------------------------------


class ClusterImager:
    """The bin codes of a dask array's genes, computed and kept on the cluster's workers, chunk by chunk.

    Has the attributes and methods of :class:`cnnc._engine._images.PairImager` that scoring uses (``n_cells``,
    ``params``, ``binner``, ``counts``, ``images``, ``codes``).
    """

    def __init__(
        self, client, matrix, genes: np.ndarray, params: PairImageParams, *, gene_names: list[str] | None = None
    ) -> None:
        import dask

        if params.scaling != "log":
            raise ValueError(
                f"The {params.scaling!r} image recipe ranks or standardizes every variable over all cells, which the "
                "cluster does not do: pass distributed=False (the variables involved are read into memory once)."
            )
        self.client = client
        self.params = params
        self.n_cells = int(matrix.shape[0])
        if self.n_cells == 0:
            raise ValueError("The data has no cells: a pair image needs at least one cell.")
        genes = np.asarray(genes, dtype=np.int64)
        names = list(gene_names) if gene_names is not None else [str(g) for g in genes]
        chunks = row_chunks(matrix)
        scans = client.gather(client.compute([dask.delayed(_scan_task)(c, genes, names) for _, c in chunks]))
        vmin = np.min([s[0] for s in scans], axis=0)
        vmax = np.max([s[1] for s in scans], axis=0)
        nnz = np.sum([s[2] for s in scans], axis=0)
        self.binner = GeneBinner.from_ranges(
            genes,
            params,
            n_cells=self.n_cells,
            value_dtype=value_dtype(matrix.dtype),
            vmin=vmin,
            vmax=vmax,
            nnz=nnz,
            gene_names=names,
        )
        self.lookup = count_lookup(params, self.n_cells)
        self._chunks, self._genes = chunks, genes
        self._blocks = None
        self._firsts = [f for f, _ in chunks]
        self.scatter()
        logg.debug(f"    binning {len(genes)} genes in {len(chunks)} cell chunks on the cluster's workers")

    def scatter(self) -> None:
        """Send the binner and the count → pixel table to every worker (again, after a worker was lost)."""
        self.binner_future = self.client.scatter(self.binner, broadcast=True)
        self.lookup_future = self.client.scatter(self.lookup, broadcast=True)  # one float per possible count

    @property
    def blocks(self) -> list:
        """Futures of each chunk's bin codes, computed on first use and then kept on the workers that made them."""
        if self._blocks is None:
            import dask

            self._blocks = self.client.compute(
                [dask.delayed(_bin_task)(c, self._genes, self.binner_future, f) for f, c in self._chunks]
            )
        return self._blocks

    def counts_future(self, a: np.ndarray, b: np.ndarray):
        """A future of the ``len(a) × bins × bins`` joint counts, summed over chunks on the workers."""
        parts = [self.client.submit(_counts_task, block, self.binner_future, a, b, pure=False) for block in self.blocks]
        return tree_sum(self.client, parts)

    def counts(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        """``n × bins × bins`` int32 joint counts, rows = bins of ``a`` (positions among the binned genes)."""
        return self.counts_future(np.asarray(a, dtype=np.int64), np.asarray(b, dtype=np.int64)).result()

    def codes(self) -> np.ndarray:
        """Every cell's bin code (``n_cells × n_genes`` uint8), gathered from the workers chunk by chunk."""
        out = np.empty((self.n_cells, len(self.binner.genes)), dtype=np.uint8)
        for block, first in zip(self.blocks, self._firsts, strict=True):
            part = self.client.submit(_codes_task, block, pure=False).result()
            out[first : first + len(part)] = part
        return out

    def images(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        """``n × bins × bins`` float32 images, rows = bins of ``b`` (CNNC's transposed histogram)."""
        return counts_to_pixels(self.counts(a, b), self.lookup)


class OnCluster:
    """A :class:`~cnnc._scoring._batch.BatchRunner` that counts and reads each batch on the workers.

    ``device`` is the workers' own choice (each picks CUDA when it has it). A batch whose result was lost with a
    worker is scored again.
    """

    def __init__(self, imager: ClusterImager, model, *, symmetric: bool, batch_size: int, precision: str) -> None:
        self.imager, self.model, self.client = imager, model, imager.client
        self.symmetric, self.forward_batch, self.precision = symmetric, batch_size, precision
        self.in_flight = IN_FLIGHT
        self.model_future = self.client.scatter(model, broadcast=True)  # weights go to each worker once

    def step(self, batch_size: int) -> int:
        return max(batch_size, CLUSTER_IMAGE_BATCH if self.model.reads_images else CLUSTER_FEATURE_BATCH)

    def submit(self, a: np.ndarray, b: np.ndarray, extra_ab, extra_ba):
        counts = self.imager.counts_future(a, b) if self.model.reads_images else None
        future = self.client.submit(
            _score_task,
            counts,
            self.model_future,
            self.imager.lookup_future,
            len(a),
            extra_ab,
            extra_ba,
            self.symmetric,
            self.forward_batch,
            self.precision,
            pure=False,
        )
        return future, (a, b, extra_ab, extra_ba)

    def collect(self, handle) -> np.ndarray:
        future, inputs = handle
        for attempt in range(1, RETRIES + 1):
            try:
                result = future.result()
                break
            except Exception as error:  # only a cancelled batch is retried (FutureCancelledError); the rest re-raised
                if "Cancelled" not in type(error).__name__ or attempt == RETRIES:
                    raise
                # a worker was lost with the batch's inputs or result: send the inputs again, score the batch again
                # (again if the cluster was still settling, e.g. the scatter reached a worker that was going away)
                logg.warning(f"a batch of pairs was lost with a worker ({type(error).__name__}); scoring it again")
                self.model_future = self.client.scatter(self.model, broadcast=True)
                self.imager.scatter()
                future, _ = self.submit(*inputs)
        future.release()
        return result
