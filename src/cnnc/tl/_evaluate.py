"""Evaluate a predicted network against a ground truth (AUROC, AUPRC, early precision)."""

from __future__ import annotations

from collections.abc import Sequence
from os import PathLike
from pathlib import Path

import numpy as np
import pandas as pd
from anndata import AnnData
from scanpy import logging as logg

from cnnc._metrics import summarize

#: Accepted (regulator, target) column pairs of a ground-truth table, in order of preference.
GROUND_TRUTH_COLUMNS = (("regulator", "target"), ("gene1", "gene2"), ("source", "target"))
METRIC_COLUMNS = ("n_pairs", "n_positive", "positive_rate", "auroc", "auprc", "auprc_ratio", "epr")


def _edges(adata: AnnData, key: str) -> pd.DataFrame:
    """Return the validated edges table written by :func:`cnnc.tl.predict_interactions`."""
    if key not in adata.uns or not isinstance(adata.uns[key], dict) or "edges" not in adata.uns[key]:
        raise KeyError(
            f"No predicted edges in adata.uns[{key!r}]['edges']: run cnnc.tl.predict_interactions first "
            "(or pass the key it wrote to)."
        )
    edges = adata.uns[key]["edges"]
    if not isinstance(edges, pd.DataFrame):
        raise TypeError(f"adata.uns[{key!r}]['edges'] must be a pandas DataFrame, got {type(edges).__name__}.")
    missing = [c for c in ("regulator", "target", "score") if c not in edges.columns]
    if missing:
        raise ValueError(
            f"adata.uns[{key!r}]['edges'] lacks the columns {missing} (has {list(edges.columns)}); "
            "re-run cnnc.tl.predict_interactions."
        )
    if len(edges) == 0:
        raise ValueError(f"adata.uns[{key!r}]['edges'] is empty: no pair was scored.")
    return edges


def _ground_truth(ground_truth) -> pd.DataFrame:
    """Read ground-truth edges into a DataFrame of lower-case ``regulator``, ``target``; no self edges or duplicates."""
    if isinstance(ground_truth, str | PathLike):
        path = Path(ground_truth)
        if not path.exists():
            raise FileNotFoundError(f"Ground-truth file {str(path)!r} does not exist.")
        ground_truth = pd.read_csv(path)
    if isinstance(ground_truth, pd.DataFrame):
        lower = {str(c).lower(): c for c in ground_truth.columns}
        for reg_col, tgt_col in GROUND_TRUTH_COLUMNS:
            if reg_col in lower and tgt_col in lower:
                table = ground_truth[[lower[reg_col], lower[tgt_col]]]
                break
        else:
            raise ValueError(
                f"The ground-truth DataFrame needs (regulator, target), (Gene1, Gene2) or (source, target) columns, "
                f"got {list(ground_truth.columns)}."
            )
        table = table.set_axis(["regulator", "target"], axis=1)
    elif isinstance(ground_truth, Sequence | np.ndarray):
        pairs = list(ground_truth)
        bad = [p for p in pairs if isinstance(p, str) or not isinstance(p, Sequence | np.ndarray) or len(p) != 2]
        if bad:
            raise ValueError(
                f"A ground-truth list must hold (regulator, target) pairs; {len(bad)} entries are not pairs, "
                f"e.g. {bad[0]!r}."
            )
        table = pd.DataFrame(pairs, columns=["regulator", "target"], dtype=object)
    else:
        raise TypeError(
            "ground_truth must be a DataFrame with (regulator, target) columns, a list of (regulator, target) "
            f"tuples, or a path to such a CSV file; got {type(ground_truth).__name__}."
        )
    if table.isna().any().any():
        raise ValueError(f"The ground truth has {int(table.isna().any(axis=1).sum())} edges with a missing gene name.")
    table = pd.DataFrame(
        {c: table[c].astype(str).str.strip().str.lower().to_numpy() for c in ("regulator", "target")},
    )
    table = table[table["regulator"] != table["target"]].drop_duplicates(ignore_index=True)
    if len(table) == 0:
        raise ValueError("The ground truth has no edges (after removing self edges).")
    return table


def _labelled_candidates(edges: pd.DataFrame, truth: pd.DataFrame, *, directed: bool, key: str = "cnnc"):
    """Label the candidate pairs of ``edges`` by ``truth`` (BEELINE: pairs out of ground-truth regulators).

    Returns
    -------
    ``(candidates, truth_scored)``: the candidate rows (``regulator``, ``target`` as in ``edges``,
    ``score``, boolean ``label``) and, per ground-truth edge, whether it is among the candidates.
    """
    reg = edges["regulator"].astype(str).str.lower().to_numpy()
    tgt = edges["target"].astype(str).str.lower().to_numpy()
    pairs = pd.MultiIndex.from_arrays([reg, tgt])
    if pairs.has_duplicates:
        dup = pairs[pairs.duplicated()][0]
        raise ValueError(
            f"adata.uns[{key!r}]['edges'] lists the pair {dup} more than once (gene names are compared "
            "case-insensitively); keep one row per (regulator, target)."
        )
    keep = np.isin(reg, truth["regulator"].unique()) & (reg != tgt)
    if not keep.any():
        regs = sorted(set(reg))[:5]
        raise ValueError(
            f"No overlap between the ground truth and the scored pairs: none of the {truth['regulator'].nunique()} "
            f"ground-truth regulators (e.g. {truth['regulator'].iloc[:3].tolist()}) is a regulator in "
            f"adata.uns[{key!r}]['edges'] (e.g. {regs}). Check that both use the same gene symbols."
        )
    pairs = pairs[keep]
    truth_pairs = pd.MultiIndex.from_frame(truth)
    label = pairs.isin(truth_pairs)
    truth_scored = truth_pairs.isin(pairs)
    if not directed:
        swapped_pairs = pd.MultiIndex.from_arrays([pairs.get_level_values(1), pairs.get_level_values(0)])
        label |= swapped_pairs.isin(truth_pairs)
        truth_scored |= truth_pairs.isin(swapped_pairs)
    candidates = pd.DataFrame(
        {
            "regulator": edges["regulator"].astype(str).to_numpy()[keep],
            "target": edges["target"].astype(str).to_numpy()[keep],
            "score": pd.to_numeric(edges["score"]).to_numpy(dtype=np.float64)[keep],
            "label": label,
        }
    )
    n_nan = int(np.isnan(candidates["score"]).sum())
    if n_nan:
        raise ValueError(f"{n_nan} candidate pairs in adata.uns[{key!r}]['edges'] have a NaN score.")
    if not label.any():
        hint = " or the edges run the other way (try directed=False)" if directed else ""
        raise ValueError(
            f"None of the {len(candidates)} candidate pairs (out of {truth['regulator'].nunique()} ground-truth "
            f"regulators) is a ground-truth edge, so there is nothing to evaluate: the ground truth's targets "
            f"are not among the scored genes{hint}."
        )
    return candidates, truth_scored


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
        Known edges: a DataFrame with ``regulator``/``target``, ``Gene1``/``Gene2`` (BEELINE) or
        ``source``/``target`` columns, a list of ``(regulator, target)`` tuples, or the path of a
        CSV file with such columns (e.g. BEELINE's ``BL--network.csv``).
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
    edges = _edges(adata, key)
    truth = _ground_truth(ground_truth)
    candidates, truth_scored = _labelled_candidates(edges, truth, directed=directed, key=key)
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
