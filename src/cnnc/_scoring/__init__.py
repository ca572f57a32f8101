"""Score gene pairs with a model: the one door, whether the cells are in this process or on a dask cluster.

Make an imager for the genes involved (:func:`make_imager`: in process, or on the workers of an active
dask.distributed client), then score pairs with it (:func:`score_pairs`); the batching, the progress bar, the extra
features and the blank images of a model that does not read them are the same both ways (:mod:`._batch`).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from .._distributed import cluster_client
from .._engine._images import PairImager
from .._engine._params import PairImageParams
from .._engine._threads import jobs
from .._utils import package_version
from ._batch import ExtraFeatures, predict_both_ways, run_batches, symmetrize
from ._cluster import ClusterImager, OnCluster
from ._local import InProcess

__all__ = [
    "ClusterImager",
    "Imager",
    "cluster_client",
    "edge_probabilities",
    "make_imager",
    "predict_both_ways",
    "prediction_params",
    "score_pairs",
    "symmetrize",
]

#: What turns pairs of genes into pair images: in this process, or on a cluster's workers.
Imager = PairImager | ClusterImager


def make_imager(
    matrix,
    genes: np.ndarray,
    params: PairImageParams | None = None,
    *,
    client=None,
    gene_names: list[str] | None = None,
    chunk_cells: int | None = None,
) -> Imager:
    """An imager of columns ``genes`` of ``matrix``: on the cluster of ``client`` (see :func:`cluster_client`), else here.

    ``chunk_cells`` bounds the cells read at a time in process; on a cluster the dask chunks do.
    """
    if client is not None:
        return ClusterImager(client, matrix, genes, params or PairImageParams(), gene_names=gene_names)
    return PairImager(matrix, genes, params, gene_names=gene_names, chunk_cells=chunk_cells)


def score_pairs(
    imager: Imager,
    a: np.ndarray,
    b: np.ndarray,
    model,
    *,
    batch_size: int = 1024,
    device=None,
    symmetric: bool = True,
    progress: bool = True,
    extra: ExtraFeatures | None = None,
    precision: str = "float32",
    on_batch: Callable[[int], None] | None = None,
) -> np.ndarray:
    """Class probabilities ``(n_pairs, n_classes)`` of pairs (positions among the imager's genes).

    ``extra(a, b)`` returns the model's extra per-pair features of a batch, when it has any. ``device`` is used in
    process; on a cluster each worker picks its own. ``on_batch(k)`` is called after the ``k``-th batch's
    probabilities arrived.
    """
    a = np.asarray(a, dtype=np.int64)
    b = np.asarray(b, dtype=np.int64)
    if isinstance(imager, ClusterImager):
        runner = OnCluster(imager, model, symmetric=symmetric, batch_size=batch_size, precision=precision)
    else:
        runner = InProcess(
            imager, model, symmetric=symmetric, batch_size=batch_size, device=device, precision=precision
        )
    with jobs():  # torch and the kernels on sc.settings.n_jobs threads
        return run_batches(
            runner,
            a,
            b,
            n_classes=model.n_classes,
            batch_size=batch_size,
            symmetric=symmetric,
            extra=extra,
            progress=progress,
            on_batch=on_batch,
        )


def edge_probabilities(proba: np.ndarray, model) -> dict[str, np.ndarray]:
    """The ``p_none``, ``p_ab``, ``p_ba`` and ``score`` columns of an edge table, from a model's probabilities.

    A direction model gives all three classes and ranks by ``p_ab`` or ``p_ab + p_ba`` (``spec.edge_score``); an
    interaction model gives the probability of an interaction, ``p_ab``: then ``p_none = 1 - p_ab`` and ``p_ba``
    is NaN.
    """
    if model.spec.task == "direction":
        p_none, p_ab, p_ba = proba[:, 0], proba[:, 1], proba[:, 2]
        score = p_ab if model.spec.edge_score == "p_ab" else p_ab + p_ba
    else:
        p_ab = proba[:, -1]
        p_none = 1 - p_ab
        p_ba = np.full(len(proba), np.nan, dtype=np.float32)
        score = p_ab
    return {"p_none": p_none, "p_ab": p_ab, "p_ba": p_ba, "score": score}


def prediction_params(model, *, symmetric: bool, precision: str, layer: str | None, **more) -> dict:
    """What a prediction records in ``uns[key]["params"]``: the model, its recipe, the reading; ``more`` appended."""
    return {
        "model": model.name,
        "model_sha256": model.sha256 or "",
        "task": model.spec.task,
        "classes": list(model.spec.classes),
        "image": model.spec.image,
        "symmetric": bool(symmetric),
        "precision": precision,
        "layer": layer or "",
        **more,
        "cnnc_version": package_version(),
    }
