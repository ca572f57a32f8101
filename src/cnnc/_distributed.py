"""Run cnnc's work on the workers of a dask.distributed cluster.

When a :class:`distributed.Client` is active and the expression is a dask array, everything that reads cells runs
where the cell chunks are: each worker scans, bins and counts its own chunks; only small objects move. Per chunk: the
genes' ranges (a few KB), its bin codes (kept on the worker that made them), its share of the Gram matrix for the
context features; per batch of pairs: each chunk's partial joint counts (``batch × bins × bins`` int32), summed in a
tree on the workers, then turned into images and read by the model on a worker, which returns only the
probabilities. The model is sent to every worker once. All tasks are pure functions of their inputs, so a worker lost
mid-run costs only a recomputation: the scheduler redoes its tasks from the chunks' lineage.

dask.distributed is optional (``pip install 'cnnc[dask]'``); without it, or without an active client, nothing here
runs and the work stays in the calling process.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable

import numpy as np
from scanpy import logging as logg
from scanpy import settings
from tqdm.auto import tqdm

from ._engine._binning import GeneBinner, scan_block
from ._engine._kernel import _lookup_transposed, accumulate_block
from ._engine._params import PairImageParams
from ._engine._source import ExpressionSource, is_dask_array, value_dtype
from ._engine._transform import count_lookup
from ._features import ContextStatistics, GramSums, check_context_genes, needs_scaled
from ._scoring import pair_batches, predict_both_ways, reads_images

__all__ = ["ClusterImager", "cluster_client", "cluster_context_statistics", "score_pairs_on_cluster"]

#: Pairs per batch when images are counted on the cluster: each chunk's partial counts are 16 MiB at 32 bins.
CLUSTER_IMAGE_BATCH = 4096
#: Pairs per batch when the model reads features only.
CLUSTER_FEATURE_BATCH = 65_536
#: Batches in flight at once (bounds the workers' memory, keeps them busy).
IN_FLIGHT = 2
#: Partial results summed per task in the tree reduction.
FAN_IN = 8

#: Called with the batch number after each batch's result arrived (tests use it to stop a worker mid-run).
_after_batch: Callable[[int], None] | None = None


def cluster_client(matrix, distributed: bool | None):
    """The dask.distributed client to run on, or None to run in this process.

    ``distributed=None`` uses the cluster when a client is active and ``matrix`` is a dask array;
    ``True`` requires both; ``False`` never uses a cluster.
    """
    if distributed is False:
        return None
    client = None
    try:
        from distributed import default_client
    except ImportError:
        if distributed:
            raise ImportError(
                "distributed=True needs dask.distributed: pip install 'cnnc[dask]', then start a Client."
            ) from None
        return None
    try:
        client = default_client()
    except ValueError:
        if distributed:
            raise ValueError(
                "distributed=True but no dask.distributed Client is active: start one with "
                "`from distributed import Client; client = Client(...)`."
            ) from None
        return None
    if not is_dask_array(matrix):
        if distributed:
            raise ValueError(
                "distributed=True needs the expression as a dask array (e.g. X from "
                "anndata.experimental.read_elem_lazy), so workers can read their own cell chunks; "
                f"got {type(matrix).__name__}."
            )
        return None
    return client


# --- tasks run on the workers (module-level functions: workers import them) ---------------------------------


def _csc(chunk, genes: np.ndarray):
    source = ExpressionSource(chunk, chunk_cells=max(1, int(chunk.shape[0])))
    return next(source.iter_blocks(genes))[1]


def _scan_task(chunk, genes, gene_names):
    return scan_block(_csc(chunk, genes), gene_names)


def _bin_task(chunk, genes, binner: GeneBinner, first: int):
    return binner.bin_block(first, _csc(chunk, genes))


def _gram_task(chunk, n_genes: int, scaled: bool):
    sums = GramSums.zeros(n_genes, scaled=scaled)
    sums.add(_csc(chunk, np.arange(n_genes)))
    return sums


def _codes_task(block):
    return np.ascontiguousarray(block.codes.T)


def _add(*parts):
    first = parts[0]
    if isinstance(first, tuple):
        return tuple(sum(p[i] for p in parts) for i in range(len(first)))
    if isinstance(first, GramSums):
        out = first
        for p in parts[1:]:
            out = out + p
        return out
    out = first.copy()
    for p in parts[1:]:
        out += p
    return out


def _counts_task(block, binner: GeneBinner, a: np.ndarray, b: np.ndarray):
    bins = binner.params.bins
    out = np.zeros((len(a), bins, bins), dtype=np.int32)
    accumulate_block(block, binner.zero_code, a, b, out)
    return out


def _score_task(counts, model, lookup, side, n, extra_ab, extra_ba, symmetric, forward_batch, precision):
    if counts is None:  # the model reads its features only
        images = np.zeros((n, side, side), dtype=np.float32)
    else:
        images = np.empty(counts.shape, dtype=np.float32)
        _lookup_transposed(counts, lookup, images)
    return predict_both_ways(
        model, images, extra_ab, extra_ba, symmetric=symmetric, batch_size=forward_batch, precision=precision
    )


# --- the driver side ------------------------------------------------------------------------------------------


def _row_chunks(matrix):
    """``(first_cell, delayed chunk)`` of every non-empty chunk of cells (all genes in one chunk)."""
    if len(matrix.chunks[1]) > 1:
        matrix = matrix.rechunk({1: -1})
    firsts = np.concatenate([[0], np.cumsum(matrix.chunks[0])[:-1]]).astype(int)
    parts = matrix.to_delayed()[:, 0]
    return [(int(f), d) for f, d, size in zip(firsts, parts, matrix.chunks[0], strict=True) if size > 0]


def _tree_sum(client, futures: list):
    while len(futures) > 1:
        groups = [futures[i : i + FAN_IN] for i in range(0, len(futures), FAN_IN)]
        futures = [client.submit(_add, *g, pure=False) if len(g) > 1 else g[0] for g in groups]
    return futures[0]


class ClusterImager:
    """The bin codes of a dask array's genes, computed and kept on the cluster's workers, chunk by chunk.

    Has the attributes of :class:`cnnc._engine._images.PairImager` that scoring uses (``n_cells``, ``params``,
    ``binner``).
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
        chunks = _row_chunks(matrix)
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
        self.binner_future = client.scatter(self.binner, broadcast=True)
        self._chunks, self._genes = chunks, genes
        self._blocks = None
        self._firsts = [f for f, _ in chunks]
        self.lookup = count_lookup(params, self.n_cells)
        self.lookup_future = client.scatter(self.lookup, broadcast=True)  # one float per possible count
        logg.debug(f"    binning {len(genes)} genes in {len(chunks)} cell chunks on the cluster's workers")

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
        return _tree_sum(self.client, parts)

    def counts(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        return self.counts_future(np.asarray(a, dtype=np.int64), np.asarray(b, dtype=np.int64)).result()

    def codes(self) -> np.ndarray:
        """Every cell's bin code (``n_cells × n_genes`` uint8), gathered from the workers chunk by chunk."""
        out = np.empty((self.n_cells, len(self.binner.genes)), dtype=np.uint8)
        for block, first in zip(self.blocks, self._firsts, strict=True):
            part = self.client.submit(_codes_task, block, pure=False).result()
            out[first : first + len(part)] = part
        return out

    def images(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        counts = self.counts(a, b)
        out = np.empty(counts.shape, dtype=np.float32)
        _lookup_transposed(counts, self.lookup, out)
        return out


def cluster_context_statistics(client, matrix, *, features=("z_context",)) -> ContextStatistics:
    """:class:`cnnc._features.ContextStatistics` of a dask array, its Gram matrix reduced on the workers."""
    import dask

    n = int(matrix.shape[1])
    check_context_genes(n)
    scaled = needs_scaled(features)
    parts = client.compute([dask.delayed(_gram_task)(c, n, scaled) for _, c in _row_chunks(matrix)])
    return ContextStatistics.from_gram_sums(_tree_sum(client, parts).result(), features=features)


def score_pairs_on_cluster(
    imager: ClusterImager,
    a: np.ndarray,
    b: np.ndarray,
    model,
    *,
    batch_size: int = 1024,
    symmetric: bool = True,
    extra=None,
    precision: str = "float32",
    progress: bool = True,
) -> np.ndarray:
    """As :func:`cnnc._scoring.score_pairs`, with counting and the model on the cluster's workers."""
    client = imager.client
    a = np.asarray(a, dtype=np.int64)
    b = np.asarray(b, dtype=np.int64)
    arch = model.spec.architecture
    needs_images = reads_images(model)
    side = arch["image_size"]
    out = np.empty((len(a), arch["n_classes"]), dtype=np.float32)
    model_future = client.scatter(model, broadcast=True)  # weights go to each worker once
    step = max(batch_size, CLUSTER_IMAGE_BATCH if needs_images else CLUSTER_FEATURE_BATCH)
    bar = tqdm(
        total=len(a), desc="scoring pairs", unit="pair", unit_scale=True, disable=not progress or settings.verbosity < 2
    )
    pending: deque = deque()
    done = 0

    def submit(ab, bb):
        counts = imager.counts_future(ab, bb) if needs_images else None
        return client.submit(
            _score_task,
            counts,
            model_future,
            imager.lookup_future,
            side,
            len(ab),
            None if extra is None else extra(ab, bb),
            None if extra is None or not symmetric else extra(bb, ab),
            symmetric,
            batch_size,
            precision,
            pure=False,
        )

    def collect():
        nonlocal done, model_future
        start, ab, bb, future = pending.popleft()
        try:
            result = future.result()
        except Exception as error:  # only a cancelled batch is retried (FutureCancelledError); the rest re-raised
            if "Cancelled" not in type(error).__name__:
                raise
            # a worker was lost while its result was being forgotten: send the inputs again and score the batch again
            logg.warning(f"a batch of pairs was lost with a worker ({type(error).__name__}); scoring it again")
            model_future = client.scatter(model, broadcast=True)
            imager.lookup_future = client.scatter(imager.lookup, broadcast=True)
            imager.binner_future = client.scatter(imager.binner, broadcast=True)
            future = submit(ab, bb)
            result = future.result()
        out[start : start + len(ab)] = result
        future.release()
        bar.update(len(ab))
        if _after_batch is not None:
            _after_batch(done)
        done += 1

    for start, ab, bb in pair_batches(a, b, step):
        pending.append((start, ab, bb, submit(ab, bb)))
        while len(pending) >= IN_FLIGHT:
            collect()
    while pending:
        collect()
    bar.close()
    return out
