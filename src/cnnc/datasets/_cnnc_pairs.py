from __future__ import annotations

import numpy as np
import pandas as pd
from scanpy import logging as logg

from ._registry import fetch

PAIR_SETS = (
    "mesc_gene_pairs_400",
    "bone_marrow_gene_pairs_200",
    "dendritic_gene_pairs_200",
    "mmukegg_new_new_unique_rand_labelx",
)


def cnnc_pairs(name: str) -> pd.DataFrame:
    """Labelled gene pairs of the original CNNC paper, with its TF-wise blocks.

    The label files of Yuan & Bar-Joseph (PNAS 2019), fetched with pooch (sha256-checked) from CNNC's repository
    or read from ``$CNNC_DATA_DIR``. The three ``*_gene_pairs_*`` sets are TF–target pairs from GTRD ChIP-seq
    (mESC, bone marrow macrophages, dendritic cells); ``mmukegg_new_new_unique_rand_labelx`` holds KEGG pathway
    pairs. Gene symbols are lower-case mouse symbols, as published.

    Parameters
    ----------
    name
        ``"mesc_gene_pairs_400"``, ``"bone_marrow_gene_pairs_200"``, ``"dendritic_gene_pairs_200"`` or
        ``"mmukegg_new_new_unique_rand_labelx"`` (a trailing ``.txt`` is accepted).

    Returns
    -------
    One row per pair, in the file's order, with columns

    - ``gene_a``, ``gene_b``: the two genes.
    - ``label``: 1 if ``gene_a`` regulates ``gene_b``, 2 for the same pair swapped, 0 for a random pair.
    - ``block``: index of the block of rows the pair belongs to, from the ``*_num.txt`` file (one TF's pairs per
      block for the ChIP-seq sets): CNNC splits train and test sets by block so that no TF is in both.

    Examples
    --------
    >>> import cnnc
    >>> pairs = cnnc.datasets.cnnc_pairs("dendritic_gene_pairs_200")
    >>> pairs["block"].nunique()
    16
    """
    stem = name.removesuffix(".txt") if isinstance(name, str) else name
    if stem not in PAIR_SETS:
        msg = f"Unknown CNNC pair set {name!r}: choose one of {', '.join(map(repr, PAIR_SETS))}."
        raise ValueError(msg)
    start = logg.info(f"loading CNNC gene pairs {stem!r}")
    pairs = pd.read_csv(
        fetch(f"cnnc/{stem}.txt"),
        sep="\t",
        header=None,
        names=["gene_a", "gene_b", "label"],
        dtype={"gene_a": str, "gene_b": str, "label": np.int64},
        keep_default_na=False,
    )
    bounds = np.loadtxt(fetch(f"cnnc/{stem}_num.txt"), dtype=np.int64, ndmin=1)
    if bounds.size < 2 or bounds[0] != 0 or bounds[-1] != len(pairs) or np.any(np.diff(bounds) < 0):
        msg = (
            f"cnnc/{stem}_num.txt does not split the {len(pairs)} pairs into blocks: expected increasing bounds "
            f"from 0 to {len(pairs)}, found {bounds[:3].tolist()} ... {bounds[-3:].tolist()}."
        )
        raise ValueError(msg)
    labels = set(np.unique(pairs["label"]).tolist())
    if not labels <= {0, 1, 2}:
        msg = f"cnnc/{stem}.txt has labels {sorted(labels)}; expected 0, 1 and 2."
        raise ValueError(msg)
    pairs["block"] = np.repeat(np.arange(bounds.size - 1), np.diff(bounds))
    logg.info("    finished", time=start, deep=f"{len(pairs)} pairs in {bounds.size - 1} blocks")
    return pairs
