"""The association measures of the context prior, and the names of the pair features made from them.

A measure is one small object (how its genes × genes rows are made from the data's correlations, which Gram sums it
reads, whether it is taken in absolute value) and one registry line in :data:`MEASURES` (decoupler's method registry
is the model). Every measure is symmetric, so a band of its rows is all the engine (:mod:`._engine`) asks of it.

Adding a measure: write a function ``Correlations -> RowSource`` (see :mod:`._correlation`) and add a line to
:data:`MEASURES`; the dense, pair, whole-transcriptome and dask forms then compute it, and features
``"z_mean:<measure>+..."`` name it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

#: |Pearson| context features: the pair's |Pearson|, its z within each gene's |Pearson| to all genes, their sum.
FEATURES = ("abs_pearson", "z_regulator", "z_target", "z_context")
#: Each gene's own statistics, z-scored over the genes of the data set (an ablation: what a pair image holds
#: beyond its two marginals is what a model on these cannot see).
MARGINALS = ("detection", "mean", "variance")
MARGINAL_FEATURES = tuple(f"{end}_{m}" for end in ("regulator", "target") for m in MARGINALS)
MEAN_PREFIX = "z_mean:"


@dataclass(frozen=True)
class Measure:
    """One association measure of genes over cells.

    ``rows(correlations)`` returns the source of its rows (before ``absolute``); ``gram`` names the Gram sums it
    reads (``"raw"``: of the expression, ``"scaled"``: of each cell scaled to a maximum of 1).
    """

    rows: Callable
    gram: str = "raw"
    absolute: bool = False
    doc: str = ""


def _pearson(correlations):
    return correlations.correlation("raw")


def _scaled(correlations):
    return correlations.correlation("scaled")


def _pc1_removed(correlations):
    return correlations.pc1_removed("raw")


#: The registry: one line per measure.
MEASURES: dict[str, Measure] = {
    "pearson": Measure(_pearson, doc="signed Pearson correlation of log expression"),
    "abs_pearson": Measure(_pearson, absolute=True, doc="|Pearson| of log expression"),
    "scaled": Measure(_scaled, gram="scaled", doc="Pearson after scaling each cell to a maximum of 1"),
    "abs_scaled": Measure(_scaled, gram="scaled", absolute=True, doc="|Pearson| after scaling each cell"),
    "pc1_removed": Measure(_pc1_removed, doc="Pearson of standardized genes without their first principal component"),
    "abs_pc1_removed": Measure(_pc1_removed, absolute=True, doc="|Pearson| without the first principal component"),
}


def mean_feature(measures) -> str:
    """The name of the feature that averages the context scores of ``measures``."""
    return MEAN_PREFIX + "+".join(measures)


def feature_measures(name: str) -> tuple[str, ...]:
    """The association measures a feature reads (error on an unknown feature)."""
    if name in MARGINAL_FEATURES:
        return ()
    if name in FEATURES:
        return ("abs_pearson",)
    if name.startswith(MEAN_PREFIX):
        measures = tuple(name[len(MEAN_PREFIX) :].split("+"))
        unknown = [m for m in measures if m not in MEASURES]
        if measures and not unknown:
            return measures
    raise ValueError(
        f"Unknown pair feature {name!r}; known: {list(FEATURES)}, {list(MARGINAL_FEATURES)} or "
        f"'z_mean:<m1>+<m2>...' with measures from {list(MEASURES)}."
    )


def measures_of(features) -> list[str]:
    """The measures ``features`` read, each once, in registry order (unknown features fail here)."""
    wanted = {m for f in features for m in feature_measures(f)}
    return [m for m in MEASURES if m in wanted]


def grams_of(features) -> list[str]:
    """The Gram sums (``"raw"``, ``"scaled"``) the measures of ``features`` read."""
    kinds = {MEASURES[m].gram for m in measures_of(features)}
    return [k for k in ("raw", "scaled") if k in kinds]
