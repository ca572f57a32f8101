"""What the causal tools share: a direction model that reads any values, and the measured values they score.

``causal_scores`` (every pair) and ``causal_network`` (a graph) take the same model and the same variables, so
they check them one way, with errors that name the calling function.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from anndata import AnnData
from scipy import sparse

from .._checks import check_cells
from .._data import expression_view, resolve_genes
from ..models import Model
from ._predict import _resolve_model

DIRECTION_CLASSES = ["none", "a->b", "b->a"]


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
            raise TypeError("variables must be a list of variable names, not one string.")
        idx = resolve_genes(names, list(variables))
        if len(np.unique(idx)) < len(idx):
            raise ValueError("variables names a variable more than once.")
    if len(idx) < 3:
        raise ValueError(f"{function} needs at least 3 variables ({why_three}), got {len(idx)}.")
    if len(idx) > max_variables:
        raise ValueError(f"{len(idx):,} variables is more than the {max_variables} {max_hint}")
    matrix = view.matrix[:, idx]
    values = (matrix.toarray() if sparse.issparse(matrix) else np.asarray(matrix)).astype(np.float64)
    if not np.isfinite(values).all():
        raise ValueError("The values hold NaN or infinite entries: impute or drop them first.")
    check_cells(values.shape[0])
    if values.shape[0] <= len(idx):
        raise ValueError(
            f"{values.shape[0]} cells for {len(idx)} variables: partial correlations need more cells than variables."
        )
    return np.asarray(names[idx], dtype=object), values
