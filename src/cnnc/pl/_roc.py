"""ROC and precision–recall curves of predicted networks against a ground truth."""

from __future__ import annotations

from collections.abc import Sequence
from os import PathLike

import matplotlib.pyplot as plt
import numpy as np
from anndata import AnnData
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from .._docs import doc_ax, doc_params, doc_show_save
from .._metrics import auprc, auroc, precision_recall_curve, roc_curve
from .._tables import labelled_candidates, predicted_edges, read_ground_truth
from ._utils import finish

#: The parameters roc and pr share (what to draw), before ax/show/save.
_doc_curves = """\
adata
    Annotated data matrix with the output of :func:`cnnc.tl.predict_interactions`.
key
    Key (or keys, to overlay several methods) of :attr:`~anndata.AnnData.uns` with predicted edges.
ground_truth
    Known edges, as for :func:`cnnc.tl.evaluate`. ``None``: use the labels that
    :func:`cnnc.tl.evaluate` stored in ``adata.uns[key][evaluation_key + "_curves"]``.
directed
    With ``ground_truth``: whether (b, a) in the ground truth does not label (a, b) as true.
evaluation_key
    The ``key_added`` of :func:`cnnc.tl.evaluate`, when ``ground_truth`` is ``None``.
label
    Legend label(s), one per key; default: the keys."""


def _labels(keys: list[str], label: str | Sequence[str] | None) -> list[str]:
    if label is None:
        return list(keys)
    if isinstance(label, str):
        label = [label]
    label = list(label)
    if len(label) != len(keys):
        raise ValueError(f"Got {len(label)} labels for {len(keys)} keys {keys}; pass one label per key.")
    return [str(x) for x in label]


def _curve_data(
    adata: AnnData, keys: list[str], ground_truth, directed: bool, evaluation_key: str
) -> list[tuple[np.ndarray, np.ndarray]]:
    """Labels and scores of the candidate pairs of each key, recomputed or as stored by :func:`cnnc.tl.evaluate`."""
    truth = None if ground_truth is None else read_ground_truth(ground_truth)
    data = []
    for key in keys:
        if truth is not None:
            candidates, _ = labelled_candidates(predicted_edges(adata, key), truth, directed=directed, key=key)
            data.append((candidates["label"].to_numpy(), candidates["score"].to_numpy()))
            continue
        curves_key = f"{evaluation_key}_curves"
        stored = adata.uns.get(key)
        if not isinstance(stored, dict) or curves_key not in stored:
            raise KeyError(
                f"No evaluation in adata.uns[{key!r}][{curves_key!r}]: run cnnc.tl.evaluate(adata, ground_truth, "
                f"key={key!r}) first, or pass ground_truth= to this plot."
            )
        curves = stored[curves_key]
        data.append((np.asarray(curves["y_true"], dtype=bool), np.asarray(curves["score"], dtype=np.float64)))
    return data


def _prepare(adata, key, ground_truth, directed, evaluation_key, label, ax):
    keys = [key] if isinstance(key, str) else list(key)
    if not keys:
        raise ValueError("key is empty: pass the adata.uns key of at least one predicted network.")
    labels = _labels(keys, label)
    data = _curve_data(adata, keys, ground_truth, directed, evaluation_key)
    if ax is None:
        fig, ax = plt.subplots(figsize=(4.6, 4.6), layout="constrained")
    else:
        fig = ax.figure
    return keys, labels, data, fig, ax


def _title(prefix: str, data: list[tuple[np.ndarray, np.ndarray]]) -> str:
    sizes = {(len(y), int(y.sum())) for y, _ in data}
    if len(sizes) == 1:
        n, n_pos = sizes.pop()
        return f"{prefix}\n{n:,} pairs, {n_pos:,} true edges"
    return prefix


@doc_params(doc_curves=_doc_curves, doc_ax=doc_ax, doc_show_save=doc_show_save)
def roc(
    adata: AnnData,
    *,
    key: str | Sequence[str] = "cnnc",
    ground_truth=None,
    directed: bool = True,
    evaluation_key: str = "evaluation",
    label: str | Sequence[str] | None = None,
    ax: Axes | None = None,
    show: bool | None = None,
    save: bool | str | PathLike | None = None,
    return_fig: bool = False,
) -> Axes | Figure | None:
    """Plot the ROC curve of predicted edges against a ground truth.

    Parameters
    ----------
    {doc_curves}
    {doc_ax}
    {doc_show_save}

    Returns
    -------
    The Axes, the Figure if ``return_fig``, or ``None`` if the plot was shown.

    Examples
    --------
    >>> cnnc.tl.evaluate(adata, ground_truth)  # doctest: +SKIP
    >>> cnnc.pl.roc(adata, key=["cnnc", "pearson"])  # doctest: +SKIP
    """
    keys, labels, data, fig, ax = _prepare(adata, key, ground_truth, directed, evaluation_key, label, ax)
    for i, ((y, s), lab) in enumerate(zip(data, labels, strict=True)):
        fpr, tpr, _ = roc_curve(y, s)
        ax.plot(fpr, tpr, color=f"C{i}", lw=1.6, label=f"{lab} (AUROC {auroc(y, s):.3f})")
    ax.plot([0, 1], [0, 1], ls="--", lw=1, color="0.55", label="random (AUROC 0.500)")
    ax.set(xlim=(0, 1), ylim=(0, 1), xlabel="False positive rate", ylabel="True positive rate", aspect="equal")
    ax.set_title(_title("ROC", data), fontsize="medium")
    ax.legend(loc="lower right", fontsize="small", frameon=False)
    return finish(fig, ax, writekey="roc", show=show, save=save, return_fig=return_fig)


@doc_params(doc_curves=_doc_curves, doc_ax=doc_ax, doc_show_save=doc_show_save)
def pr(
    adata: AnnData,
    *,
    key: str | Sequence[str] = "cnnc",
    ground_truth=None,
    directed: bool = True,
    evaluation_key: str = "evaluation",
    label: str | Sequence[str] | None = None,
    ax: Axes | None = None,
    show: bool | None = None,
    save: bool | str | PathLike | None = None,
    return_fig: bool = False,
) -> Axes | Figure | None:
    """Plot the precision–recall curve of predicted edges against a ground truth.

    The curve is drawn as steps, whose area is the AUPRC (average precision); the dashed line is
    the precision of a random ranking (the fraction of true edges among the candidates).

    Parameters
    ----------
    {doc_curves}
    {doc_ax}
    {doc_show_save}

    Returns
    -------
    The Axes, the Figure if ``return_fig``, or ``None`` if the plot was shown.

    Examples
    --------
    >>> cnnc.tl.evaluate(adata, ground_truth)  # doctest: +SKIP
    >>> cnnc.pl.pr(adata, key=["cnnc", "pearson"])  # doctest: +SKIP
    """
    keys, labels, data, fig, ax = _prepare(adata, key, ground_truth, directed, evaluation_key, label, ax)
    rates = [float(y.mean()) for y, _ in data]
    shared_baseline = np.allclose(rates, rates[0], rtol=0, atol=1e-12)
    top = 2 * max(rates)
    for i, ((y, s), lab, rate) in enumerate(zip(data, labels, rates, strict=True)):
        precision, recall, _ = precision_recall_curve(y, s)
        top = max(top, precision[1:].max())
        ap = auprc(y, s)
        ax.plot(
            recall,
            precision,
            drawstyle="steps-pre",
            color=f"C{i}",
            lw=1.6,
            label=f"{lab} (AUPRC {ap:.3f}, {ap / rate:.2f}× random)",
        )
        if not shared_baseline:
            ax.axhline(rate, ls="--", lw=1, color=f"C{i}", label=f"random for {lab} ({rate:.3f})")
    if shared_baseline:
        ax.axhline(rates[0], ls="--", lw=1, color="0.55", label=f"random (AUPRC {rates[0]:.3f})")
    # a curve near a low random baseline is flat at the bottom of a 0..1 axis: zoom in on it
    ax.set(xlim=(0, 1), ylim=(0, min(1.0, 1.1 * top) * 1.02), xlabel="Recall", ylabel="Precision")
    ax.set_title(_title("Precision–recall", data), fontsize="medium")
    ax.legend(loc="upper right", fontsize="small", frameon=False)
    return finish(fig, ax, writekey="pr", show=show, save=save, return_fig=return_fig)
