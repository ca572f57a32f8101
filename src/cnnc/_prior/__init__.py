"""The context prior: association measures of genes, each normalised within every gene's associations to all genes.

Measured on BEELINE (leave-one-cell-type-out): a pair's |Pearson| z-scored within the regulator's correlations to all
genes plus z-scored within the target's correlations to all genes transfers to unseen cell types far better than the
raw correlation or the pair image alone (a CLR-like context normalisation). The same normalisation applies to other
association measures; a feature ``"z_mean:<m1>+<m2>+..."`` averages the context scores of several measures, which is
how the default model combines them (equal weights: learned weights did not transfer between cell types).

- :mod:`._measures`: the registry of association measures (one object and one line each) and the feature names;
- :mod:`._gram`: the sums over cells every measure is made from (the one Gram product), whole or a band at a time;
- :mod:`._correlation`: rows of the base correlations (and the first principal component, by Lanczos iterations);
- :mod:`._pass`: one pass over the cells for a prediction: the Gram sums, the pairs' co-detections, the null's cells;
- :mod:`._engine`: the band walk, and the dense (:class:`ContextStatistics`) and lean (:class:`PairPrior`) results;
- :mod:`._forms`: the entry points: dense, pairs at any gene count (exact, or over a context of genes), dask.
"""

from ._correlation import EIGH_MAX_GENES
from ._engine import ContextStatistics, PairPrior, context_z
from ._forms import (
    CONTEXT_VARIABLE_GENES,
    GRAM_BYTES,
    MAX_CONTEXT_GENES,
    SUBSET_ABOVE,
    check_context_genes,
    choose_context,
    cluster_context_statistics,
    data_pass,
    dense_statistics,
    mean_feature_matrix,
    pair_prior,
    statistics_from_sums,
)
from ._gram import DENSE_GRAM_BYTES, GeneSums, GramSums, refuse_bad_values
from ._measures import (
    FEATURES,
    MARGINAL_FEATURES,
    MARGINALS,
    MEAN_PREFIX,
    MEASURES,
    Measure,
    feature_measures,
    grams_of,
    mean_feature,
    measures_of,
)

__all__ = [
    "CONTEXT_VARIABLE_GENES",
    "DENSE_GRAM_BYTES",
    "EIGH_MAX_GENES",
    "FEATURES",
    "GRAM_BYTES",
    "MARGINALS",
    "MARGINAL_FEATURES",
    "MAX_CONTEXT_GENES",
    "MEAN_PREFIX",
    "MEASURES",
    "SUBSET_ABOVE",
    "ContextStatistics",
    "GeneSums",
    "GramSums",
    "Measure",
    "PairPrior",
    "check_context_genes",
    "choose_context",
    "cluster_context_statistics",
    "context_z",
    "data_pass",
    "dense_statistics",
    "feature_measures",
    "grams_of",
    "mean_feature",
    "mean_feature_matrix",
    "measures_of",
    "pair_prior",
    "refuse_bad_values",
    "statistics_from_sums",
]
