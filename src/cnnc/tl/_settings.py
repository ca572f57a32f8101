"""Settings of how pairs are read and scored, grouped in one typed object (as scvi-tools groups training settings)."""

from __future__ import annotations

import warnings
from dataclasses import dataclass, fields, replace

import numpy as np

from .._direction import check_direction_mode
from .._docs import doc_chunk_cells, doc_params
from .._validate import as_integer
from ..models._model import PRECISIONS

#: Default ``min_cells``: see :class:`ScoringSettings` and the changelog for how it was chosen.
DEFAULT_MIN_CELLS = 10


@doc_params(doc_chunk_cells=doc_chunk_cells)
@dataclass(frozen=True)
class ScoringSettings:
    """How :func:`cnnc.tl.predict_interactions` scores pairs (not which pairs are candidates, nor what the data are).

    Which candidates are scored (``min_cells``), whether pair images are read (``direction``), how cells are read
    and the network run.

    Parameters
    ----------
    min_cells
        Score only pairs whose two genes are both detected (> 0) in at least this many cells (of the group, with
        ``groupby``); the others are not scored and not reported. Pairs seen together in a handful of cells make
        confident-looking images out of very little evidence. ``0`` scores every pair.
    direction
        ``"auto"``: compute pair images only where they add measured value: when they move the model's score, or
        when the model's images call directions with measured skill (no shipped model's do). Otherwise ``p_ab``
        and ``p_ba`` are NaN and the score comes from the model's context prior alone, at a fraction of the cost.
        ``"images"``: always compute them; ``p_ab`` and ``p_ba`` then hold the model's own split, which for
        ``cnnc-pairs`` was right 0.50 of the time on one-way TF → TF edges of unseen cell types (chance): the
        ``direction`` column still does not call a direction from them.
    batch_size
        Pairs per batch of images: memory is bounded by it, not by the number of pairs.
    symmetric
        Also read each pair's transposed image and average (the network sees both orientations).
    {doc_chunk_cells}
        On a dask cluster the dask chunks decide.
    device
        Torch device; ``None`` picks CUDA when available, else CPU.
    precision
        ``"float32"`` (exact, default) or ``"bfloat16"`` (network under bfloat16 autocast: about twice as fast on
        CPUs with bf16 instructions and on GPUs; probabilities change by ~1e-3).
    distributed
        Run on the workers of the active dask.distributed ``Client``: each worker bins and counts its own chunks of
        cells and runs the model on batches of pairs; only small results travel. ``None`` does so when a client is
        active and the expression is a dask array (e.g. ``X`` from :func:`anndata.experimental.read_elem_lazy`);
        ``False`` keeps the work in this process.
    context_genes
        The genes each gene's context prior is taken over (models with context features): ``None`` = every gene up
        to 20,000 genes, beyond that the regulators plus the 3,000 genes of highest variance (logged); an integer
        ``k`` = the regulators plus the ``k`` genes of highest variance, whatever the gene count (faster on whole
        transcriptomes; the exact context is every gene).

    Examples
    --------
    >>> settings = cnnc.tl.ScoringSettings(min_cells=20, batch_size=256)
    >>> cnnc.tl.predict_interactions(adata, tfs="human", settings=settings)  # doctest: +SKIP
    """

    min_cells: int = DEFAULT_MIN_CELLS
    direction: str = "auto"
    batch_size: int = 1024
    symmetric: bool = True
    chunk_cells: int | None = None
    device: str | None = None
    precision: str = "float32"
    distributed: bool | None = None
    context_genes: int | None = None

    def __post_init__(self) -> None:
        if isinstance(self.min_cells, bool) or not isinstance(self.min_cells, int | np.integer) or self.min_cells < 0:
            raise ValueError(
                f"min_cells must be a non-negative integer (cells that express both genes of a pair), got "
                f"{self.min_cells!r}."
            )
        check_direction_mode(self.direction)
        as_integer(self.batch_size, "batch_size", low=1, example=1024)
        as_integer(self.chunk_cells, "chunk_cells", low=1, none=True, example=20_000)
        if self.precision not in PRECISIONS:
            raise ValueError(f"precision must be one of {PRECISIONS}, got {self.precision!r}.")
        as_integer(self.context_genes, "context_genes", low=2, none=True, example=2000)
        if self.distributed not in (None, True, False):
            raise ValueError(f"distributed must be True, False or None, got {self.distributed!r}.")

    @classmethod
    def resolve(cls, settings: ScoringSettings | None, deprecated: dict, function: str) -> ScoringSettings:
        """``settings``, updated by keywords given the former way (each named in a FutureWarning)."""
        if settings is not None and not isinstance(settings, cls):
            raise TypeError(f"settings must be a cnnc.tl.ScoringSettings, got {type(settings).__name__}.")
        settings = settings or cls()
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(deprecated) - known)
        if unknown:
            raise TypeError(f"{function}() got unexpected keyword arguments {unknown}.")
        if deprecated:
            given = ", ".join(f"{k}={v!r}" for k, v in deprecated.items())
            warnings.warn(
                f"{function}({', '.join(deprecated)}=...) is deprecated: pass settings=cnnc.tl.ScoringSettings({given}).",
                FutureWarning,
                stacklevel=3,
            )
            settings = replace(settings, **deprecated)
        return settings
