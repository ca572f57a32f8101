"""Transcription-factor lists shipped with cnnc: the default candidate regulators of human and mouse data."""

from __future__ import annotations

from functools import cache
from importlib.resources import files

import pandas as pd

#: Species → (file, source), the lists bundled in ``cnnc/datasets/tfs/``.
TF_LISTS = {
    "human": ("human.txt", "Lambert et al., Cell 2018 (The Human Transcription Factors, v1.01)"),
    "mouse": ("mouse.txt", "AnimalTFDB 3.0 (Hu et al., Nucleic Acids Research 2019), Mus musculus"),
}
SPECIES_ALIASES = {
    "human": "human",
    "homo sapiens": "human",
    "hsapiens": "human",
    "hs": "human",
    "mouse": "mouse",
    "mus musculus": "mouse",
    "mmusculus": "mouse",
    "mm": "mouse",
}


def _species(species: str) -> str:
    key = SPECIES_ALIASES.get(str(species).strip().lower())
    if key is None:
        raise ValueError(
            f"No transcription-factor list for species {species!r}: cnnc ships 'human' and 'mouse'. "
            "For other species pass the regulators as a list, tfs=[...]."
        )
    return key


@cache
def _read(species: str) -> tuple[str, ...]:
    text = files("cnnc.datasets").joinpath("tfs", TF_LISTS[species][0]).read_text(encoding="utf-8")
    return tuple(dict.fromkeys(line.strip() for line in text.splitlines() if line.strip()))


def tfs(species: str = "human") -> list[str]:
    """Transcription factors of human or mouse, as gene symbols: the default candidate regulators.

    The lists ship inside the package (no download). Match them to your data case-insensitively, as
    :func:`cnnc.tl.predict_interactions` does with ``tfs="human"`` or ``tfs="mouse"``.

    - ``"human"``: the 1,639 "known or likely" human TFs of Lambert et al. (2018), version 1.01, HGNC symbols
      as of 2017 (e.g. ``T`` for TBXT). Lambert SA *et al.* The Human Transcription Factors. *Cell*
      172(4):650–665, 2018. doi:10.1016/j.cell.2018.01.029.
    - ``"mouse"``: the 1,623 distinct *Mus musculus* TF symbols (MGI) of AnimalTFDB 3.0. Hu H *et al.*
      AnimalTFDB 3.0: a comprehensive resource for annotation and prediction of animal transcription factors.
      *Nucleic Acids Research* 47(D1):D33–D38, 2019. doi:10.1093/nar/gky822.

    Their authors state no licence for these lists; they are not covered by cnnc's MIT licence. Cite the
    papers above when you use them. Where the files come from and how they were checked:
    :doc:`/references`.

    Parameters
    ----------
    species
        ``"human"`` or ``"mouse"`` (also ``"Homo sapiens"``, ``"Mus musculus"``).

    Returns
    -------
    Gene symbols, in the order of the source.

    Examples
    --------
    >>> import cnnc
    >>> len(cnnc.datasets.tfs("human")), len(cnnc.datasets.tfs("mouse"))
    (1639, 1623)
    """
    return list(_read(_species(species)))


def tfs_in(names: pd.Index, species: str) -> list[str]:
    """The genes of ``names`` (as spelled there) that are in the TF list of ``species``, matched case-insensitively."""
    wanted = {t.lower() for t in _read(_species(species))}
    lower = pd.Index(names).astype(str).str.lower()
    return pd.Index(names)[lower.isin(wanted)].astype(str).tolist()
