"""Input checks shared by prediction and training: is this log-normalized expression."""

from __future__ import annotations

import numpy as np

from ._engine._source import ExpressionSource


def refuse_raw_counts(matrix, genes: np.ndarray, *, max_cells: int = 5_000, what: str = "the data") -> None:
    """Raise when the values look like raw counts, which models trained on log data would misread.

    Raw UMI counts are integers with a long tail (maxima in the hundreds); log-normalized values
    are not integers. The check reads only the first ``max_cells`` cells.
    """
    source = ExpressionSource(matrix, chunk_cells=max_cells)
    _, block = next(source.iter_blocks(genes))
    data = block.data
    if data.size == 0:
        return
    if np.all(data == np.round(data)) and data.max() > 30:
        raise ValueError(
            f"{what} look like raw counts (all values are integers, up to {data.max():g}). cnnc models read "
            "log-normalized expression: run `sc.pp.normalize_total(adata)` and `sc.pp.log1p(adata)` first, "
            "or pass the layer that holds log values with `layer=`."
        )
