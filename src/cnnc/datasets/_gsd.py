from __future__ import annotations

import numpy as np
import pandas as pd
from anndata import AnnData
from scanpy import logging as logg

from ._registry import fetch

_FOLDER = "beeline-example/GSD"


def gsd() -> AnnData:
    """BEELINE's synthetic gonadal sex determination (GSD) data set, with its known network.

    A BoolODE simulation of the GSD Boolean model shipped as BEELINE's example (19 genes, 2,000 cells on two
    branches), fetched with pooch (sha256-checked) or read from ``$CNNC_DATA_DIR``. Small: good for fast checks.

    Returns
    -------
    Cells × genes AnnData with

    - ``X``: float32 simulated expression as published; ``obs_names`` cell ids, ``var_names`` gene names.
    - ``obs["PseudoTime1"]``, ``obs["PseudoTime2"]``: the simulation time of the cell on each branch (NaN off it).
    - ``obs["pseudotime"]``: the mean of the two (cells on both branches have near-equal values).
    - ``uns["ground_truth"]``: DataFrame of edges ``regulator``, ``target``, ``sign`` (+1 activation,
      -1 inhibition); rows repeated in the published file are kept once.
    - ``uns["dataset"]``: ``source``, ``name``, ``species``.

    Examples
    --------
    >>> import cnnc
    >>> adata = cnnc.datasets.gsd()
    >>> adata.shape
    (2000, 19)
    """
    start = logg.info("loading BEELINE's synthetic GSD data set")
    expression = pd.read_csv(fetch(f"{_FOLDER}/ex1/ExpressionData.csv"), index_col=0)
    pseudotime = pd.read_csv(fetch(f"{_FOLDER}/ex1/PseudoTime.csv"), index_col=0)
    network = pd.read_csv(fetch(f"{_FOLDER}/GroundTruthNetwork.csv"), keep_default_na=False)

    if not pseudotime.index.equals(expression.columns):
        msg = "GSD: the cells of PseudoTime.csv differ from those of ExpressionData.csv."
        raise ValueError(msg)
    signs = network["Type"].map({"+": 1, "-": -1})
    if signs.isna().any():
        msg = f"GSD: unexpected edge types {sorted(set(network['Type'][signs.isna()]))}; expected '+' or '-'."
        raise ValueError(msg)
    ground_truth = pd.DataFrame(
        {"regulator": network["Gene1"], "target": network["Gene2"], "sign": signs.astype(np.int8)}
    ).drop_duplicates(ignore_index=True)

    obs = pseudotime.astype(np.float64)
    obs.index = obs.index.astype(str)
    obs["pseudotime"] = pseudotime.mean(axis=1, skipna=True).to_numpy()
    adata = AnnData(
        X=np.ascontiguousarray(expression.to_numpy(dtype=np.float32).T),
        obs=obs,
        var=pd.DataFrame(index=expression.index.astype(str)),
    )
    adata.uns["ground_truth"] = ground_truth
    adata.uns["dataset"] = {"source": "BEELINE", "name": "GSD", "species": "synthetic"}
    logg.info(
        "    finished",
        time=start,
        deep=f"{adata.n_obs} cells × {adata.n_vars} genes, {len(ground_truth)} ground-truth edges",
    )
    return adata
