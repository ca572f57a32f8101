"""Regulators named by species: the bundled TF lists matched to the data's genes."""

from __future__ import annotations

import pandas as pd
from scanpy import logging as logg

from ..datasets._tfs import SPECIES_ALIASES, _species, tfs, tfs_in


def is_species(value: str, var_names: pd.Index) -> bool:
    """Whether ``tfs=value`` names a species (``"human"``, ``"mouse"``) rather than a gene of the data."""
    return str(value).strip().lower() in SPECIES_ALIASES and str(value) not in set(pd.Index(var_names).astype(str))


def species_tfs(species: str, var_names: pd.Index) -> list[str]:
    """The genes of ``var_names`` that are transcription factors of ``species`` (case-insensitive); logged."""
    key = _species(species)
    found = tfs_in(var_names, key)
    n_list = len(tfs(key))
    if not found:
        example = ", ".join(map(str, pd.Index(var_names)[:3]))
        raise ValueError(
            f"None of the {n_list:,} {key} transcription factors (cnnc.datasets.tfs({key!r})) is among the "
            f"{len(var_names):,} genes of the data (e.g. {example}). Gene names must be {key} gene symbols: map "
            "other identifiers (e.g. Ensembl IDs) to symbols first, check the species, or pass tfs=[...]."
        )
    logg.info(
        f"regulators: {len(found):,} of the {n_list:,} {key} transcription factors are among the "
        f"{len(var_names):,} genes (matched case-insensitively)"
    )
    return found
