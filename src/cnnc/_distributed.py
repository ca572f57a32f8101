"""Run cnnc's work on the workers of a dask.distributed cluster.

When a :class:`distributed.Client` is active and the expression is a dask array, everything that reads cells runs
where the cell chunks are: each worker scans, bins and counts its own chunks; only small objects move. Per chunk: the
genes' ranges (a few KB), its bin codes (kept on the worker that made them), its share of the Gram matrix for the
context prior (:mod:`cnnc._prior`); per batch of pairs: each chunk's partial joint counts (``batch × bins × bins`` int32), summed in a
tree on the workers, then turned into images and read by the model on a worker, which returns only the
probabilities (:mod:`cnnc._scoring._cluster`). The model is sent to every worker once. All tasks are pure functions of their inputs, so a worker lost
mid-run costs only a recomputation: the scheduler redoes its tasks from the chunks' lineage.

dask.distributed is optional (``pip install -e '.[dask]'`` in cnnc's repository); without it, or without an active client, nothing here
runs and the work stays in the calling process.
"""

from __future__ import annotations

import numpy as np

from ._engine._source import ExpressionSource, is_dask_array

__all__ = ["chunk_columns", "cluster_client", "row_chunks", "tree_sum"]

#: Partial results summed per task in the tree reduction.
FAN_IN = 8


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
                "distributed=True needs dask.distributed: pip install 'dask[array,distributed]' (or -e '.[dask]' in cnnc's repository), then start a Client."
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


def chunk_columns(chunk, genes: np.ndarray):
    """The CSC block of columns ``genes`` of one chunk of cells (run on the worker that holds the chunk)."""
    source = ExpressionSource(chunk, chunk_cells=max(1, int(chunk.shape[0])))
    return next(source.iter_blocks(genes))[1]


def _add(*parts):
    first = parts[0]
    if isinstance(first, tuple):
        return tuple(sum(p[i] for p in parts) for i in range(len(first)))
    if not isinstance(first, np.ndarray):  # e.g. Gram sums, which add with +
        out = first
        for p in parts[1:]:
            out = out + p
        return out
    out = first.copy()
    for p in parts[1:]:
        out += p
    return out


# --- the driver side ------------------------------------------------------------------------------------------


def row_chunks(matrix):
    """``(first_cell, delayed chunk)`` of every non-empty chunk of cells (all genes in one chunk)."""
    if len(matrix.chunks[1]) > 1:
        matrix = matrix.rechunk({1: -1})
    firsts = np.concatenate([[0], np.cumsum(matrix.chunks[0])[:-1]]).astype(int)
    parts = matrix.to_delayed()[:, 0]
    return [(int(f), d) for f, d, size in zip(firsts, parts, matrix.chunks[0], strict=True) if size > 0]


def tree_sum(client, futures: list):
    """A future of the sum of ``futures`` (arrays, tuples of arrays or Gram sums), added in a tree on the workers."""
    while len(futures) > 1:
        groups = [futures[i : i + FAN_IN] for i in range(0, len(futures), FAN_IN)]
        futures = [client.submit(_add, *g, pure=False) if len(g) > 1 else g[0] for g in groups]
    return futures[0]
