"""MSigDB Hallmark gene sets (CC BY 4.0), human and mouse symbols, fetched with pooch."""

from __future__ import annotations

from ._registry import fetch

SPECIES = ("human", "mouse")


def hallmark(species: str = "human") -> dict[str, list[str]]:
    """The 50 MSigDB Hallmark gene sets (v7.0) as ``{set name: [gene symbols]}``, for :func:`cnnc.tl.assign_function`.

    Fetched with pooch (sha256-checked) from public byte-identical copies, or read from ``$CNNC_DATA_DIR``.

    Parameters
    ----------
    species
        ``"human"`` (MSigDB's own symbols; also ``"Homo sapiens"``, any case) or ``"mouse"`` (the same sets mapped to mouse orthologs by the Mouse-GEM
        project; an orthology-mapped Hallmark, not MSigDB's own mouse collection).

    Returns
    -------
    Dict of set name to gene symbols, in the file's order.

    Notes
    -----
    MSigDB content is licensed CC BY 4.0 (© Broad Institute, MIT, Regents of the University of California): cite
    Liberzon et al., Cell Systems 1:417-425 (2015) and Subramanian et al., PNAS 102:15545 (2005); for the mouse
    mapping, Wang et al., PNAS 118:e2102344118 (2021).

    Examples
    --------
    >>> import cnnc
    >>> sets = cnnc.datasets.hallmark("human")  # doctest: +SKIP
    >>> len(sets)  # doctest: +SKIP
    50
    """
    from ._tfs import SPECIES_ALIASES

    key = SPECIES_ALIASES.get(str(species).strip().lower()) if isinstance(species, str) else None
    if key not in SPECIES:
        raise ValueError(
            f"Unknown species {species!r}: the Hallmark sets exist for {list(SPECIES)}; pass species='human' or "
            "'mouse' (for other species, map the genes to orthologs and pass the sets as a dict)."
        )
    species = key
    from ..tl._function import read_gmt

    return read_gmt(fetch(f"genesets/hallmark.{species}.gmt"))
