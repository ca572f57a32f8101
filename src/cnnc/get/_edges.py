"""``cnnc.get.edges``: the predicted network as a table."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from .._tables import EDGE_COLUMNS
from .._validate import as_integer, as_number, check_groups_list


def edges(
    adata,
    *,
    key: str = "cnnc",
    top: int | None = None,
    min_score: float | None = None,
    min_cells: int | None = None,
    max_q: float | None = None,
    regulators: list[str] | None = None,
    groups: str | Sequence[str] | None = None,
    network: bool = False,
    signed: bool = True,
) -> pd.DataFrame:
    """Return the edges a tool wrote to ``adata.uns[key]["edges"]``.

    Any tool's edge table: :func:`cnnc.tl.predict_interactions`, :func:`cnnc.tl.causal_scores`,
    :func:`cnnc.tl.causal_network`, cross-validation in :func:`cnnc.tl.train`; each begins with ``regulator, target,
    score`` (higher = stronger).

    Parameters
    ----------
    adata
        The AnnData the prediction was written to.
    key
        ``key_added`` of the prediction.
    top
        Keep the ``top`` highest-scoring edges (per group, for a prediction with ``groupby``).
    min_score
        Keep edges with ``score >= min_score``.
    min_cells
        Keep edges whose genes are both detected in at least this many cells (the ``n_cells`` column).
    max_q
        Keep edges with ``qvalue <= max_q`` (Benjamini–Hochberg: the expected fraction of false edges among those kept
        is at most ``max_q``; see the ``pvalue`` column in :func:`cnnc.tl.predict_interactions`). Applied before
        ``top``. E.g. regulons for decoupler: ``cnnc.get.edges(adata, max_q=0.05, network=True)``.
    regulators
        Keep edges of these regulators.
    groups
        For a prediction with ``groupby``: keep the edges of these groups (default: all, with a ``group`` column).
    network
        Return a ``source``/``target``/``weight`` frame, the network format decoupler accepts
        (e.g. ``decoupler.mt.ulm(adata, net=cnnc.get.edges(adata, top=500, network=True))``), with ``group`` first
        when the prediction has groups.
    signed
        With ``network=True``: ``weight = sign × score``, so activity methods tell activation (+) from repression
        (−); the ``sign`` is that of the pair's correlation (see :func:`cnnc.tl.predict_interactions`).
        ``False``: ``weight = score``.

    Returns
    -------
    DataFrame sorted by decreasing score (by group first, with groups): the tool's table, e.g. ``regulator, target,
    score, p_none, p_ab, p_ba, sign, corr, n_cells, pvalue, qvalue, direction, direction_evidence`` for a prediction
    (``group`` first with groups; what each column holds: :func:`cnnc.tl.predict_interactions`), or ``source,
    target, weight`` with ``network=True``.
    """
    top = as_integer(top, "top", low=1, none=True, example=100, meaning="edges kept per group")
    min_score = as_number(min_score, "min_score", none=True, example=0.5)
    store = adata.uns.get(key)
    if not isinstance(store, dict) or "edges" not in store:
        raise KeyError(f"No predicted edges in adata.uns[{key!r}]; run cnnc.tl.predict_interactions(adata) first.")
    table = store["edges"]
    missing = [c for c in EDGE_COLUMNS if c not in getattr(table, "columns", [])]
    if missing:
        raise ValueError(
            f"adata.uns[{key!r}]['edges'] lacks the columns {missing} every edge table has (made by an older cnnc?): "
            "re-run the tool that wrote it."
        )
    grouped = "group" in table.columns
    if groups is not None:
        if not grouped:
            raise ValueError(
                f"adata.uns[{key!r}] holds one network, not one per group: drop `groups`, or predict with "
                "cnnc.tl.predict_interactions(adata, groupby=...)."
            )
        groups = check_groups_list(groups)
        known = [str(g) for g in pd.unique(table["group"].astype(str))]
        unknown = [g for g in groups if g not in known]
        if unknown:
            raise ValueError(
                f"groups {unknown} are not in adata.uns[{key!r}]['edges']; its groups are {known}: pass some of those."
            )
        table = table[table["group"].astype(str).isin(groups)]
    order = ["group", "score"] if grouped else ["score"]
    table = table.sort_values(order, ascending=[True] * (len(order) - 1) + [False], kind="stable")
    if regulators is not None:
        wanted = {str(r).lower() for r in ([regulators] if isinstance(regulators, str) else regulators)}
        if not wanted:
            raise ValueError("regulators is empty: pass regulator names, or regulators=None for every regulator.")
        table = table[table["regulator"].astype(str).str.lower().isin(wanted)]
        if table.empty:
            raise ValueError(f"None of {sorted(wanted)} is a regulator in adata.uns[{key!r}]['edges'].")
    if min_score is not None:
        table = table[table["score"] >= min_score]
    if min_cells is not None:
        if "n_cells" not in table.columns:
            raise ValueError(
                f"adata.uns[{key!r}]['edges'] has no n_cells column (made by an older cnnc): re-run "
                "cnnc.tl.predict_interactions."
            )
        table = table[table["n_cells"] >= min_cells]
    if max_q is not None:
        if "qvalue" not in table.columns:
            raise ValueError(
                f"adata.uns[{key!r}]['edges'] has no qvalue column (made by an older cnnc): re-run "
                "cnnc.tl.predict_interactions."
            )
        if isinstance(max_q, bool) or not 0 < float(max_q) <= 1:
            raise ValueError(f"max_q must be a q-value cut-off in (0, 1], e.g. 0.05; got {max_q!r}.")
        table = table[table["qvalue"] <= max_q]
    if top is not None:
        table = table.groupby("group", observed=True, sort=False).head(top) if grouped else table.head(top)
    table = table.reset_index(drop=True)
    if network:
        weight = table["score"].to_numpy(dtype=float)
        if signed and "sign" in table.columns:
            weight = weight * table["sign"].to_numpy(dtype=float)
        net = pd.DataFrame(
            {"source": table["regulator"].astype(str), "target": table["target"].astype(str), "weight": weight}
        )
        if grouped:
            net.insert(0, "group", table["group"].to_numpy())
        return net
    return table


def network_diff(
    adata,
    group_a: str,
    group_b: str,
    *,
    key: str = "cnnc",
    top: int | None = 100,
    min_score: float | None = None,
) -> pd.DataFrame:
    """Edges gained and lost between the networks of two groups (from ``predict_interactions(..., groupby=...)``).

    An edge is *in* a group's network when it is among that group's ``top`` edges (and has ``score >= min_score``,
    if given). Every edge in either network is listed with both groups' scores.

    Parameters
    ----------
    adata
        The AnnData the prediction was written to.
    group_a, group_b
        The groups to compare (categories of the ``groupby`` column).
    key
        ``key_added`` of the prediction.
    top
        An edge is in a network when it is among the group's ``top`` highest-scoring edges; ``None``: all edges
        (then use ``min_score``).
    min_score
        An edge is in a network when its score is at least this.

    Returns
    -------
    DataFrame ``regulator, target, score_a, score_b, delta, sign_a, sign_b, n_cells_a, n_cells_b, status`` with
    ``delta = score_b - score_a`` and ``status`` ``"gained"`` (in ``group_b``'s network only), ``"lost"`` (in
    ``group_a``'s only) or ``"shared"``; sorted by status, then by ``|delta|``. A score of NaN: the pair was not
    scored in that group (e.g. fewer than ``min_cells`` co-expressing cells there).

    Examples
    --------
    >>> cnnc.tl.predict_interactions(adata, tfs="human", groupby="louvain")  # doctest: +SKIP
    >>> cnnc.get.network_diff(adata, "CD14+ Monocytes", "B cells", top=200)  # doctest: +SKIP
    """
    if top is None and min_score is None:
        raise ValueError("Pass `top` or `min_score` (or both): they decide which edges are in a network.")
    top = as_integer(top, "top", low=1, none=True, example=100, meaning="edges in each group's network")
    min_score = as_number(min_score, "min_score", none=True, example=0.5)
    if str(group_a) == str(group_b):
        raise ValueError(f"group_a and group_b are both {str(group_a)!r}: pass two different groups to compare.")
    table = edges(adata, key=key, groups=[str(group_a), str(group_b)])
    columns = ["score", "sign", "n_cells"]
    index = ["regulator", "target"]
    a = table[table["group"].astype(str) == str(group_a)].set_index(index)[columns]
    b = table[table["group"].astype(str) == str(group_b)].set_index(index)[columns]

    def members(t: pd.DataFrame) -> pd.Index:
        t = t if min_score is None else t[t["score"] >= min_score]
        return (t if top is None else t.head(top)).index

    in_a, in_b = members(a), members(b)
    union = in_a.union(in_b, sort=False)
    out = pd.DataFrame(index=union)
    for suffix, t in (("a", a), ("b", b)):
        for c in columns:
            out[f"{c}_{suffix}"] = t[c].reindex(union).to_numpy()
    out["delta"] = out["score_b"] - out["score_a"]
    status = np.where(union.isin(in_a) & union.isin(in_b), "shared", np.where(union.isin(in_b), "gained", "lost"))
    out["status"] = pd.Categorical(status, categories=["gained", "lost", "shared"])
    out = out[["score_a", "score_b", "delta", "sign_a", "sign_b", "n_cells_a", "n_cells_b", "status"]]
    out = out.reset_index()
    out = out.assign(_order=-out["delta"].abs().fillna(np.inf)).sort_values(["status", "_order"], kind="stable")
    return out.drop(columns="_order").reset_index(drop=True)
