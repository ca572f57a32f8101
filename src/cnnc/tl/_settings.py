"""Settings of how pairs are read and scored, grouped in one typed object (as scvi-tools groups training settings)."""

from __future__ import annotations

import warnings
from dataclasses import dataclass, fields, replace

import numpy as np

from .._docs import doc_chunk_cells, doc_params
from ..models._model import PRECISIONS


@doc_params(doc_chunk_cells=doc_chunk_cells)
@dataclass(frozen=True)
class ScoringSettings:
    """How :func:`cnnc.tl.predict_interactions` reads cells and runs the network (not what it predicts).

    Parameters
    ----------
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
    >>> cnnc.tl.predict_interactions(adata, tfs="human", settings=cnnc.tl.ScoringSettings(batch_size=256))
    ... # doctest: +SKIP
    """

    batch_size: int = 1024
    symmetric: bool = True
    chunk_cells: int | None = None
    device: str | None = None
    precision: str = "float32"
    distributed: bool | None = None
    context_genes: int | None = None

    def __post_init__(self) -> None:
        b = self.batch_size
        if isinstance(b, bool) or not isinstance(b, int | np.integer) or b < 1:
            raise ValueError(f"batch_size must be a positive integer, got {b!r}.")
        c = self.chunk_cells
        if c is not None and (isinstance(c, bool) or not isinstance(c, int | np.integer) or c < 1):
            raise ValueError(f"chunk_cells must be a positive integer or None, got {c!r}.")
        if self.precision not in PRECISIONS:
            raise ValueError(f"precision must be one of {PRECISIONS}, got {self.precision!r}.")
        k = self.context_genes
        if k is not None and (isinstance(k, bool) or not isinstance(k, int | np.integer) or k < 2):
            raise ValueError(f"context_genes must be an integer >= 2 or None, got {k!r}.")
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
