from __future__ import annotations

from numbers import Integral
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
from anndata import AnnData
from scanpy import logging as logg

from ._registry import fetch, registry

if TYPE_CHECKING:
    from pathlib import Path

CELLS = {  # cell type -> species
    "hESC": "human",
    "hHEP": "human",
    "mDC": "mouse",
    "mESC": "mouse",
    "mHSC-E": "mouse",
    "mHSC-GM": "mouse",
    "mHSC-L": "mouse",
}
NETWORKS = ("Specific", "Non-Specific", "STRING", "Lofgof")
SIZES = (500, 1000)
_ROOT = "beeline-genelink"


def _canonical(value: str, choices, what: str) -> str:
    if isinstance(value, str):
        for choice in choices:
            if value.lower() == choice.lower():
                return choice
    msg = f"Unknown BEELINE {what} {value!r}: choose one of {', '.join(map(repr, choices))}."
    raise ValueError(msg)


def _registered(folder: str, fname: str) -> str | None:
    """Registry key of ``folder/fname`` as plain or gzipped csv, if either is registered."""
    hashes = registry()
    for key in (f"{folder}/{fname}", f"{folder}/{fname}.gz"):
        if key in hashes:
            return key
    return None


def _with_expression() -> dict[str, dict[str, list[int]]]:
    """Map cell -> network -> sizes for which expression is registered."""
    out: dict[str, dict[str, list[int]]] = {}
    for key in registry():
        parts = key.split("/")
        if parts[0] == _ROOT and parts[-1].startswith("BL--ExpressionData.csv"):
            network, cell, size = parts[1:4]
            out.setdefault(cell, {}).setdefault(network, []).append(int(size.removeprefix("TFs+")))
    return out


def _describe_available() -> str:
    available = _with_expression()
    items = []
    for cell in CELLS:
        if cell in available:
            nets = "; ".join(
                f"{net} {'/'.join(map(str, sorted(sizes)))}" for net in NETWORKS if (sizes := available[cell].get(net))
            )
            items.append(f"{cell} ({nets})")
    return ", ".join(items)


def _read_network(path: Path, key: str) -> pd.DataFrame:
    network = pd.read_csv(path, keep_default_na=False)
    if not {"Gene1", "Gene2"} <= set(network.columns):
        msg = f"{key}: expected columns 'Gene1' and 'Gene2', found {list(network.columns)}."
        raise ValueError(msg)
    network = network.rename(columns={"Gene1": "regulator", "Gene2": "target", "Score": "score"})
    columns = ["regulator", "target"] + (["score"] if "score" in network.columns else [])
    return network[columns].reset_index(drop=True)


def beeline(cell: str, network: str = "Specific", size: int = 500) -> AnnData:
    """BEELINE's experimental scRNA-seq benchmark, with its ground-truth network.

    One of BEELINE's seven data sets (Pratapa et al., Nature Methods 2020) as packaged by GENELink: all
    significantly varying TFs plus the ``size`` most varying genes, with one of four ground truths. The files
    are fetched with pooch (sha256-checked) from their public repositories, or read from ``$CNNC_DATA_DIR``
    when it holds a copy of the data folder.

    Parameters
    ----------
    cell
        ``"hESC"``, ``"hHEP"`` (human), ``"mDC"``, ``"mESC"``, ``"mHSC-E"``, ``"mHSC-GM"`` or ``"mHSC-L"`` (mouse).
    network
        Ground truth: ``"Specific"`` (cell-type-specific ChIP-seq), ``"Non-Specific"`` (non-specific ChIP-seq),
        ``"STRING"`` (functional interactions) or ``"Lofgof"`` (loss/gain of function, mESC only).
    size
        ``500`` or ``1000``: the number of most varying genes added to the TFs.

    Returns
    -------
    Cells × genes AnnData with

    - ``X``: float32 log expression as published; ``obs_names`` cell ids, ``var_names`` gene symbols (upper case,
      as published; the gene order is that of this network's file).
    - ``var["is_tf"]``: whether the gene is in the data set's TF list.
    - ``uns["ground_truth"]``: DataFrame of edges, columns ``regulator``, ``target`` and, where the file
      has one (Specific ground truths of mDC, mHSC-E and mHSC-L), ``score``.
    - ``uns["tfs"]``: list of TF names from ``TF.csv``. Where no ``TF.csv`` is registered (hHEP, mHSC-GM) the
      regulators of the ground truth are used instead, and ``uns["dataset"]["tfs_from"]`` says so.
    - ``uns["dataset"]``: ``source``, ``cell``, ``network``, ``size``, ``species`` and ``tfs_from``.

    Examples
    --------
    >>> import cnnc
    >>> adata = cnnc.datasets.beeline("mDC", "Specific", 500)
    >>> adata.shape
    (383, 821)
    >>> len(adata.uns["ground_truth"])
    756
    """
    cell = _canonical(cell, tuple(CELLS), "cell type")
    network = _canonical(network, NETWORKS, "network")
    if isinstance(size, bool) or not isinstance(size, Integral) or int(size) not in SIZES:
        msg = f"Unknown BEELINE size {size!r}: choose 500 (TFs+500) or 1000 (TFs+1000)."
        raise ValueError(msg)
    size = int(size)
    if network == "Lofgof" and cell != "mESC":
        msg = f"The 'Lofgof' ground truth exists for mESC only, not {cell!r}: choose 'Specific', 'Non-Specific' or 'STRING'."
        raise ValueError(msg)

    folder = f"{_ROOT}/{network}/{cell}/TFs+{size}"
    expression_key = _registered(folder, "BL--ExpressionData.csv")
    network_key = _registered(folder, "BL--network.csv")
    if expression_key is None or network_key is None:
        missing = "expression" if expression_key is None else "ground-truth network"
        present = network_key or expression_key
        also = f" (only {present!r} is)" if present else ""
        msg = (
            f"BEELINE {cell} {network} TFs+{size} is not available: no {missing} file is registered for it{also}, "
            f"as its sha256 is not known, so it cannot be fetched safely. "
            f"Available cell (network sizes): {_describe_available()}."
        )
        raise ValueError(msg)
    tf_key = _registered(folder, "TF.csv")

    start = logg.info(f"loading BEELINE {cell} {network} TFs+{size}")
    expression = pd.read_csv(fetch(expression_key), index_col=0)
    if expression.index.isna().any():
        msg = f"{expression_key}: {int(expression.index.isna().sum())} genes have no name (empty or NA-like)."
        raise ValueError(msg)
    ground_truth = _read_network(fetch(network_key), network_key)
    if tf_key is not None:
        tf_table = pd.read_csv(fetch(tf_key), index_col=0, keep_default_na=False)
        tfs = tf_table["TF"].astype(str).tolist()
        tfs_from = "TF.csv"
    else:
        tfs = sorted(set(ground_truth["regulator"]) & set(expression.index))
        tfs_from = "ground-truth regulators"
        logg.warning(
            f"no TF list is registered for BEELINE {cell} {network} TFs+{size}: "
            f"using the {len(tfs)} regulators of the ground truth as adata.uns['tfs']"
        )

    adata = AnnData(
        X=np.ascontiguousarray(expression.to_numpy(dtype=np.float32).T),
        obs=pd.DataFrame(index=expression.columns.astype(str)),
        var=pd.DataFrame(index=expression.index.astype(str)),
    )
    adata.var["is_tf"] = adata.var_names.isin(tfs)
    n_absent = int(
        (~ground_truth["regulator"].isin(adata.var_names) | ~ground_truth["target"].isin(adata.var_names)).sum()
    )
    if n_absent:
        logg.warning(f"{n_absent} ground-truth edges name genes absent from the expression")
    adata.uns["ground_truth"] = ground_truth
    adata.uns["tfs"] = tfs
    adata.uns["dataset"] = {
        "source": "BEELINE",
        "cell": cell,
        "network": network,
        "size": size,
        "species": CELLS[cell],
        "tfs_from": tfs_from,
    }
    logg.info(
        "    finished",
        time=start,
        deep=f"{adata.n_obs} cells × {adata.n_vars} genes, {len(ground_truth)} ground-truth edges, {len(tfs)} TFs",
    )
    return adata
