"""One network per group of cells (``predict_interactions(..., groupby=...)``)."""

from __future__ import annotations

import numpy as np
import pandas as pd
from anndata import AnnData
from scanpy import logging as logg

from .._data import ExpressionView
from .._engine._source import subset_rows
from .._validate import check_groupby_column, check_groups_list

#: Fewest cells a group needs to be scored at all (a correlation needs 3).
MIN_GROUP_CELLS = 3


def subset_view(view: ExpressionView, rows: np.ndarray) -> ExpressionView:
    """The view restricted to the cells at positions ``rows`` (sorted)."""
    return ExpressionView(subset_rows(view.matrix, rows), view.var_names, view.label)


def group_rows(adata: AnnData, groupby: str, groups, min_cells: int) -> dict[str, np.ndarray]:
    """Positions of the cells of each group scored (categories in their order), checked.

    Groups with fewer than ``max(min_cells, MIN_GROUP_CELLS)`` cells are not scored (logged).
    """
    if groupby not in adata.obs.columns:
        categorical = [c for c in adata.obs.columns if isinstance(adata.obs[c].dtype, pd.CategoricalDtype)]
        raise KeyError(
            f"groupby={groupby!r} is not a column of adata.obs; categorical columns: {categorical or 'none'}: pass "
            "one of them (or add one, e.g. clusters from sc.tl.leiden)."
        )
    column = adata.obs[groupby]
    check_groupby_column(column, groupby)
    if not isinstance(column.dtype, pd.CategoricalDtype):
        column = column.astype("category")
    labels = column.astype(str).to_numpy()
    categories = [str(c) for c in column.cat.categories]
    groups = check_groups_list(groups)
    if groups is not None:
        unknown = [g for g in groups if g not in categories]
        if unknown:
            raise ValueError(
                f"groups {unknown} are not categories of adata.obs[{groupby!r}]: {categories}; pass some of those."
            )
        categories = [c for c in categories if c in set(groups)]
    rows = {c: np.flatnonzero(labels == c) for c in categories}
    return _large_enough(rows, groupby, min_cells)


def _large_enough(rows: dict[str, np.ndarray], groupby: str, min_cells: int) -> dict[str, np.ndarray]:
    """The groups with enough cells to be scored; the others are logged, and none left is refused."""
    needed = max(int(min_cells), MIN_GROUP_CELLS)
    small = {g: len(r) for g, r in rows.items() if len(r) < needed}
    if small:
        logg.warning(f"groups with fewer than {needed} cells are not scored: {small} (lower min_cells to score them).")
    rows = {g: r for g, r in rows.items() if g not in small}
    if not rows:
        largest = max(small.values(), default=0)
        fix = f"lower min_cells to at most {largest}" if largest >= MIN_GROUP_CELLS else "use coarser groups"
        raise ValueError(
            f"No group of adata.obs[{groupby!r}] has {needed} cells or more (the largest has {largest}); nothing to "
            f"score: {fix}."
        )
    return rows


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
