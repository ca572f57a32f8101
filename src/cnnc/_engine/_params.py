"""Parameters of a pair image (CNNC's NEPDF): what turns two genes' expression into 32×32 pixels."""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields

import numpy as np

TRANSFORMS = ("cnnc", "density", "counts")
SCALINGS = ("log", "rank", "standard", "rank+standard")
#: Recipes whose image has one channel per view of the variables (in this order)
VIEWS = {"rank+standard": ("rank", "standard")}


@dataclass(frozen=True)
class PairImageParams:
    """Everything that decides the pixels of a pair image.

    The defaults reproduce the original CNNC recipe: ``x = log10(expr + 0.01)`` per gene, a
    ``bins × bins`` :func:`numpy.histogram2d` over each gene's own min..max range, transposed so
    that rows follow the second gene, then ``(log10(H / n_cells + 1e-4) + 4) / 4``.

    Parameters
    ----------
    bins
        Number of bins per gene (CNNC: 32).
    pseudocount
        Added to expression before ``log10`` (CNNC: 0.01).
    density_pseudocount
        Added to the cell fraction before ``log10`` in the ``"cnnc"`` transform (CNNC: 1e-4).
    transform
        ``"cnnc"``: ``(log10(H / n + density_pseudocount) - log10(density_pseudocount)) /
        -log10(density_pseudocount)``, which is CNNC's ``(log10(H/n + 1e-4) + 4) / 4``;
        ``"density"``: ``H / n``; ``"counts"``: raw counts as float.
    scaling
        How each variable's values are placed on the bin axis, before the ``bins`` equal bins over its own
        min..max range: ``"log"`` (CNNC, for expression: ``log10(x + pseudocount)``; values must be
        non-negative); ``"rank"`` (any continuous or discrete variable, negative values allowed: each value's
        mid-rank among the cells divided by the number of cells, so bins are quantiles and the image does not
        change under any increasing transform of a variable; tied values share their average rank);
        ``"standard"`` (any variable with some spread: ``(x - mean) / sd``); ``"rank+standard"`` (a two-channel
        image: the ``"rank"`` image, which does not depend on units, and the ``"standard"`` image, which keeps the
        shape of each variable's distribution). ``pseudocount`` is used by ``"log"`` only.
    """

    bins: int = 32
    pseudocount: float = 0.01
    density_pseudocount: float = 1e-4
    transform: str = "cnnc"
    scaling: str = "log"

    def __post_init__(self) -> None:
        if not isinstance(self.bins, int) or not 2 <= self.bins <= 255:
            raise ValueError(f"bins must be an integer in [2, 255] (codes are uint8), got {self.bins!r}.")
        if not self.pseudocount > 0:
            raise ValueError(
                f"pseudocount must be > 0 so that log10(0 + pseudocount) is finite, got {self.pseudocount!r}."
            )
        if not self.density_pseudocount > 0:
            raise ValueError(f"density_pseudocount must be > 0, got {self.density_pseudocount!r}.")
        if self.transform not in TRANSFORMS:
            raise ValueError(f"transform must be one of {TRANSFORMS}, got {self.transform!r}.")
        if self.scaling not in SCALINGS:
            raise ValueError(f"scaling must be one of {SCALINGS}, got {self.scaling!r}.")

    @property
    def views(self) -> tuple[str, ...]:
        """The scaling of each image channel: one, or two for ``"rank+standard"``."""
        return VIEWS.get(self.scaling, (self.scaling,))

    def to_dict(self) -> dict:
        """Plain dict (JSON- and h5ad-safe)."""
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict) -> PairImageParams:
        """Inverse of :meth:`to_dict`; unknown keys are an error, not silently dropped."""
        known = {f.name for f in fields(cls)}
        unknown = set(d) - known
        if unknown:
            raise ValueError(f"Unknown pair-image parameters {sorted(unknown)}; known: {sorted(known)}.")
        # Values read back from h5ad are numpy scalars (or 0-d arrays): turn them into plain Python values;
        # an integral float bin count (as JSON may write it) is the integer.
        plain = {
            k: (v.item() if isinstance(v, np.generic | np.ndarray) and np.ndim(v) == 0 else v) for k, v in d.items()
        }
        if isinstance(plain.get("bins"), float) and plain["bins"].is_integer():
            plain["bins"] = int(plain["bins"])
        return cls(**plain)
