"""Training examples from one data set: labelled pairs, their images and their extra features."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from .._engine._images import PairImager
from .._engine._params import PairImageParams
from .._prior import ContextStatistics
from ._labels import LabelledPairs, labelled_pairs, match_labelled


@dataclass
class Examples:
    """Images, extra features, labels and regulator groups of labelled pairs (possibly of several data sets)."""

    images: np.ndarray
    extra: np.ndarray | None
    pairs: LabelledPairs
    dataset: np.ndarray

    def subset(self, mask: np.ndarray) -> Examples:
        return Examples(
            self.images[mask],
            None if self.extra is None else self.extra[mask],
            self.pairs.subset(mask),
            self.dataset[mask],
        )

    @staticmethod
    def concat(parts: list[Examples]) -> Examples:
        extra = None if parts[0].extra is None else np.concatenate([p.extra for p in parts])
        pairs = LabelledPairs(
            *(np.concatenate([getattr(p.pairs, f) for p in parts]) for f in ("a", "b", "label", "regulator"))
        )
        return Examples(
            np.concatenate([p.images for p in parts]), extra, pairs, np.concatenate([p.dataset for p in parts])
        )

    def __len__(self) -> int:
        return len(self.pairs)


@dataclass
class DataSetContext:
    """What a data set needs to be imaged and featurised: its imager over all genes and its context statistics."""

    imager: PairImager
    stats: ContextStatistics | None
    var_names: pd.Index
    reads_images: bool = True


def data_set_context(matrix, var_names: pd.Index, params: PairImageParams, features: list[str]) -> DataSetContext:
    """Bin every gene once and, when features are asked for, compute the gene × gene context."""
    imager = PairImager(matrix, np.arange(len(var_names)), params, gene_names=var_names.astype(str).tolist())
    stats = (
        ContextStatistics.from_matrix(matrix, features=features, gene_names=var_names.astype(str).tolist())
        if features
        else None
    )
    return DataSetContext(imager, stats, var_names)


def match_truths(context: DataSetContext, edges, tfs: list[str] | None = None) -> dict[str, tuple]:
    """Each ground truth of one data set as gene positions: ``{name: (known edges, known non-interactions)}``.

    ``edges`` is one table of known interactions or a dict ``{truth name: table}`` (e.g. ChIP-seq and STRING):
    training then draws about equally many edges from each, so that no truth decides for the others.
    """
    tables = edges if isinstance(edges, dict) else {"edges": edges}
    if not tables:
        raise ValueError("The dict of ground truths is empty: give at least one table of known interactions.")
    out = {}
    for name, table in tables.items():
        known, known_negatives = match_labelled(table, context.var_names)
        if tfs is not None:
            lower = context.var_names.str.lower()
            wanted = [str(t).lower() for t in tfs]
            keep = np.isin(lower[known["regulator"]], wanted)
            if not keep.any():
                raise ValueError(f"None of the given `tfs` has a known edge in the table {name!r}.")
            known = known[keep].reset_index(drop=True)
            known_negatives = known_negatives[np.isin(lower[known_negatives["regulator"]], wanted)]
        out[str(name)] = (known, known_negatives)
    return out


def build_examples(
    context: DataSetContext,
    truths: dict[str, tuple],
    *,
    features: list[str],
    task: str,
    sampling,
    rng: np.random.Generator,
    dataset_id: int = 0,
) -> tuple[Examples, pd.DataFrame]:
    """Labelled pairs of one data set (CNNC's labels) with their images and features; also the known edges used.

    ``sampling`` is a :class:`~cnnc._training._recipes.PairSampling`: at most ``max_edges_per_truth`` edges of
    each truth, then CNNC's labels over their union.
    """
    cap = sampling.max_edges_per_truth
    knowns, negatives = [], []
    for known, known_negatives in truths.values():
        if cap is not None and len(known) > cap:
            known = known.iloc[np.sort(rng.choice(len(known), size=cap, replace=False))]
        knowns.append(known)
        negatives.append(known_negatives)
    known = pd.concat(knowns, ignore_index=True).drop_duplicates(ignore_index=True)
    known_negatives = pd.concat(negatives, ignore_index=True).drop_duplicates(ignore_index=True)
    pairs = labelled_pairs(
        known,
        len(context.var_names),
        task=task,
        negative_ratio=sampling.negative_ratio,
        negatives=sampling.negatives,
        rng=rng,
        known_negatives=known_negatives,
    )
    if sampling.max_pairs_per_dataset is not None and len(pairs) > sampling.max_pairs_per_dataset:
        chosen = rng.choice(len(pairs), size=sampling.max_pairs_per_dataset, replace=False)
        pairs = pairs.subset(np.sort(chosen))
    if context.reads_images:
        images = context.imager.images(pairs.a, pairs.b)
    else:  # an ablation that never sees a pair image
        side = context.imager.params.bins
        images = np.zeros((len(pairs), side, side), dtype=np.float32)
    extra = context.stats.features(pairs.a, pairs.b, tuple(features)) if features else None
    # regulator ids must not collide across data sets: offset them by the data set
    grouped = LabelledPairs(pairs.a, pairs.b, pairs.label, pairs.regulator + dataset_id * 10_000_000)
    return Examples(images, extra, grouped, np.full(len(pairs), dataset_id)), known
