"""``cnnc.tl.causal_scores``: which variables are linked and which drives which, with bootstrap intervals."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
from anndata import AnnData
from scanpy import logging as logg
from scipy import stats

from .._checks import check_result_key
from .._docs import doc_any_values, doc_interventions, doc_params, doc_uns_result
from .._evidence import pair_evidence
from .._interventions import parse_interventions
from .._prior import context_z
from .._scoring import make_imager, prediction_params, score_pairs
from .._significance import add_significance
from .._tables import edge_table
from .._utils import resolve_random_state
from .._validate import as_integer, as_seed
from ._measured import check_anndata, direction_model, measured_values

#: All-pairs scores need the variables × variables precision matrix and every pair's image: a bound on the variables.
MAX_VARIABLES = 500


def partial_correlation(values: np.ndarray) -> np.ndarray:
    """Partial correlation of every two columns given all the others, from the inverse correlation matrix.

    ``values``: samples × variables. Uses the pseudo-inverse when the correlation matrix is singular; the diagonal
    is 1. A constant column has no correlation: its row and column are 0. Two columns identical up to scale and
    sign (correlation ±1) keep that correlation (the pseudo-inverse alone would give them the opposite sign).
    """
    values = np.asarray(values, dtype=np.float64)
    sd = values.std(axis=0)
    varying = sd > 0
    out = np.zeros((values.shape[1], values.shape[1]))
    if varying.sum() >= 2:
        corr = np.corrcoef(values[:, varying].T)
        precision = np.linalg.pinv(corr, hermitian=True)
        d = np.sqrt(np.clip(np.diag(precision), 1e-12, None))
        partial = np.clip(-precision / np.outer(d, d), -1.0, 1.0)
        collinear = np.abs(corr) > 1 - 1e-10
        partial[collinear] = np.sign(corr[collinear])
        out[np.ix_(varying, varying)] = partial
    np.fill_diagonal(out, 1.0)
    return out


def _percentile(values: np.ndarray) -> np.ndarray:
    """Percentile ranks in (0, 1] (ties share their mean rank)."""
    return stats.rankdata(values) / len(values)


def _pair_scores(values: np.ndarray, model, a: np.ndarray, b: np.ndarray, batch_size: int) -> dict[str, np.ndarray]:
    """Image-model probabilities, partial correlation and the combined link score of the pairs (a, b)."""
    n = values.shape[1]
    imager = make_imager(values, np.arange(n), model.spec.image_params, gene_names=[str(i) for i in range(n)])
    proba = score_pairs(imager, a, b, model, batch_size=batch_size, symmetric=True, progress=False)
    constant = values.std(axis=0) == 0  # (in a resample too) no evidence of a link or of a direction
    mask = constant[a] | constant[b]
    proba[mask] = (1.0, 0.0, 0.0)
    link = np.zeros((n, n))
    link[a, b] = link[b, a] = 1.0 - proba[:, 0]
    partial = partial_correlation(values)
    link_z = context_z(link)[a, b].astype(np.float64)
    partial_z = context_z(np.abs(partial))[a, b].astype(np.float64)
    return {
        "score": np.where(mask, 0.0, (_percentile(link_z) + _percentile(partial_z)) / 2),
        "p_none": proba[:, 0],
        "p_ab": proba[:, 1],
        "p_ba": proba[:, 2],
        "partial_corr": partial[a, b],
        "link_context": link_z,
        "partial_context": partial_z,
    }


def _warn_constant(labels: np.ndarray, values: np.ndarray) -> None:
    """Say which variables never vary: their pairs are scored as no link, with no direction."""
    constant = labels[values.std(axis=0) == 0]
    if len(constant):
        logg.warning(
            f"variables {list(constant)[:5]} are constant over the cells: they carry no evidence of a link or a "
            "direction; their pairs are scored p_none = 1, direction 0."
        )


def _scored_values(
    adata: AnnData, variables: Sequence[str] | None, *, layer: str | None, use_raw: bool | None
) -> tuple[np.ndarray, np.ndarray]:
    """The variables' names and values, checked with this tool's bound and the hints of its error messages."""
    return measured_values(
        adata,
        variables,
        layer=layer,
        use_raw=use_raw,
        function="causal_scores",
        max_variables=MAX_VARIABLES,
        why_three="partial correlations",
        max_hint="causal_scores scores all pairs of; pass variables=[...] (e.g. highly variable genes and the "
        "candidate regulators).",
    )


def _bootstrap_intervals(
    values: np.ndarray, model, a: np.ndarray, b: np.ndarray, batch_size: int, *, n_boot: int, seed: int
) -> dict[str, np.ndarray]:
    """95% percentile intervals of ``score`` and ``direction``, and ``p_direction``, over resamples of the cells.

    Intervals in the order (a, b) of the pairs; ``p_direction`` is the share of resamples with ``a -> b`` (a tie
    counts half). With ``n_boot=0`` every entry is NaN.
    """
    rng = np.random.default_rng(seed)
    boot_score, boot_direction = [], []
    for _ in range(n_boot):
        s = _pair_scores(values[rng.integers(0, len(values), len(values))], model, a, b, batch_size)
        boot_score.append(s["score"])
        boot_direction.append(s["p_ab"] - s["p_ba"])
    if not n_boot:
        nan = np.full(len(a), np.nan)
        return dict.fromkeys(("score_low", "score_high", "direction_low", "direction_high", "p_direction"), nan)
    boot_score, boot_direction = np.array(boot_score), np.array(boot_direction)
    score_low, score_high = np.quantile(boot_score, [0.025, 0.975], axis=0)
    direction_low, direction_high = np.quantile(boot_direction, [0.025, 0.975], axis=0)
    return {
        "score_low": score_low,
        "score_high": score_high,
        "direction_low": direction_low,
        "direction_high": direction_high,
        "p_direction": (boot_direction > 0).mean(axis=0) + 0.5 * (boot_direction == 0).mean(axis=0),
    }


def _interventional_orientation(
    values: np.ndarray, design, a: np.ndarray, b: np.ndarray, flip: np.ndarray, method: str
) -> tuple[np.ndarray, np.ndarray, dict[str, np.ndarray]]:
    """Let the interventional evidence rank every pair, and orient the pairs it decides.

    With interventions, one ranking (``method``) scores both directions of all pairs, so that touched and
    untouched pairs share a scale: the score returned is the percentile rank of the direction called (among both
    directions of every pair), ``reverse_score`` that of the other. Where it orients a pair, that orientation
    replaces the image's (``flip``: the pair is ``b -> a``). Returns the new ``flip``, the score and the extra
    edge-table columns.
    """
    from ._interventional import interventional_pairs  # builds on the network search, which imports this module

    iv = interventional_pairs(values, design, a, b, method)
    decided = iv["sign"] != 0
    flip = np.where(decided, iv["sign"] < 0, flip)
    extra = {
        "reverse_score": np.where(flip, iv["score_ab"], iv["score_ba"]),
        "direction_evidence": np.where(decided, "intervention", "images"),
        "intervention_pvalue": iv["pvalue"],
        "shift": np.where(flip, iv["shift_ba"], iv["shift_ab"]),
    }
    return flip, np.where(flip, iv["score_ba"], iv["score_ab"]), extra


def _scores_table(
    labels: np.ndarray,
    values: np.ndarray,
    a: np.ndarray,
    b: np.ndarray,
    full: dict,
    intervals: dict,
    design,
    method: str = "combined",
) -> pd.DataFrame:
    """The edge table: each pair oriented so that ``regulator`` is the variable said to drive the other."""
    direction = full["p_ab"] - full["p_ba"]
    flip = direction < 0
    score, score_low, score_high = full["score"], intervals["score_low"], intervals["score_high"]
    extra = {}
    if design is not None:
        flip, score, extra = _interventional_orientation(values, design, a, b, flip, method)
        # the interventional graph is not resampled: no score has an interval
        score_low = score_high = np.full(len(a), np.nan)
    low, high = intervals["direction_low"], intervals["direction_high"]
    edges = edge_table(
        np.where(flip, labels[b], labels[a]),
        np.where(flip, labels[a], labels[b]),
        score,
        score_low=score_low,
        score_high=score_high,
        direction=np.where(flip, -direction, direction),
        # a flipped pair's interval is the mirror image: its bounds swap
        direction_low=np.where(flip, -high, low),
        direction_high=np.where(flip, -low, high),
        p_direction=np.where(flip, 1 - intervals["p_direction"], intervals["p_direction"]),
        p_none=full["p_none"],
        p_forward=np.where(flip, full["p_ba"], full["p_ab"]),
        p_backward=np.where(flip, full["p_ab"], full["p_ba"]),
        partial_corr=full["partial_corr"],
        link_context=full["link_context"],
        partial_context=full["partial_context"],
        **extra,
        corr=pair_evidence(values, a, b)[0],
    )
    return add_significance(edges, values, a, b, min_cells=0)  # association of the pair, as for predictions


def _scores_params(
    model, labels: np.ndarray, values: np.ndarray, *, layer: str | None, n_boot: int, seed: int, design, method: str
) -> dict:
    """``uns[key]["params"]``: the model, the inputs and the definition of the score and its intervals."""
    score = (
        "mean percentile rank of the context z-scores of the image model's 1 - p_none and of |partial "
        "correlation| given all other variables"
    )
    if design is not None:
        score = f"percentile rank of the interventional ranking {method!r} " + (
            "(the graph's tiers, then total effect, |partial correlation| and direct effect)"
            if method == "graph"
            else "(significant shifts of perturbed regulators first, by size; then the graph's edges)"
            if method == "shift"
            else "(link: both rankings' mean percentile rank; orientation: the shift ranking)"
        )
    return prediction_params(
        model,
        symmetric=True,
        precision="float32",
        layer=layer,
        function="causal_scores",
        variables=[str(v) for v in labels],
        n_boot=n_boot,
        seed=seed,
        n_cells=int(values.shape[0]),
        **({**design.params(labels), "intervention_method": method} if design is not None else {}),
        score=score,
        intervals="95% bootstrap percentile intervals over resampled cells",
    )


def _check_intervention_method(method, design) -> None:
    from ._intervention_rankings import METHODS

    if not isinstance(method, str) or method not in METHODS:
        raise ValueError(f"intervention_method must be one of {list(METHODS)}, got {method!r}.")
    if design is None and method != "combined":
        raise ValueError(
            f"intervention_method={method!r} needs interventions= (the obs column of condition labels): without "
            "interventions no pair is ranked from them."
        )


@doc_params(doc_any_values=doc_any_values, doc_uns_result=doc_uns_result, doc_interventions=doc_interventions)
def causal_scores(
    adata: AnnData,
    *,
    model="cnnc-causal",
    variables: Sequence[str] | None = None,
    layer: str | None = None,
    use_raw: bool | None = None,
    n_boot: int = 20,
    random_state: int = 0,
    interventions: str | None = None,
    control=None,
    intervention_targets=None,
    intervention_method: str = "combined",
    batch_size: int = 1024,
    key_added: str = "cnnc_causal",
    copy: bool = False,
    seed: int | None = None,
) -> AnnData | None:
    """Score every pair of variables for a direct link and for which one drives the other, with intervals.

    For measured variables of any kind (protein intensities, expression, z-scores) and a model whose pair-image
    recipe reads any values, such as ``"cnnc-causal"`` (trained on synthetic cause → effect pairs only):

    - **Direction.** The model reads each pair's image both ways, image (a, b) and its transpose (b, a) with its
      two directed outputs swapped, and averages: ``p_ab`` = P(a → b), ``p_ba`` = P(b → a), ``p_none``, and the
      direction score ``direction = p_ab - p_ba`` (> 0: a drives b).
    - **Link.** Two pieces of evidence, each normalised within its context: the image model's ``1 - p_none``
      (which sees non-linear dependence) and the absolute partial correlation given all other variables (from the
      inverse Pearson correlation matrix of the values as given, which separates direct from indirect links; unlike
      the rank images it changes under a log transform of a variable). A pair's value of each is z-scored
      among the values of each of its two variables to all others (the sum of the two z-scores; a variable
      correlated with everything does not make every one of its pairs an edge). The link ``score`` is the mean of
      the percentile ranks of the two context scores over all pairs, in (0, 1]; 0 for a pair with a variable
      that never varies (no evidence of a link; its direction is 0 and ``p_none`` is 1).
    - **Uncertainty.** Everything is recomputed on ``n_boot`` bootstrap resamples of the cells: 95% percentile
      intervals of ``score`` and ``direction`` and ``p_direction``, the share of resamples in which ``a → b``
      wins (``direction > 0``). The intervals cover sampling noise only, not the model's own errors.
    - **Interventions.** With ``interventions``, every pair takes its ``score`` from the interventional ranking
      (``intervention_method``: perturbation shifts, the interventional graph, and the link strength of the pairs
      no perturbation touches; ``reverse_score``: the same for the other direction) and its orientation from the interventional evidence where it has one (the
      image's elsewhere, ``direction_evidence="images"``); the score intervals are then NaN (the interventional
      graph is not resampled). See :doc:`/interventions`.
    - **Reliability.** Measured with a decision forced on every pair in ``docs/_generated/causal.md``
      (``python -m benchmarks.causal``): the default ``cnnc-causal`` (version 1, also
      named ``"cnnc-causal-1"``) orients the Tübingen cause-effect pairs (99 real pairs, weighted as the
      original benchmark) at 0.56 [0.43, 0.68] (continuous pairs 0.58 [0.45, 0.73]) and 12 of
      the 18 Sachs edges from pooled cells; ``"cnnc-causal-2"`` (two-channel images) at 0.48 [0.35, 0.61]
      (continuous 0.50 [0.36, 0.65]) and 9/18, below version 1; IGCI, RECI and a compression
      baseline reach 0.65-0.67 on the same pairs, cdt's RECI 0.71 (95% bootstrap intervals over the pairs). Neither
      model is at the field's level (about 0.75).
      Directions are unreliable where the pair carries none: near-symmetric pairs (linear relations with
      Gaussian-like noise) give ``direction`` near 0, and a confounded pair (both driven by a third variable) still
      gets a direction from its image. Treat a direction whose interval includes 0 as undetermined.

    Parameters
    ----------
    adata
        Cells × variables (dense or sparse ``X``, a ``layer`` or ``.raw``); at least 20 cells, more cells than
        variables for the partial correlation to be meaningful.
    model
        A :class:`cnnc.models.Model`, a registry name or a file path: a direction model (classes ``none``,
        ``a->b``, ``b->a``) whose recipe reads any values (``scaling="rank"``, ``"standard"`` or
        ``"rank+standard"``).
    variables
        The variables to score, every pair of them (default: all, at most :data:`MAX_VARIABLES`).
    {doc_any_values}
    n_boot
        Bootstrap resamples of the cells for the intervals (``0``: none; the interval columns are then NaN).
    random_state
        Seed of the resampling.
    {doc_interventions}
    intervention_method
        With ``interventions``: how the pairs with a perturbed variable are ranked and oriented. ``"graph"``: the
        interventional graph of :func:`cnnc.tl.causal_network` (direct effects, invariance, Meek's rules) first,
        then undirected links, then the rest, each tier by the link's strength (total effect, ``|partial
        correlation|``, direct effect). ``"shift"``: a perturbed regulator that significantly shifts the target's
        distribution first, by the size of the shift (what a perturbation shows most plainly, even where it also
        moves everything downstream), then the graph's edges out of never-perturbed variables. ``"combined"``
        (default; chosen on simulated CRISPRi screens): the link from both rankings, the orientation from
        ``"shift"``. ``"dependence"``: as ``"combined"``, but a pair whose dependence a perturbation clearly cuts
        (``a → b``: ``a`` perturbed, its dependence with ``b`` fades in the condition's cells) or keeps (``b → a``)
        is oriented by that, reading what each perturbation acts on (``acts_on`` in ``intervention_targets``);
        robust to feedback that moves a perturbed variable's parents, it needs a clear dependence within the
        control cells (see :doc:`/interventions` for where it helps and where it does not).
    {doc_uns_result}
    seed
        Deprecated name of ``random_state`` (a FutureWarning).

    Returns
    -------
    ``None`` or the copy. Writes ``adata.uns[key_added]`` with

    ``"edges"``
        DataFrame, one row per unordered pair, sorted by ``score``: ``regulator`` (the variable the model says
        drives the other, ``direction >= 0``), ``target``, ``score``, ``score_low``, ``score_high``,
        ``direction`` (P(regulator → target) - P(target → regulator)), ``direction_low``, ``direction_high``,
        ``p_direction`` (bootstrap share with regulator → target), ``p_none``, ``p_forward``, ``p_backward``,
        ``partial_corr``, ``link_context``, ``partial_context``; with ``interventions`` also ``reverse_score`` (the
        percentile rank of target → regulator in the same ranking), ``direction_evidence``
        (``"intervention"`` or ``"images"``), ``intervention_pvalue`` (p-value of the evidence that oriented
        the pair: the Mann-Whitney p-value of a significant shift, else of the direct effect; NaN if none) and ``shift`` (rank-biserial shift of the target's distribution in cells where the
        regulator is perturbed, 0 if it never is); ``corr`` (Pearson over the cells), ``pvalue`` and ``qvalue``
        (the chance that two independent variables, each one's cells permuted, are as correlated, and its
        Benjamini–Hochberg adjustment: a test of association, not of the link nor of its direction).
        :func:`cnnc.tl.evaluate` reads it with ``key=key_added``.
    ``"params"``
        The model (name, sha256, recipe), ``variables``, ``layer``, ``n_boot``, ``seed``, ``n_cells``, the score's
        definition and the cnnc version.

    Examples
    --------
    >>> import cnnc
    >>> adata = cnnc.datasets.sachs()
    >>> cnnc.tl.causal_scores(adata, n_boot=5)
    >>> adata.uns["cnnc_causal"]["edges"].head()  # doctest: +SKIP
    """
    check_anndata(adata, "causal_scores")
    n_boot = as_integer(n_boot, "n_boot", low=0, example=20, meaning="bootstrap resamples, 0 for none")
    seed = None if seed is None else as_seed(seed)
    batch_size = as_integer(batch_size, "batch_size", low=1, example=1024)
    replaced = check_result_key(adata, key_added, marker="edges", function="cnnc.tl.causal_scores")
    mdl = direction_model(model, "causal_scores")
    labels, values = _scored_values(adata, variables, layer=layer, use_raw=use_raw)
    _warn_constant(labels, values)
    design = parse_interventions(adata, labels, interventions, control, intervention_targets)
    _check_intervention_method(intervention_method, design)
    n = len(labels)
    start = logg.info(f"scoring {n * (n - 1) // 2:,} pairs of {n} variables with {mdl.name}")
    a, b = np.triu_indices(n, k=1)
    full = _pair_scores(values, mdl, a, b, batch_size)
    seed = resolve_random_state(random_state, seed, "cnnc.tl.causal_scores")
    intervals = _bootstrap_intervals(values, mdl, a, b, batch_size, n_boot=int(n_boot), seed=seed)
    edges = _scores_table(labels, values, a, b, full, intervals, design, intervention_method)
    params = _scores_params(
        mdl, labels, values, layer=layer, n_boot=int(n_boot), seed=int(seed), design=design, method=intervention_method
    )
    adata = adata.copy() if copy else adata
    adata.uns[key_added] = {"edges": edges, "params": params}
    if replaced:
        logg.warning(f"replacing the previous causal scores in {replaced}")
    logg.info("    finished", time=start, deep=f"added adata.uns[{key_added!r}] (edges, params)")
    return adata if copy else None
