"""How :func:`cnnc.tl.assign_function` aggregates pair scores and reads images, grouped in one typed object."""

from __future__ import annotations

import warnings
from dataclasses import dataclass, fields, replace

from .._validate import as_bool, as_choice, as_integer, as_number

AGGREGATES = ("softmax", "top_k")


@dataclass(frozen=True)
class FunctionSettings:
    """How :func:`cnnc.tl.assign_function` turns pair scores into set scores (not which sets or model).

    Parameters
    ----------
    aggregate
        How a gene's pair scores with a set's members become its score: ``"softmax"`` (a soft maximum,
        ``temperature · log(mean over members of exp(pair score / temperature))``) or ``"top_k"`` (the mean of the
        ``top_k`` strongest, the former default). Guilt by association only (``method="model"`` or ``"context"``,
        and the guilt-by-association part of ``"combined"``).
    temperature
        Temperature of ``aggregate="softmax"``, on the scale of the pair scores (log-odds): small values follow the
        strongest link, large ones the mean of all links.
    top_k
        For ``aggregate="top_k"``: pair scores averaged per gene and set, the ``top_k`` strongest (``None``: all
        members). Refused with ``aggregate="softmax"`` (unless left at its default), where it would be ignored;
        so is a ``temperature`` other than the default with ``aggregate="top_k"``.
    signed
        Read anti-correlated pairs as uncorrelated (``|Pearson|`` set to 0 before scoring): genes that go down where
        the members go up are not counted as linked to them. Only for pair scores made from ``|Pearson|`` alone
        (``method="context"``, ``"cnnc-context"``, image models' candidate prior); ``None`` = ``True`` for those and
        ``False`` for models whose features read the sign themselves (the default model's signed correlations).
    hub_correction
        Subtract this fraction of each gene's score against every gene of the data (its pair scores with all genes,
        aggregated the same way): a gene linked strongly to everything (a hub) otherwise ranks high for every set.
        ``0`` = off; the default 0.25 was picked with ``temperature`` on the Hallmark benchmark. For models whose
        evidence depends on pair images it corrects only the prior that picks the candidates.
    n_candidates, max_members
        Only for models whose evidence depends on pair images: non-members read per set, and members they are read
        against. Refused (like ``batch_size`` and ``device``) with other models and ``method="context"``.
    batch_size, device
        Pair images per batch and torch device, for models that read images.

    Examples
    --------
    >>> cnnc.tl.assign_function(adata, sets, settings=cnnc.tl.FunctionSettings(hub_correction=0.5))
    ... # doctest: +SKIP
    """

    aggregate: str = "softmax"
    temperature: float = 0.5
    top_k: int | None = 5
    signed: bool | None = None
    hub_correction: float = 0.25
    n_candidates: int = 50
    max_members: int = 30
    batch_size: int = 1024
    device: str | None = None

    def __post_init__(self) -> None:
        as_choice(self.aggregate, "aggregate", AGGREGATES)
        checked = {
            "temperature": as_number(self.temperature, "temperature", low=0, low_open=True, example=0.5),
            "top_k": as_integer(self.top_k, "top_k", low=1, none=True, example=5),
            "signed": as_bool(self.signed, "signed", none=True),
            "hub_correction": as_number(self.hub_correction, "hub_correction", low=0, example=0.25),
        }
        for name, example in (("n_candidates", 50), ("max_members", 30), ("batch_size", 1024)):
            checked[name] = as_integer(getattr(self, name), name, low=1, example=example)
        for name, value in checked.items():  # numpy numbers stored as Python ones
            object.__setattr__(self, name, value)

    def changed(self, *names: str) -> dict[str, object]:
        """The fields among ``names`` (all when none given) whose values differ from their defaults."""
        default = FunctionSettings()
        names = names or tuple(f.name for f in fields(self))
        return {n: getattr(self, n) for n in names if getattr(self, n) != getattr(default, n)}

    @classmethod
    def resolve(cls, settings: FunctionSettings | None, deprecated: dict, function: str) -> FunctionSettings:
        """``settings``, updated by keywords given the former way (each named in a FutureWarning)."""
        if settings is not None and not isinstance(settings, cls):
            raise TypeError(f"settings must be a cnnc.tl.FunctionSettings, got {type(settings).__name__}.")
        settings = settings or cls()
        unknown = sorted(set(deprecated) - {f.name for f in fields(cls)})
        if unknown:
            raise TypeError(f"{function}() got unexpected keyword arguments {unknown}.")
        if deprecated:
            given = ", ".join(f"{k}={v!r}" for k, v in deprecated.items())
            warnings.warn(
                f"{function}({', '.join(f'{k}=...' for k in deprecated)}) is deprecated: pass "
                f"settings=cnnc.tl.FunctionSettings({given}).",
                FutureWarning,
                stacklevel=3,
            )
            settings = replace(settings, **deprecated)
        return settings
