"""``cnnc.get.edges``: the predicted network as a table."""

from __future__ import annotations

import pandas as pd


def edges(
    adata,
    *,
    key: str = "cnnc",
    top: int | None = None,
    min_score: float | None = None,
    regulators: list[str] | None = None,
    network: bool = False,
) -> pd.DataFrame:
    """Return the edges scored by :func:`cnnc.tl.predict_interactions` (or cross-validation in :func:`cnnc.tl.train`).

    Parameters
    ----------
    adata
        The AnnData the prediction was written to.
    key
        ``key_added`` of the prediction.
    top
        Keep the ``top`` highest-scoring edges.
    min_score
        Keep edges with ``score >= min_score``.
    regulators
        Keep edges of these regulators.
    network
        Return a ``source``/``target``/``weight`` frame, the network format decoupler accepts
        (e.g. ``decoupler.mt.ulm(adata, net=cnnc.get.edges(adata, top=500, network=True))``).

    Returns
    -------
    DataFrame sorted by decreasing score: ``regulator, target, p_none, p_ab, p_ba, score``, or
    ``source, target, weight`` with ``network=True``.
    """
    store = adata.uns.get(key)
    if not isinstance(store, dict) or "edges" not in store:
        raise KeyError(f"No predicted edges in adata.uns[{key!r}]; run cnnc.tl.predict_interactions(adata) first.")
    table = store["edges"].sort_values("score", ascending=False, kind="stable")
    if regulators is not None:
        wanted = {str(r).lower() for r in ([regulators] if isinstance(regulators, str) else regulators)}
        table = table[table["regulator"].astype(str).str.lower().isin(wanted)]
        if table.empty:
            raise ValueError(f"None of {sorted(wanted)} is a regulator in adata.uns[{key!r}]['edges'].")
    if min_score is not None:
        table = table[table["score"] >= min_score]
    if top is not None:
        if top < 1:
            raise ValueError(f"top must be >= 1, got {top}.")
        table = table.head(top)
    table = table.reset_index(drop=True)
    if network:
        return pd.DataFrame(
            {
                "source": table["regulator"].astype(str),
                "target": table["target"].astype(str),
                "weight": table["score"].astype(float),
            }
        )
    return table
