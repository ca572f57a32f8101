"""One network per group of cells (``predict_interactions(..., groupby=...)``)."""

from __future__ import annotations

import numpy as np
import pandas as pd
from anndata import AnnData
from scanpy import logging as logg

from .._data import ExpressionView
from .._engine._source import subset_rows
from .._validate import check_groupby_column, check_groups_list, group_varp_keys, previous_matrices

#: Fewest cells a group needs to be scored at all (a correlation needs 3).
MIN_GROUP_CELLS = 3


def subset_view(view: ExpressionView, rows: np.ndarray) -> ExpressionView:
    """The view restricted to the cells at positions ``rows`` (sorted)."""
    return ExpressionView(subset_rows(view.matrix, rows), view.var_names, view.label)


def group_rows(adata: AnnData, groupby: str, groups) -> dict[str, np.ndarray]:
    """Positions of the cells of each group (categories in their order), checked."""
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
    return {c: np.flatnonzero(labels == c) for c in categories}


def predict_groups(adata: AnnData, view: ExpressionView, a, b, run, groupby: str, groups, min_cells: int, key_added):
    """Score the pairs in each group with ``run(view, a, b)``; one long edge table with a ``group`` column."""
    rows = group_rows(adata, groupby, groups)
    if view.matrix.shape[0] != adata.n_obs:  # pragma: no cover - raw and layers share adata's cells
        raise ValueError("The expression does not have one row per cell of adata.obs.")
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
    varp_keys = group_varp_keys(adata, key_added, list(rows), previous_matrices(adata, key_added))
    tables, keys, cells, scored = [], [], [], []
    for group, r in rows.items():
        logg.info(f"group {group!r} of {groupby!r}: {len(r):,} cells")
        edges, n_scored, n_cells = run(subset_view(view, r), a, b)
        tables.append(edges.assign(group=group))
        keys.append(varp_keys[len(keys)])
        cells.append(n_cells)
        scored.append(n_scored)
    edges = pd.concat(tables, ignore_index=True)
    edges["group"] = pd.Categorical(edges["group"], categories=list(rows))
    edges = edges[["group", *[c for c in edges.columns if c != "group"]]]
    edges.index = edges.index.astype(str)
    per_group = {"group": list(rows), "n_cells": cells, "n_pairs": scored}
    return edges, keys, per_group
