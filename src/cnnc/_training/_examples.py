"""Training examples from one data set: labelled pairs, their images and their extra features."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from .._engine._images import PairImager
from .._engine._params import PairImageParams
from .._features import ContextStatistics
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


def data_set_context(matrix, var_names: pd.Index, params: PairImageParams, features: list[str]) -> DataSetContext:
    """Bin every gene once and, when features are asked for, compute the gene × gene context."""
    imager = PairImager(matrix, np.arange(len(var_names)), params, gene_names=var_names.astype(str).tolist())
    stats = (
        ContextStatistics.from_matrix(matrix, features=features, gene_names=var_names.astype(str).tolist())
        if features
        else None
    )
    return DataSetContext(imager, stats, var_names)


def build_examples(
    context: DataSetContext,
    edges,
    *,
    features: list[str],
    task: str,
    negative_ratio: float,
    negatives: str,
    rng: np.random.Generator,
    tfs: list[str] | None = None,
    max_pairs: int | None = None,
    dataset_id: int = 0,
) -> tuple[Examples, pd.DataFrame]:
    """Labelled pairs of one data set (CNNC's labels) with their images and features; also the matched edges."""
    known, known_negatives = match_labelled(edges, context.var_names)
    if tfs is not None:
        lower = context.var_names.str.lower()
        wanted = [str(t).lower() for t in tfs]
        keep = np.isin(lower[known["regulator"]], wanted)
        if not keep.any():
            raise ValueError("None of the given `tfs` has a known edge in `edges`.")
        known = known[keep].reset_index(drop=True)
        known_negatives = known_negatives[np.isin(lower[known_negatives["regulator"]], wanted)]
    pairs = labelled_pairs(
        known,
        len(context.var_names),
        task=task,
        negative_ratio=negative_ratio,
        negatives=negatives,
        rng=rng,
        known_negatives=known_negatives,
    )
    if max_pairs is not None and len(pairs) > max_pairs:
        pairs = pairs.subset(np.sort(rng.choice(len(pairs), size=max_pairs, replace=False)))
    images = context.imager.images(pairs.a, pairs.b)
    extra = context.stats.features(pairs.a, pairs.b, tuple(features)) if features else None
    # regulator ids must not collide across data sets: offset them by the data set
    grouped = LabelledPairs(pairs.a, pairs.b, pairs.label, pairs.regulator + dataset_id * 10_000_000)
    return Examples(images, extra, grouped, np.full(len(pairs), dataset_id)), known
