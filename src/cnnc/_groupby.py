"""The groups of cells of a ``groupby`` prediction, read from ``adata.obs`` and checked before any work.

Like the perturbation design (:mod:`cnnc._interventions`) and the cells' times (:mod:`cnnc._time`), the groups
are read once, when the prediction's inputs are prepared; :mod:`cnnc.tl._groups` scores them.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from anndata import AnnData
from scanpy import logging as logg

from ._validate import check_groups_list

#: Fewest cells a group needs to be scored at all (a correlation needs 3).
MIN_GROUP_CELLS = 3


def check_groupby_column(column: pd.Series, groupby: str) -> None:
    """Refuse an ``adata.obs`` column that does not split the cells into groups (continuous values)."""
    if isinstance(column.dtype, pd.CategoricalDtype) or pd.api.types.is_bool_dtype(column.dtype):
        return
    values = column.dropna()
    continuous = pd.api.types.is_float_dtype(values.dtype) and not np.all(np.mod(values.to_numpy(), 1) == 0)
    many = values.nunique() > max(50, len(values) // 3)
    if continuous or many:
        raise ValueError(
            f"adata.obs[{groupby!r}] holds {values.nunique():,} distinct {'continuous ' if continuous else ''}values "
            f"for {len(values):,} cells: it does not split the cells into groups. Pass a categorical column (e.g. "
            f"clusters from sc.tl.leiden, or pd.cut(adata.obs[{groupby!r}], bins=4))."
        )


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
