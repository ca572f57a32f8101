"""What the causal tools share: a direction model that reads any values, and the measured values they score.

``causal_scores`` (every pair) and ``causal_network`` (a graph) take the same model and the same variables, so
they check them one way, with errors that name the calling function.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
from anndata import AnnData
from scipy import sparse

from .._checks import check_cells
from .._data import expression_view, resolve_genes
from .._validate import refuse_huge
from ..models import Model
from ._predict import _resolve_model

DIRECTION_CLASSES = ["none", "a->b", "b->a"]


def check_anndata(adata, function: str) -> None:
    """The causal tools read one AnnData: a MuData is refused with the modality to pass."""
    if type(adata).__name__ == "MuData":
        raise TypeError(
            f"{function} reads one AnnData; this is a MuData: pass a modality, e.g. "
            f"{function}(mdata.mod[{next(iter(adata.mod), 'prot')!r}])."
        )
    if not isinstance(adata, AnnData):
        raise TypeError(f"{function} expects an AnnData (cells × variables), got {type(adata).__name__}.")


def direction_model(model, function: str) -> Model:
    """The model (registry name, file or :class:`~cnnc.models.Model`), checked to orient pairs of any values."""
    mdl = _resolve_model(model)
    if mdl.spec.task != "direction" or list(mdl.spec.classes) != DIRECTION_CLASSES:
        raise ValueError(
            f"{function} needs a direction model with classes {DIRECTION_CLASSES}, such as 'cnnc-causal'; "
            f"model {mdl.name!r} has task {mdl.spec.task!r} and classes {list(mdl.spec.classes)}."
        )
    if mdl.spec.image_params.scaling not in ("rank", "standard", "rank+standard") or mdl.spec.features:
        raise ValueError(
            f"Model {mdl.name!r} reads log-expression or extra features; {function} takes any measured values "
            "and needs a model whose pair images bin ranks or z-scores without extra features, e.g. 'cnnc-causal'."
        )
    return mdl


def measured_values(
    adata: AnnData,
    variables: Sequence[str] | None,
    *,
    layer: str | None,
    use_raw: bool | None,
    function: str,
    max_variables: int,
    why_three: str,
    max_hint: str,
) -> tuple[np.ndarray, np.ndarray]:
    """``(names, values)``: the chosen variables' names and their cells × variables float64 values.

    Refuses a single string, repeated or unknown names, fewer than 3 or more than ``max_variables`` variables
    (``why_three`` and ``max_hint`` finish those messages), NaN or infinite values, too few cells, and no more cells
    than variables (partial correlations need more).
    """
    view = expression_view(adata, layer=layer, use_raw=use_raw)
    names = view.var_names
    if variables is None:
        idx = np.arange(len(names))
    else:
        if isinstance(variables, str):
            raise TypeError(
                f"variables must be a list of variable names, not one string: pass variables=[{variables!r}, ...]."
            )
        idx = resolve_genes(names, list(variables))
        if len(np.unique(idx)) < len(idx):
            repeated = names[idx[pd.Index(idx).duplicated()]].unique().tolist()
            raise ValueError(f"variables names {repeated} more than once: list each variable once.")
    if len(idx) < 3:
        raise ValueError(
            f"{function} needs at least 3 variables ({why_three}), got {len(idx)}: pass variables=[...] with 3 or "
            "more names."
        )
    if len(idx) > max_variables:
        raise ValueError(f"{len(idx):,} variables is more than the {max_variables} {max_hint}")
    matrix = view.matrix
    if np.dtype(getattr(matrix, "dtype", np.float64)) == np.bool_:
        raise TypeError(
            f"The values in {view.label} are boolean (True/False): {function} reads measured values. Pass numbers "
            "(e.g. a layer of intensities or expression, layer=...)."
        )
    # backed (h5py) matrices are read by increasing column: read the columns sorted, then put them in order
    order, position = np.unique(idx, return_inverse=True)
    block = matrix[:, order]
    values = (block.toarray() if sparse.issparse(block) else np.asarray(block)).astype(np.float64)[:, position]
    check_cells(values.shape[0], what=f"{view.label} of the data")
    if not np.isfinite(values).all():
        bad = names[idx][~np.isfinite(values).all(axis=0)].tolist()
        raise ValueError(
            f"The values of {bad[:5]} hold NaN or infinite entries: impute or drop them (or those cells) first."
        )
    refuse_huge(values, f"The values in {view.label}")
    if values.shape[0] <= len(idx):
        raise ValueError(
            f"{values.shape[0]} cells for {len(idx)} variables: partial correlations need more cells than variables. "
            "Pass fewer variables (variables=[...]) or more cells."
        )
    labels = np.asarray(names[idx], dtype=object)
    refuse_identical(values, labels)
    return labels, values


def refuse_identical(values: np.ndarray, labels: np.ndarray) -> None:
    """Refuse two variables that are the same up to scale and shift (correlation ±1): nothing tells them apart.

    Their partial correlation given the others is undefined (the correlation matrix is singular), and no image
    can say which drives the other.
    """
    varying = values.std(axis=0) > 0
    if varying.sum() < 2:
        return
    corr = np.corrcoef(values[:, varying].T)
    np.fill_diagonal(corr, 0.0)
    i, j = np.nonzero(np.triu(np.abs(corr) > 1 - 1e-10, 1))
    if len(i):
        names = labels[varying]
        shown = ", ".join(f"{names[a]!r} and {names[b]!r}" for a, b in zip(i[:3], j[:3], strict=True))
        raise ValueError(
            f"Variables {shown} are identical up to scale and sign (correlation ±1): their partial correlation "
            "is undefined and nothing tells which drives the other. Keep one of each such pair (variables=[...])."
        )
