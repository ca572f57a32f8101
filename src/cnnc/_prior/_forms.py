"""Entry points of the engine: the dense form, the lean pair form (any gene count) and the dask form."""

from __future__ import annotations

import numpy as np
from scanpy import logging as logg

from .._engine._source import ExpressionSource
from ._correlation import Correlations
from ._engine import ContextStatistics, PairPrior, context_z_rows, marginal_table, measure_block, spread_of, walk_pairs
from ._gram import GeneSums, GramSums, StreamedGram, band_slices
from ._measures import FEATURES, MARGINAL_FEATURES, MEAN_PREFIX, MEASURES, feature_measures, grams_of, measures_of
from ._pass import DataPass

#: A whole genes × genes matrix is kept only up to this many genes (the dense form; assign_function).
MAX_CONTEXT_GENES = 20_000
#: Above this many genes the pair form takes each gene's context over a subset of genes (whole transcriptomes).
SUBSET_ABOVE = MAX_CONTEXT_GENES
#: Highly variable genes in the automatic context of data with more than ``SUBSET_ABOVE`` genes.
CONTEXT_VARIABLE_GENES = 3_000
#: Gram matrices (float64, all kinds a model reads) kept whole up to this size; beyond, bands are streamed.
GRAM_BYTES = 2**30
#: Cells × genes entries of a block of cells read at a time.
BLOCK_ENTRIES = 2**25


def check_context_genes(n: int, *, dense: bool = True) -> None:
    """Refuse gene counts for which the context is meaningless, or (dense form) too large to hold."""
    if dense and n > MAX_CONTEXT_GENES:
        raise ValueError(
            f"Context features need a genes × genes correlation; {n} genes is more than {MAX_CONTEXT_GENES}. "
            "Restrict the data to highly variable genes and regulators first."
        )
    if n < 3:
        raise ValueError("Context features need at least 3 genes (a gene's correlations to the others).")


def _source(matrix, chunk_cells) -> ExpressionSource:
    n = max(int(matrix.shape[1]), 1)
    cells = 20_000 if chunk_cells is None else int(chunk_cells)
    return ExpressionSource(matrix, chunk_cells=max(1, min(cells, max(256, BLOCK_ENTRIES // n))))


def dense_statistics(matrix, *, features=FEATURES, chunk_cells=None, gene_names=None, signs: bool = False):
    """:class:`ContextStatistics` over all cells, one data pass (and one Gram matrix in memory) per Gram kind."""
    for name in features:
        feature_measures(name)  # unknown names fail before any work
    source = _source(matrix, chunk_cells)
    n = source.n_genes
    check_context_genes(n)

    def sums_of_each_kind():
        for kind in _dense_kinds(features, signs):
            sums = GramSums.zeros(n, [kind])
            for _, block in source.iter_blocks(np.arange(n)):
                sums.add(block, gene_names)
            yield kind, sums

    return _dense(sums_of_each_kind(), n, features, signs)


def statistics_from_sums(sums: GramSums, *, features=FEATURES, signs: bool = False) -> ContextStatistics:
    """:class:`ContextStatistics` from one data pass's sums of every kind the features read."""
    for name in features:
        feature_measures(name)
    n = len(sums.detected)
    check_context_genes(n)
    return _dense(((k, sums) for k in _dense_kinds(features, signs)), n, features, signs)


def _dense_kinds(features, signs) -> list[str]:
    kinds = grams_of(features)
    if "raw" not in kinds and (signs or any(f in FEATURES or f in MARGINAL_FEATURES for f in features)):
        kinds.insert(0, "raw")
    return kinds


def _dense(sums_by_kind, n: int, features, signs: bool) -> ContextStatistics:
    """The dense form: each measure walked in bands (row statistics, then context z into the features)."""
    keep_abs = signs or any(f in FEATURES for f in features)
    wanted = [f for f in features if f.startswith(MEAN_PREFIX)]
    out = ContextStatistics(None, None, None, {f: np.zeros((n, n), dtype=np.float32) for f in wanted})
    measures = measures_of([*features, *(["abs_pearson"] if keep_abs else [])])
    for kind, sums in sums_by_kind:
        correlations = Correlations({kind: sums.source(kind)})
        if kind == "raw" and any(f in MARGINAL_FEATURES for f in features):
            out.marginals = marginal_table(sums)
        for m in (m for m in measures if MEASURES[m].gram == kind):
            _dense_measure(out, correlations, m, n, keep_abs and m == "abs_pearson", wanted)
        if kind == "raw" and signs:
            out.positive = np.empty((n, n), dtype=bool)
            for band in band_slices(n):
                out.positive[band] = correlations.correlation("raw").rows(band) > 0
        del correlations, sums  # the next kind's Gram matrix replaces this one
    for name in wanted:
        out.means[name] /= np.float32(len(feature_measures(name)))
    return out


def _dense_measure(out: ContextStatistics, correlations, m: str, n: int, keep_abs: bool, wanted) -> None:
    mu, sd = np.empty(n, dtype=np.float32), np.empty(n, dtype=np.float32)
    if keep_abs:
        out.abs_corr = np.empty((n, n), dtype=np.float32)
    for band in band_slices(n):
        block = measure_block(correlations, m, None, band)
        mu[band], sd[band] = np.nanmean(block, axis=1), np.nanstd(block, axis=1)
        if keep_abs:
            block[np.arange(block.shape[0]), np.arange(n)[band]] = 1.0
            out.abs_corr[band] = block
    sd = spread_of(sd)
    if keep_abs:
        out.mean, out.std = mu, sd
    targets = [f for f in wanted if m in feature_measures(f)]
    for band in band_slices(n) if targets else ():
        z = context_z_rows(measure_block(correlations, m, None, band), band, mu, sd)
        z[np.arange(z.shape[0]), np.arange(n)[band]] = 0.0
        for name in targets:
            out.means[name][band] += z


def mean_feature_matrix(matrix, name: str, *, chunk_cells=None, gene_names=None) -> np.ndarray:
    """A ``"z_mean:..."`` feature of every gene pair (float32 genes × genes, diagonal 0)."""
    return dense_statistics(matrix, features=[name], chunk_cells=chunk_cells, gene_names=gene_names).means[name]


def choose_context(sums: GeneSums, must: np.ndarray, n_variable: int) -> np.ndarray:
    """The context genes: ``must`` and the ``n_variable`` other genes of highest variance of the values."""
    mean = sums.totals["raw"] / sums.n_cells
    var = np.maximum(sums.squares["raw"] / sums.n_cells - mean**2, 0)
    order = np.argsort(-var, kind="stable")
    must = np.unique(np.asarray(must, dtype=np.int64))
    return np.union1d(must, order[~np.isin(order, must)][:n_variable])


def pair_prior(matrix, a, b, *, features, context=None, chunk_cells=None, gene_names=None, client=None, sums=None):
    """:class:`PairPrior` of pairs (a, b): exact at any gene count, memory bounded by a band of rows.

    ``context``: ``None`` (every gene up to :data:`SUBSET_ABOVE` genes, else the regulators plus the
    :data:`CONTEXT_VARIABLE_GENES` most variable genes), an integer ``k`` (the regulators plus the ``k`` most
    variable genes) or the gene positions to take each gene's context over.
    With a dask.distributed ``client`` (and a dask array) a whole Gram matrix is summed on the workers.
    ``sums``: the :class:`._gram.GramSums` of a pass already made over these cells (:func:`data_pass`), read
    instead of the data.
    """
    a, b = np.asarray(a, dtype=np.int64), np.asarray(b, dtype=np.int64)
    measures, kinds = measures_of(features), grams_of(features)
    n = int(matrix.shape[1])
    check_context_genes(n, dense=False)
    must = np.unique(a)
    if context is None and n > SUBSET_ABOVE:
        if len(must) > MAX_CONTEXT_GENES:
            raise ValueError(
                f"{len(must):,} regulators is more than the {MAX_CONTEXT_GENES:,} context genes the features can "
                "use: score fewer regulators per call (e.g. in batches of tfs=...)."
            )
        context = max(0, min(CONTEXT_VARIABLE_GENES, MAX_CONTEXT_GENES - len(must)))
    source = _source(matrix, chunk_cells)
    if sums is not None and context is None:
        grams = {k: sums.source(k) for k in ["raw", *(k for k in kinds if k != "raw")]}
    else:
        held = context is None and holds_grams(n, kinds)
        grams, sums = _gram_sources(source, matrix, n, kinds, held, gene_names, client)
    rows = None
    if context is not None:
        rows = choose_context(sums, must, context) if np.isscalar(context) else np.unique(context).astype(np.int64)
        logg.info(f"    context features over {len(rows):,} of {n:,} genes: regulators and the most variable genes")
    values, mean, std = {}, {}, {}
    if measures:
        row_gene, cols, row_pos = _pair_rows(a, b, rows, n)
        values, mean, std = walk_pairs(Correlations(grams), measures, n, rows, row_pos, cols)
    key = np.minimum(a, b) * n + np.maximum(a, b)
    order = np.argsort(key, kind="stable")
    marginals = marginal_table(sums) if any(f in MARGINAL_FEATURES for f in features) else None
    return PairPrior(n, key[order], {m: v[order] for m, v in values.items()}, mean, std, marginals)


def holds_grams(n: int, kinds, rows: int = 0) -> bool:
    """Whether the Gram matrices of ``kinds`` (and the raw one) of ``n`` genes fit :data:`GRAM_BYTES`.

    ``rows``: rows of co-detection counts held beside them.
    """
    return (len({"raw", *kinds}) * n + rows) * 8 * n <= GRAM_BYTES


def data_pass(matrix, a, *, features, context=None, chunk_cells=None, gene_names=None, client=None, sample_cells=None):
    """One pass over the cells (:class:`._pass.DataPass`) for pairs whose first genes are ``a``, or ``None``.

    ``None`` when the context prior would not hold its Gram matrices whole (a context of genes, or too many genes
    for :data:`GRAM_BYTES`): the forms then stream bands, and pair evidence takes its own pass.
    ``sample_cells``: the cells whose rows are kept (the significance null's).
    """
    n = int(matrix.shape[1])
    kinds = grams_of(features)
    rows = np.unique(np.asarray(a, dtype=np.int64))
    counted = n if 2 * len(rows) >= n else len(rows)  # as DataPass.zeros counts them
    if not measures_of(features) or context is not None or n > SUBSET_ABOVE or not holds_grams(n, kinds, counted):
        return None
    check_context_genes(n, dense=False)
    if client is not None:
        return _cluster_sum(client, matrix, _pass_task, list(kinds), rows, sample_cells)
    out = DataPass.zeros(n, kinds, rows, sample_cells)
    for first, block in _source(matrix, chunk_cells).iter_blocks(np.arange(n)):
        out.add(first, block, gene_names)
    return out


def _pair_rows(a, b, rows, n):
    """Which gene of each pair is read as a row (its position among ``rows``) and which as the column."""
    if rows is None:
        return a, b, a
    rows_of = np.full(n, -1, dtype=np.int64)
    rows_of[rows] = np.arange(len(rows))
    in_a = rows_of[a] >= 0
    if not (in_a | (rows_of[b] >= 0)).all():  # pragma: no cover - regulators are always context genes
        raise ValueError("A pair has no gene among the context genes.")
    row_gene = np.where(in_a, a, b)
    return row_gene, np.where(in_a, b, a), rows_of[row_gene]


def _gram_sources(source, matrix, n, kinds, held, gene_names, client):
    """Gram sources per kind (whole, or streamed a band at a time) and the per-gene sums (always of the raw values)."""
    kinds = ["raw", *(k for k in kinds if k != "raw")]
    if held:
        if client is not None:
            sums = cluster_gram_sums(client, matrix, kinds)
        else:
            sums = GramSums.zeros(n, kinds)
            for _, block in source.iter_blocks(np.arange(n)):
                sums.add(block, gene_names)
        return {k: sums.source(k) for k in kinds}, sums
    sums = GeneSums.from_source(source, kinds, gene_names)
    streamed = {k: StreamedGram(source, k, sums.totals[k], sums.squares[k], sums.n_cells) for k in kinds}
    return streamed, sums


def _gram_task(first, chunk, n_genes: int, kinds):
    from .._distributed import chunk_columns

    sums = GramSums.zeros(n_genes, kinds)
    sums.add(chunk_columns(chunk, np.arange(n_genes)))
    return sums


def _pass_task(first, chunk, n_genes: int, kinds, rows, sample_cells):
    from .._distributed import chunk_columns

    out = DataPass.zeros(n_genes, kinds, rows, sample_cells)
    out.add(first, chunk_columns(chunk, np.arange(n_genes)))
    return out


def _cluster_sum(client, matrix, task, *args):
    """``task(first, chunk, n_genes, *args)`` of each chunk of a dask array on its worker, summed on the workers."""
    import dask

    from .._distributed import row_chunks, tree_sum

    n = int(matrix.shape[1])
    # no name keeps the chunks' futures: each partial sum is freed on its worker once it has been added
    return tree_sum(
        client, client.compute([dask.delayed(task)(f, c, n, *args) for f, c in row_chunks(matrix)])
    ).result()


def cluster_gram_sums(client, matrix, kinds) -> GramSums:
    """The Gram sums of a dask array, each chunk's on its worker, summed in a tree on the workers."""
    return _cluster_sum(client, matrix, _gram_task, list(kinds))


def cluster_context_statistics(client, matrix, *, features=("z_context",)) -> ContextStatistics:
    """:class:`ContextStatistics` of a dask array, its Gram matrix reduced on the workers."""
    n = int(matrix.shape[1])
    check_context_genes(n)
    return statistics_from_sums(cluster_gram_sums(client, matrix, _dense_kinds(features, False)), features=features)
