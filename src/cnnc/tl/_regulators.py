"""The regulators of a prediction: named, named by species (the bundled TF lists), or marked in the data."""

from __future__ import annotations

import numpy as np
import pandas as pd
from anndata import AnnData
from scanpy import logging as logg

from ..datasets._tfs import SPECIES_ALIASES, _species, tfs, tfs_in

#: How a column that marks regulators may spell True and False (case-insensitive).
_TRUE = {"true", "t", "yes", "y", "1", "1.0"}
_FALSE = {"false", "f", "no", "n", "0", "0.0", ""}


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


def regulator_names(adata: AnnData, tfs, var_names: pd.Index) -> list[str]:
    """The regulators named by ``tfs`` (names or a species), or marked in the data when ``tfs`` is ``None``."""
    if tfs is None:
        if "is_tf" in adata.var.columns:
            tfs = adata.var_names[regulator_flags(adata.var["is_tf"])].tolist()
        elif "tfs" in adata.uns:
            tfs = list(adata.uns["tfs"])
        else:
            raise ValueError(
                "No regulators given: pass `tfs=[...]` (transcription factors to score against `targets`), "
                "`pairs=[...]`, or mark them in a boolean `adata.var['is_tf']` column."
            )
    if isinstance(tfs, str):
        tfs = species_tfs(tfs, var_names) if is_species(tfs, var_names) else [tfs]
    tfs = list(dict.fromkeys(str(t) for t in tfs))
    if not tfs:
        raise ValueError("The list of regulators (tfs) is empty.")
    return tfs


def regulator_flags(column: pd.Series, *, where: str = "adata.var['is_tf']") -> np.ndarray:
    """A column that marks regulators, read as booleans: True/False, 1/0, "True"/"False"/"yes"/"no"; NaN = False.

    Anything else (e.g. "TF", 2) is refused: it cannot be read as yes/no, and reading it as "not empty" would make
    every gene a regulator. A column that marks no gene is refused too.
    """
    values = pd.Series(column, copy=False)
    if isinstance(values.dtype, pd.CategoricalDtype):
        values = values.astype(object)
    missing = values.isna().to_numpy()
    present = values[~missing]
    if pd.api.types.is_bool_dtype(present.dtype):
        parsed = present.to_numpy(dtype=bool)
    elif pd.api.types.is_numeric_dtype(present.dtype):
        numbers = present.to_numpy(dtype=float)
        bad = ~np.isin(numbers, (0.0, 1.0))
        if bad.any():
            _refuse_flags(where, present[bad])
        parsed = numbers == 1.0
    else:
        text = present.map(lambda v: str(v).strip().lower())
        bad = ~text.isin(_TRUE | _FALSE)
        if bad.any():
            _refuse_flags(where, present[bad.to_numpy()])
        parsed = text.isin(_TRUE).to_numpy()
    flags = np.zeros(len(values), dtype=bool)
    flags[~missing] = parsed
    if not flags.any():
        raise ValueError(
            f"{where} marks no gene as a regulator (every value is False or missing): mark them "
            f"({where} = adata.var_names.isin(regulators)), or pass tfs=[...] or tfs='human'/'mouse'."
        )
    if missing.any():
        logg.info(f"    {int(missing.sum()):,} missing values in {where} are read as False")
    return flags


def _refuse_flags(where: str, bad: pd.Series) -> None:
    examples = list(dict.fromkeys(map(repr, bad.tolist())))[:3]
    raise ValueError(
        f"{where} must be True/False (or 1/0, 'True'/'False', 'yes'/'no'), but holds {', '.join(examples)}: it "
        f"cannot be read as marking regulators. Set it to booleans ({where} = adata.var_names.isin(regulators)), "
        "or pass tfs=[...]."
    )
