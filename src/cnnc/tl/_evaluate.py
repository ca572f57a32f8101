"""Evaluate a predicted network against a ground truth (AUROC, AUPRC, early precision)."""

from __future__ import annotations

from collections.abc import Sequence
from os import PathLike

import numpy as np
import pandas as pd
from anndata import AnnData
from scanpy import logging as logg

from .._docs import doc_pair_table, doc_params
from .._metrics import summarize
from .._tables import labelled_candidates, predicted_edges, read_ground_truth

METRIC_COLUMNS = ("n_pairs", "n_positive", "positive_rate", "auroc", "auprc", "auprc_ratio", "epr")


@doc_params(doc_pair_table=doc_pair_table)
def evaluate(
    adata: AnnData,
    ground_truth: pd.DataFrame | Sequence[tuple[str, str]] | str | PathLike,
    *,
    key: str = "cnnc",
    per_regulator: bool = True,
    directed: bool = True,
    key_added: str | None = None,
) -> pd.DataFrame:
    """Score a predicted network against known regulatory edges.

    The candidates are the scored pairs in ``adata.uns[key]['edges']`` whose regulator is a
    regulator in the ground truth (as BEELINE evaluates TF → gene edges), without self pairs. A
    candidate is a true edge if (regulator, target) is in the ground truth. Gene names are
    compared case-insensitively. Ground-truth edges that are not among the candidates (genes not
    in ``adata`` or pairs that were not scored) are left out of the metrics and counted in
    ``n_truth_not_scored``.

    Parameters
    ----------
    adata
        Annotated data matrix with the output of :func:`cnnc.tl.predict_interactions`.
    ground_truth
        Known edges (e.g. the path of BEELINE's ``BL--network.csv``). {doc_pair_table}
    key
        The key of :attr:`~anndata.AnnData.uns` that holds the predicted edges.
    per_regulator
        Also evaluate each regulator's pairs alone (regulators with at least one true and one
        false candidate).
    directed
        If ``False``, a candidate (a, b) is also a true edge when (b, a) is in the ground truth.
    key_added
        Name under ``adata.uns[key]`` for the result; default ``"evaluation"``.

    Returns
    -------
    A DataFrame indexed by ``"all"`` and, if ``per_regulator``, by regulator, with the columns
    ``n_pairs``, ``n_positive``, ``positive_rate`` (the precision of a random ranking),
    ``auroc``, ``auprc``, ``auprc_ratio`` (``auprc / positive_rate``) and ``epr`` (BEELINE's early
    precision ratio, precision among the top ``n_positive`` pairs over the positive rate).

    Sets the following fields (``name = key_added or "evaluation"``):

    ``adata.uns[key][name]`` : :class:`dict`
        ``metrics`` (the returned DataFrame), ``params`` (``directed``, ``per_regulator``),
        ``n_truth_edges`` (distinct ground-truth edges without self edges) and
        ``n_truth_not_scored`` (those that are not among the candidates).
    ``adata.uns[key][name + "_curves"]`` : :class:`dict`
        ``y_true`` (bool) and ``score`` of the candidates, for :func:`cnnc.pl.roc` and :func:`cnnc.pl.pr`.

    Examples
    --------
    >>> import cnnc
    >>> cnnc.tl.predict_interactions(adata)  # doctest: +SKIP
    >>> cnnc.tl.evaluate(adata, "BL--network.csv")  # doctest: +SKIP
    >>> cnnc.pl.pr(adata)  # doctest: +SKIP
    """
    start = logg.info("evaluating predicted edges against the ground truth")
    edges = predicted_edges(adata, key)
    truth = read_ground_truth(ground_truth)
    candidates, truth_scored = labelled_candidates(edges, truth, directed=directed, key=key)
    y_true = candidates["label"].to_numpy()
    score = candidates["score"].to_numpy()
    if y_true.all():
        raise ValueError("Every candidate pair is a ground-truth edge: there are no negatives to rank against.")

    n_not_scored = int((~truth_scored).sum())
    if n_not_scored:
        var_lower = set(adata.var_names.str.lower())
        n_missing_gene = int((~(truth["regulator"].isin(var_lower) & truth["target"].isin(var_lower))).sum())
        logg.warning(
            f"{n_not_scored} of {len(truth)} ground-truth edges are not among the scored candidates "
            f"({n_missing_gene} involve genes not in adata.var_names); they are left out of the metrics."
        )

    rows = {"all": summarize(y_true, score)}
    if per_regulator:
        for regulator, group in candidates.groupby("regulator", sort=True):
            y = group["label"].to_numpy()
            if y.any() and not y.all() and regulator != "all":
                rows[regulator] = summarize(y, group["score"].to_numpy())
    metrics = pd.DataFrame.from_dict(rows, orient="index")[list(METRIC_COLUMNS)]
    metrics.index.name = "regulator"

    name = "evaluation" if key_added is None else key_added
    adata.uns[key][name] = {
        "metrics": metrics,
        "params": {"directed": bool(directed), "per_regulator": bool(per_regulator)},
        "n_truth_edges": len(truth),
        "n_truth_not_scored": n_not_scored,
    }
    adata.uns[key][f"{name}_curves"] = {"y_true": y_true.astype(bool), "score": score.astype(np.float64)}
    all_ = metrics.loc["all"]
    logg.info(
        f"    AUROC {all_['auroc']:.3f}, AUPRC ratio {all_['auprc_ratio']:.2f}, EPR {all_['epr']:.2f} "
        f"over {int(all_['n_pairs'])} pairs ({int(all_['n_positive'])} true)",
        time=start,
        deep=f"added adata.uns[{key!r}][{name!r}] and adata.uns[{key!r}][{name + '_curves'!r}]",
    )
    return metrics
