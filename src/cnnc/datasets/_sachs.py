from __future__ import annotations

import numpy as np
import pandas as pd
from anndata import AnnData
from scanpy import logging as logg

from .._validate import as_bool
from ._registry import fetch

_FOLDER = "sachs"
PROTEINS = ("praf", "pmek", "plcg", "PIP2", "PIP3", "p44/42", "pakts473", "PKA", "PKC", "P38", "pjnk")


def sachs(*, log: bool = False) -> AnnData:
    """Single-cell protein signalling of Sachs et al. (Science 2005), with its consensus directed network.

    Flow cytometry of primary human immune cells: 7,466 cells × 11 phosphorylated proteins and phospholipids,
    all perturbation conditions pooled, and the 18 directed cause → effect edges of the consensus signalling
    network, as packaged by the Causal Discovery Toolbox (MIT licence; the literature also uses 17- and 20-edge
    versions of the consensus). The files are fetched with pooch (sha256-checked) from that repository at a
    fixed commit, or read from ``$CNNC_DATA_DIR`` when it holds a copy of the data folder.

    The values are not expression: use a model whose image recipe reads any continuous variable (e.g.
    ``"cnnc-causal"``, which bins ranks) rather than one made for log-normalized counts.

    Parameters
    ----------
    log
        Return ``log1p`` of the intensities in ``X`` instead of the published values (the raw values are then in
        ``layers["intensity"]``).

    Returns
    -------
    Cells × proteins AnnData with

    - ``X``: float32 positive intensities as published (or their ``log1p`` with ``log=True``);
      ``var_names`` the 11 protein names as published (``praf``, ``pmek``, ``plcg``, ``PIP2``, ``PIP3``,
      ``p44/42``, ``pakts473``, ``PKA``, ``PKC``, ``P38``, ``pjnk``); ``obs_names`` ``"0"``, ``"1"``, ...
    - ``uns["ground_truth"]``: DataFrame of the 18 directed edges, columns ``regulator`` (cause) and
      ``target`` (effect).
    - ``uns["dataset"]``: ``source``, ``name``, ``species``, ``values`` and ``citation``.

    References
    ----------
    Sachs K, Perez O, Pe'er D, Lauffenburger DA, Nolan GP. Causal protein-signaling networks derived from
    multiparameter single-cell data. Science 308:523-529 (2005). Files: github.com/FenTechSolutions/
    CausalDiscoveryToolbox, ``cdt/data/resources/cyto_full_data.csv`` and ``cyto_full_target.csv``.

    Examples
    --------
    >>> import cnnc
    >>> adata = cnnc.datasets.sachs()
    >>> adata.shape
    (7466, 11)
    >>> len(adata.uns["ground_truth"])
    18
    """
    log = as_bool(log, "log")
    start = logg.info("loading the Sachs et al. (2005) protein signalling data")
    values = pd.read_csv(fetch(f"{_FOLDER}/cyto_full_data.csv"))
    network = pd.read_csv(fetch(f"{_FOLDER}/cyto_full_target.csv"), keep_default_na=False)
    if tuple(values.columns) != PROTEINS:
        msg = f"Sachs: expected the columns {list(PROTEINS)}, found {list(values.columns)}."
        raise ValueError(msg)
    if list(network.columns) != ["Cause", "Effect"]:
        msg = f"Sachs: expected the network columns ['Cause', 'Effect'], found {list(network.columns)}."
        raise ValueError(msg)
    unknown = sorted((set(network["Cause"]) | set(network["Effect"])) - set(PROTEINS))
    if unknown:
        msg = f"Sachs: the network names proteins that are not measured: {unknown}."
        raise ValueError(msg)
    intensity = values.to_numpy(dtype=np.float32)
    adata = AnnData(
        X=np.log1p(intensity) if log else intensity,
        obs=pd.DataFrame(index=pd.RangeIndex(len(values)).astype(str)),
        var=pd.DataFrame(index=pd.Index(PROTEINS, dtype=str)),
    )
    if log:
        adata.layers["intensity"] = intensity
    adata.uns["ground_truth"] = pd.DataFrame(
        {"regulator": network["Cause"].astype(str), "target": network["Effect"].astype(str)}
    ).drop_duplicates(ignore_index=True)
    adata.uns["dataset"] = {
        "source": "Causal Discovery Toolbox (cdt/data/resources, MIT licence)",
        "name": "Sachs",
        "species": "human",
        "values": "log1p(intensity)" if log else "intensity",
        "citation": "Sachs K, Perez O, Pe'er D, Lauffenburger DA, Nolan GP. Science 308:523-529 (2005)",
    }
    logg.info(
        "    finished",
        time=start,
        deep=f"{adata.n_obs} cells × {adata.n_vars} proteins, {len(adata.uns['ground_truth'])} ground-truth edges",
    )
    return adata
