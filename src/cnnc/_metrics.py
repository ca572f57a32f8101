"""Ranking metrics for predicted networks (numpy only).

The definitions follow scikit-learn (``roc_auc_score``, ``average_precision_score``) and BEELINE
(early precision, Pratapa et al., Nature Methods 2020), so that numbers are comparable with
published benchmarks without making scikit-learn a dependency.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ._docs import doc_params

#: The two inputs of every ranking metric.
_doc_ranking = """\
y_true
    Binary labels (``True``/1 = true edge).
score
    Confidence of each pair; higher = more likely a true edge."""


def _check(y_true, score) -> tuple[np.ndarray, np.ndarray]:
    """Validate labels and scores; return them as a bool and a float array."""
    if y_true is None or score is None:
        raise TypeError("y_true and score must be 1-d arrays of labels and scores, got None: pass both.")
    y = np.asarray(pd.array(y_true, dtype=object) if isinstance(y_true, pd.api.extensions.ExtensionArray) else y_true)
    s = np.asarray(score)
    for name, values in (("y_true", y), ("score", s)):
        if values.dtype == object and values.ndim == 1:
            missing = pd.isna(values)
            if missing.any():
                raise ValueError(
                    f"{name} holds {int(missing.sum())} missing values (None/NaN/NA), e.g. at position "
                    f"{int(np.flatnonzero(missing)[0])}: drop those pairs, or give each a label and a score."
                )
    if y.dtype == object and all(
        isinstance(v, bool | np.bool_ | int | np.integer | float | np.floating) for v in y.flat
    ):
        y = y.astype(np.float64)  # numbers held as Python objects
    if y.ndim != 1 or s.ndim != 1:
        raise ValueError(
            f"y_true and score must be 1-d arrays, got shapes {y.shape} and {s.shape}: pass one label and one score "
            "per pair (e.g. score.ravel())."
        )
    if y.shape[0] != s.shape[0]:
        raise ValueError(
            f"y_true and score must have the same length, got {y.shape[0]} labels and {s.shape[0]} scores: pass one "
            "label and one score per pair, in the same order."
        )
    if y.shape[0] == 0:
        raise ValueError("y_true and score are empty: there is nothing to evaluate. Pass the scored pairs.")
    if y.dtype != bool:
        if not (np.issubdtype(y.dtype, np.number) and np.isin(y, (0, 1)).all()):
            shown = pd.unique(pd.Series(y, dtype=object))[:5].tolist()
            raise ValueError(
                f"y_true must be binary (bool, or 0/1 with 1 = true edge), got values {shown}: convert the labels, "
                "e.g. y_true == 'yes'."
            )
        y = y.astype(bool)
    if not np.issubdtype(s.dtype, np.number) or s.dtype == bool:
        raise ValueError(f"score must be numeric, got dtype {s.dtype}: pass numbers (e.g. score.astype(float)).")
    s = s.astype(np.float64)
    if not np.isfinite(s).all():
        n_bad = int((~np.isfinite(s)).sum())
        raise ValueError(f"score contains {n_bad} NaN or infinite values; drop or fill those pairs first.")
    n_pos = int(y.sum())
    if n_pos == 0:
        raise ValueError(
            "y_true has no positives (no true edge among the pairs): the metrics are undefined. Include pairs that "
            "are true edges."
        )
    if n_pos == y.shape[0]:
        raise ValueError(
            "y_true has only positives (every pair is a true edge): the metrics are undefined. Include pairs that "
            "are not edges (negatives)."
        )
    return y, s


def _binary_clf_curve(y: np.ndarray, s: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Count true and false positives at each distinct score threshold, highest threshold first."""
    order = np.argsort(-s, kind="mergesort")
    s_sorted = s[order]
    y_sorted = y[order]
    # the last index of each block of tied scores
    last = np.r_[np.flatnonzero(np.diff(s_sorted)), s_sorted.shape[0] - 1]
    tps = np.cumsum(y_sorted, dtype=np.float64)[last]
    fps = (last + 1) - tps
    return fps, tps, s_sorted[last]


@doc_params(doc_ranking=_doc_ranking)
def roc_curve(y_true, score) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Receiver operating characteristic curve.

    Parameters
    ----------
    {doc_ranking}

    Returns
    -------
    ``(fpr, tpr, thresholds)``, one point per distinct score plus the origin (threshold ``inf``).
    Tied scores form one point, so the curve through them is a straight segment.
    """
    y, s = _check(y_true, score)
    fps, tps, thresholds = _binary_clf_curve(y, s)
    fpr = np.r_[0.0, fps / fps[-1]]
    tpr = np.r_[0.0, tps / tps[-1]]
    return fpr, tpr, np.r_[np.inf, thresholds]


@doc_params(doc_ranking=_doc_ranking)
def precision_recall_curve(y_true, score) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Precision–recall curve, in order of increasing recall.

    Parameters
    ----------
    {doc_ranking}

    Returns
    -------
    ``(precision, recall, thresholds)``, one point per distinct score, preceded by the point
    ``(precision=1, recall=0)`` with threshold ``inf``. Drawn as a step curve
    (``drawstyle="steps-pre"``), its area is :func:`auprc`.
    """
    y, s = _check(y_true, score)
    fps, tps, thresholds = _binary_clf_curve(y, s)
    precision = np.r_[1.0, tps / (tps + fps)]
    recall = np.r_[0.0, tps / tps[-1]]
    return precision, recall, np.r_[np.inf, thresholds]


@doc_params(doc_ranking=_doc_ranking)
def auroc(y_true, score) -> float:
    """Area under the ROC curve (ties count half, as in :func:`sklearn.metrics.roc_auc_score`).

    Parameters
    ----------
    {doc_ranking}

    Returns
    -------
    The area, 0.5 for a random ranking.
    """
    fpr, tpr, _ = roc_curve(y_true, score)
    return float(np.sum(np.diff(fpr) * (tpr[1:] + tpr[:-1])) / 2)


@doc_params(doc_ranking=_doc_ranking)
def auprc(y_true, score) -> float:
    """Area under the precision–recall curve as average precision.

    ``AP = Σ_n (R_n − R_{n−1}) P_n`` over the distinct score thresholds, as
    :func:`sklearn.metrics.average_precision_score` (no interpolation; tied scores enter as one
    threshold).

    Parameters
    ----------
    {doc_ranking}

    Returns
    -------
    The average precision; its expectation for a random ranking is the positive rate.
    """
    precision, recall, _ = precision_recall_curve(y_true, score)
    return float(np.sum(np.diff(recall) * precision[1:]))


@doc_params(doc_ranking=_doc_ranking)
def early_precision(y_true, score, k: int | None = None) -> float:
    """Precision among the top-``k`` pairs (BEELINE's early precision).

    As in BEELINE, every pair whose score is at least the ``k``-th highest score is kept, so
    ties at the cut-off can make the selection larger than ``k``. BEELINE also drops edges of
    weight 0 (absent from a method's output); here every pair was scored, so none are dropped.

    Parameters
    ----------
    {doc_ranking}
    k
        Size of the top set; default: the number of true edges.

    Returns
    -------
    The fraction of true edges among the selected pairs. Divide by the positive rate for
    BEELINE's early precision ratio (EPR).
    """
    y, s = _check(y_true, score)
    if k is None:
        k = int(y.sum())
    if isinstance(k, bool) or not isinstance(k, int | np.integer) or not 1 <= k <= y.shape[0]:
        raise ValueError(f"k must be an integer in [1, {y.shape[0]}] (the number of pairs), got {k!r}.")
    kth = np.partition(s, s.shape[0] - k)[s.shape[0] - k]
    selected = s >= kth
    return float(y[selected].mean())


@doc_params(doc_ranking=_doc_ranking)
def summarize(y_true, score) -> dict:
    """All ranking metrics of one set of scored pairs.

    Parameters
    ----------
    {doc_ranking}

    Returns
    -------
    A dict with ``n_pairs``, ``n_positive``, ``positive_rate`` (the precision of a random ranking),
    ``auroc``, ``auprc``, ``auprc_ratio`` (``auprc / positive_rate``) and ``epr`` (early precision
    at ``k = n_positive`` divided by the positive rate, BEELINE's EPR); ratios above 1 beat random.
    """
    y, s = _check(y_true, score)
    n_pairs = int(y.shape[0])
    n_positive = int(y.sum())
    positive_rate = n_positive / n_pairs
    area_pr = auprc(y, s)
    return {
        "n_pairs": n_pairs,
        "n_positive": n_positive,
        "positive_rate": positive_rate,
        "auroc": auroc(y, s),
        "auprc": area_pr,
        "auprc_ratio": area_pr / positive_rate,
        "epr": early_precision(y, s) / positive_rate,
    }
