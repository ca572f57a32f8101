"""One network per group of cells (``predict_interactions(..., groupby=...)``), scored one group after the other.

The groups are read from the data, and checked, by :mod:`cnnc._groupby`.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scanpy import logging as logg

from .._data import ExpressionView
from .._engine._source import subset_rows


def subset_view(view: ExpressionView, rows: np.ndarray) -> ExpressionView:
    """The view restricted to the cells at positions ``rows`` (sorted)."""
    return ExpressionView(subset_rows(view.matrix, rows), view.var_names, view.label)


def predict_groups(view: ExpressionView, rows: dict[str, np.ndarray], a, b, run, groupby: str):
    """Score the pairs in each group (its cells ``rows[group]``) with ``run(view, a, b)``.

    Returns one long edge table with a ``group`` column, and per group its cells and pairs scored.
    """
    tables, cells, scored = [], [], []
    for group, r in rows.items():
        logg.info(f"group {group!r} of {groupby!r}: {len(r):,} cells")
        edges, n_scored, n_cells = run(subset_view(view, r), a, b)
        tables.append(edges.assign(group=group))
        cells.append(n_cells)
        scored.append(n_scored)
    edges = pd.concat(tables, ignore_index=True)
    edges["group"] = pd.Categorical(edges["group"], categories=list(rows))
    edges = edges[["group", *[c for c in edges.columns if c != "group"]]]
    edges.index = edges.index.astype(str)
    per_group = {"group": list(rows), "n_cells": cells, "n_pairs": scored}
    return edges, per_group
