"""Which way each edge points, and the evidence that says so (the ``direction`` columns of an edge table).

``direction`` is 1 (regulator → target), -1 (target → regulator) or 0 (undetermined); ``direction_evidence`` names
what decided it, the first that applies in this order:

- ``"intervention"``: cells where one gene of the pair was perturbed (set by the interventional method);
- ``"regulator list"``: the target is not among the regulators scored, so only the regulator can be the cause: 1;
- ``"time"``: with a ``time_key``, the gene whose trajectory leads the other's (see :mod:`cnnc._time`), where the
  lead exceeds :data:`cnnc._time.TIME_MARGIN`;
- ``"images"``: the model's ``p_ab`` against ``p_ba``, only for a model whose rule showed skill on held-out cell
  types (:data:`IMAGE_MARGINS`; none of the shipped models did: ``benchmarks/direction.py``);
- ``"none"``: nothing measured says which way: 0.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

EVIDENCE = ("intervention", "regulator list", "time", "images", "none")
#: ``direction=`` of :func:`cnnc.tl.predict_interactions`: read pair images only where they add measured value, or
#: always (then ``p_ab``/``p_ba`` hold the model's split even where it has no measured skill).
DIRECTION_MODES = ("auto", "images")
#: Margin on ``|p_ab - p_ba|`` above which a model's pair images call a direction, by the model's sha256: only models
#: whose rule, chosen on training cell types, was right >= 0.65 of the time on every left-out cell type. Empty: on
#: BEELINE (``benchmarks/direction.py``) no margin chosen that way reached it for ``cnnc-pairs``.
IMAGE_MARGINS: dict[str, float] = {}


def check_direction_mode(direction) -> str:
    if direction not in DIRECTION_MODES:
        raise ValueError(
            f"direction must be one of {DIRECTION_MODES}, got {direction!r}: 'auto' reads pair images only where they "
            "add measured value, 'images' always reads them (p_ab/p_ba then hold the model's own split)."
        )
    return direction


def images_rank(model) -> bool:
    """Whether the model's pair images move its edge score (if not, they only split ``p_ab`` from ``p_ba``)."""
    if model.spec.task != "direction" or model.spec.edge_score != "interaction":
        return True
    # the two directions share one linear evidence: then P(interaction) does not depend on the images' split
    return not model.evidence_from_features()


def reads_images(model, direction: str) -> bool:
    """Whether a prediction computes pair images: they rank, the user asks for them, or they call a direction."""
    return direction == "images" or images_rank(model) or (model.sha256 or "") in IMAGE_MARGINS


def prior_probabilities(model, extra: np.ndarray) -> np.ndarray:
    """``(n, 3)`` probabilities from the model's linear path alone: ``p_none`` and NaN for ``p_ab``, ``p_ba``.

    For a model whose images do not rank (:func:`images_rank` is False) this is the ``p_none`` the full model gives.
    """
    (weights, offset), *_ = model.linear_evidence()  # log(P(interaction) / P(none)), per feature
    w = np.array([weights[f] for f in model.spec.features], dtype=np.float64)
    evidence = np.asarray(extra, dtype=np.float64) @ w + offset
    p_none = 1.0 / (1.0 + np.exp(np.clip(evidence, -700, 700)))
    out = np.full((len(p_none), 3), np.nan, dtype=np.float32)
    out[:, 0] = p_none
    return out


def call_directions(
    edges: pd.DataFrame,
    regulators,
    *,
    time_lead: np.ndarray | None = None,
    time_margin: float = np.inf,
    image_margin: float | None = None,
    decided: tuple[np.ndarray, np.ndarray, str] | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """``(direction, direction_evidence)`` of each row of ``edges`` (``regulator``, ``target``, ``p_ab``, ``p_ba``).

    ``regulators``: the genes scored as regulators; ``time_lead``: per row, how much the regulator's trajectory leads
    the target's (negative: the target leads); ``decided``: ``(rows, directions, evidence)`` set by stronger evidence.
    """
    n = len(edges)
    direction = np.zeros(n, dtype=np.int8)
    evidence = np.full(n, "none", dtype=object)
    free = np.ones(n, dtype=bool)
    if decided is not None:
        rows, values, label = decided
        direction[rows], evidence[rows], free[rows] = values, label, False
    listed = free & ~edges["target"].isin(set(regulators)).to_numpy()
    direction[listed], evidence[listed], free[listed] = 1, "regulator list", False
    if time_lead is not None:
        lead = np.asarray(time_lead, dtype=np.float64)
        called = free & np.isfinite(lead) & (np.abs(lead) >= time_margin) & (lead != 0)
        direction[called], evidence[called], free[called] = np.sign(lead[called]), "time", False
    if image_margin is not None:
        diff = (edges["p_ab"] - edges["p_ba"]).to_numpy(dtype=np.float64)
        called = free & np.isfinite(diff) & (np.abs(diff) >= image_margin) & (diff != 0)
        direction[called], evidence[called] = np.sign(diff[called]), "images"
    return direction, evidence


def with_directions(edges: pd.DataFrame, direction: np.ndarray, evidence: np.ndarray) -> pd.DataFrame:
    """``edges`` with the ``direction`` (int8) and ``direction_evidence`` (categorical) columns."""
    return edges.assign(
        direction=np.asarray(direction, dtype=np.int8),
        direction_evidence=pd.Categorical(evidence, categories=list(EVIDENCE)),
    )


def prior_scores(model, extra, a: np.ndarray, b: np.ndarray, *, symmetric: bool, step: int = 1 << 20) -> np.ndarray:
    """Probabilities of pairs (a, b) from the linear path alone (no pair image), read both ways when ``symmetric``.

    ``extra(a, b)`` returns the model's per-pair features; ``p_ab`` and ``p_ba`` are NaN.
    """
    out = np.full((len(a), 3), np.nan, dtype=np.float32)
    for start in range(0, len(a), step):
        sa, sb = a[start : start + step], b[start : start + step]
        p_none = prior_probabilities(model, extra(sa, sb))[:, 0]
        if symmetric:
            p_none = (p_none + prior_probabilities(model, extra(sb, sa))[:, 0]) / 2
        out[start : start + step, 0] = p_none
    return out


def constant_columns(matrix, genes: np.ndarray, *, chunk_cells: int | None = None) -> np.ndarray:
    """Which of columns ``genes`` of ``matrix`` never vary over the cells (one pass over the cells)."""
    from ._engine._source import ExpressionSource

    low = np.full(len(genes), np.inf)
    high = np.full(len(genes), -np.inf)
    source = ExpressionSource(matrix, **({} if chunk_cells is None else {"chunk_cells": int(chunk_cells)}))
    for _, block in source.iter_blocks(genes):
        low = np.minimum(low, block.min(axis=0).toarray().ravel())
        high = np.maximum(high, block.max(axis=0).toarray().ravel())
    return low == high


def add_directions(
    edges: pd.DataFrame,
    matrix,
    var_names: pd.Index,
    regulators,
    *,
    times: np.ndarray | None = None,
    rows_of_groups: dict[str, np.ndarray] | None = None,
    image_margin: float | None = None,
    chunk_cells: int | None = None,
) -> pd.DataFrame:
    """``edges`` with ``direction`` and ``direction_evidence``; with ``times``, the lead of regulator over target.

    ``rows_of_groups``: for an edge table with a ``group`` column, each group's cells (rows of ``matrix``).
    """
    from scanpy import logging as logg

    from ._engine._source import subset_rows
    from ._time import TIME_MARGIN, time_lead, trajectories

    regulators = set(regulators)
    lead = None
    if times is not None:
        logg.warning(
            "directions from time_key: right 0.97 of the time on simulated trajectories (BoolODE) but at chance on "
            "BEELINE's real time courses (0.45-0.56): they hold only where the trajectory carries the causal order."
        )
        lead = np.full(len(edges), np.nan)
        timed = edges["target"].isin(regulators).to_numpy()  # the other rows are decided by the regulator list
        parts = {None: None} if rows_of_groups is None else rows_of_groups
        for group, rows in parts.items():
            here = timed if group is None else timed & (edges["group"].astype(str) == group).to_numpy()
            if not here.any():
                continue
            ea = var_names.get_indexer(edges["regulator"].to_numpy()[here].astype(str))
            eb = var_names.get_indexer(edges["target"].to_numpy()[here].astype(str))
            genes, inverse = np.unique(np.concatenate([ea, eb]), return_inverse=True)
            t, m = (times, matrix) if rows is None else (times[rows], subset_rows(matrix, rows))
            if len(np.unique(t)) < 4 and group is not None:
                logg.warning(f"group {group!r} has fewer than 4 distinct times: its directions are not read from time.")
                continue
            kwargs = {} if chunk_cells is None else {"chunk_cells": int(chunk_cells)}
            traj = trajectories(m, t, genes, **kwargs)
            lead[here] = time_lead(traj, inverse[: len(ea)], inverse[len(ea) :])
    direction, evidence = call_directions(
        edges, regulators, time_lead=lead, time_margin=TIME_MARGIN, image_margin=image_margin
    )
    return with_directions(edges, direction, evidence)
