"""``cnnc.tl.causal_network``: a network of direct links oriented by colliders, Meek's rules and then pair images.

A PC-style search (Spirtes, Glymour & Scheines 2000) on Gaussianised ranks of the values (the nonparanormal PC of
Harris & Drton 2013): the skeleton by the order-independent adjacency search of PC-stable (Colombo & Maathuis 2014)
with Fisher z tests of partial correlations, unshielded colliders by the separating set of largest p-value
(PC-Max, Ramsey 2016), orientations propagated by Meek's (1995) rules; only the edges the graph leaves undirected
are oriented by the pair-image model, as :func:`cnnc.tl.causal_scores` does for every pair.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from itertools import combinations

import numpy as np
import pandas as pd
from anndata import AnnData
from scanpy import logging as logg
from scipy import stats

from .._checks import check_result_key
from .._docs import doc_any_values, doc_interventions, doc_params, doc_uns_result
from .._evidence import pair_evidence
from .._interventions import parse_interventions
from .._scoring import make_imager, prediction_params, score_pairs
from .._significance import add_significance
from .._tables import edge_table
from .._validate import as_integer, as_number
from ._causal import partial_correlation
from ._measured import check_anndata, direction_model, measured_values

#: The adjacency search tests subsets of neighbours: bounded variables keep it (and the pair images) small.
MAX_VARIABLES = 200


def normal_scores(values: np.ndarray) -> np.ndarray:
    """Each column replaced by the standard normal quantiles of its ranks (ties share their mean rank)."""
    values = np.asarray(values, dtype=np.float64)
    ranks = stats.rankdata(values, axis=0)
    return stats.norm.ppf((ranks - 0.5) / values.shape[0])


def fisher_z(corr: np.ndarray, n: int, i: int, j: int, given: Sequence[int] = ()) -> tuple[float, float]:
    """Fisher's z statistic and two-sided p-value of the partial correlation of ``i`` and ``j`` given ``given``.

    ``corr`` is the correlation matrix of ``n`` samples. Returns ``(|z|, p)``; the statistic, unlike the p-value,
    does not underflow to 0 with many cells, so comparisons between tests use it.
    """
    idx = [i, j, *given]
    precision = np.linalg.pinv(corr[np.ix_(idx, idx)], hermitian=True)
    r = -precision[0, 1] / np.sqrt(max(precision[0, 0] * precision[1, 1], 1e-300))
    r = float(np.clip(r, -1 + 1e-12, 1 - 1e-12))
    z = float(np.sqrt(max(n - len(given) - 3, 1)) * abs(np.arctanh(r)))
    return z, float(2 * stats.norm.sf(z))


def _skeleton(corr: np.ndarray, n: int, alpha: float, max_cond: int | None, adjacent: np.ndarray) -> np.ndarray:
    """PC-stable adjacency search: remove ``i - j`` when some subset of a neighbour set makes them independent.

    Neighbour sets are frozen at the start of each order of conditioning, so the result does not depend on the
    order of the variables.
    """
    adjacent = adjacent.copy()
    order = 0
    while max_cond is None or order <= max_cond:
        frozen = adjacent.copy()
        tested = False
        for i, j in zip(*np.nonzero(np.triu(frozen, 1)), strict=True):
            for x, y in ((i, j), (j, i)):
                neighbours = [k for k in np.flatnonzero(frozen[x]) if k != y]
                if len(neighbours) < order:
                    continue
                tested = True
                if any(fisher_z(corr, n, i, j, s)[1] > alpha for s in combinations(neighbours, order)):
                    adjacent[i, j] = adjacent[j, i] = False
                    break
        if not tested:
            break
        order += 1
    return adjacent


def _separating_set(
    corr: np.ndarray, n: int, adjacent: np.ndarray, i: int, j: int, max_cond: int | None
) -> tuple[tuple[int, ...], float]:
    """Among the subsets of ``i``'s and of ``j``'s neighbours, the one that leaves ``i`` and ``j`` least dependent.

    PC-Max: the set of largest p-value (smallest Fisher z), whether or not it passes the test level; returns the
    set and its p-value.
    """
    best, best_z, best_p = (), np.inf, 1.0
    for x, y in ((i, j), (j, i)):
        neighbours = [k for k in np.flatnonzero(adjacent[x]) if k != y]
        top = len(neighbours) if max_cond is None else min(max_cond, len(neighbours))
        for size in range(top + 1):
            for s in combinations(neighbours, size):
                z, p = fisher_z(corr, n, i, j, s)
                if z < best_z - 1e-12:
                    best, best_z, best_p = tuple(sorted(s)), z, p
    return best, best_p


def unshielded_colliders(
    corr: np.ndarray, n: int, adjacent: np.ndarray, max_cond: int | None, alpha: float
) -> list[tuple[int, int, int, float]]:
    """The colliders ``(i, k, j, p)`` of a skeleton: ``i -> k <- j`` with ``p`` the p-value of their separating set.

    For two unlinked variables with common neighbours, the separating set of largest p-value decides (PC-Max): every
    common neighbour outside it is a collider. It must pass the test (``p > alpha``): two unlinked variables that
    stay dependent given every set (a given skeleton missing a link, or a hidden common cause) say nothing about
    their common neighbour.
    """
    found = []
    for i, j in combinations(range(len(adjacent)), 2):
        if adjacent[i, j] or not (adjacent[i] & adjacent[j]).any():
            continue
        separating, p_value = _separating_set(corr, n, adjacent, i, j, max_cond)
        if p_value > alpha:
            found += [
                (int(i), int(k), int(j), p_value)
                for k in np.flatnonzero(adjacent[i] & adjacent[j])
                if k not in separating
            ]
    return found


def propagate(adjacent: np.ndarray, colliders) -> tuple[np.ndarray, np.ndarray]:
    """Orient the colliders ``(i, k, j, ...)``, then apply Meek's rules 1-3 until nothing changes.

    Returns ``directed`` (``directed[i, j]``: ``i -> j``) and ``how`` (0 undirected or absent, 1 collider, 2 Meek;
    symmetric). An edge two colliders orient both ways is left undirected: the tests disagree about it, and the
    graph says nothing about its direction.
    """
    p = len(adjacent)
    votes = np.zeros((p, p), dtype=bool)
    for i, k, j, *_ in colliders:
        votes[i, k] = votes[j, k] = True
    directed = votes & ~votes.T
    how = np.where(directed | directed.T, 1, 0)
    # an edge claimed both ways is bidirected (a hidden common cause, or a test error): Meek's rules must not
    # orient it either, so it is no undirected edge to them
    conflict = votes & votes.T

    def undirected(a, b):
        return adjacent[a, b] and not directed[a, b] and not directed[b, a] and not conflict[a, b]

    changed = True
    while changed:
        changed = False
        for a, b in zip(*np.nonzero(np.triu(adjacent, 1)), strict=True):
            for x, y in ((a, b), (b, a)):
                if not undirected(x, y):
                    continue
                # R1: w -> x - y, w and y not adjacent: x -> y (else a collider the tests did not find)
                r1 = any(directed[w, x] and not adjacent[w, y] and w != y for w in range(p))
                # R2: x -> w -> y and x - y: x -> y (else a cycle)
                r2 = any(directed[x, w] and directed[w, y] for w in range(p))
                # R3: x - w1 -> y, x - w2 -> y, w1 and w2 not adjacent: x -> y
                into_y = [w for w in range(p) if undirected(x, w) and directed[w, y]]
                r3 = any(not adjacent[w1, w2] for w1, w2 in combinations(into_y, 2))
                if r1 or r2 or r3:
                    directed[x, y] = True
                    how[x, y] = how[y, x] = 2
                    changed = True
                    break
    return directed, how


def orient(
    corr: np.ndarray, n: int, adjacent: np.ndarray, max_cond: int | None, alpha: float
) -> tuple[np.ndarray, np.ndarray, list[tuple[int, int, int]]]:
    """Orient a skeleton: :func:`unshielded_colliders`, then :func:`propagate`.

    Returns ``directed``, ``how`` and the colliders ``(i, k, j)`` found (``i -> k <- j``).
    """
    found = unshielded_colliders(corr, n, adjacent, max_cond, alpha)
    directed, how = propagate(adjacent, found)
    return directed, how, [c[:3] for c in found]


def _parse_skeleton(skeleton, labels: np.ndarray) -> np.ndarray:
    """A given skeleton (pairs of variable names) as a boolean adjacency matrix over ``labels``."""
    if isinstance(skeleton, pd.DataFrame):
        if skeleton.shape[1] < 2:
            raise ValueError("skeleton as a DataFrame needs two columns of variable names (e.g. regulator, target).")
        skeleton = list(zip(skeleton.iloc[:, 0], skeleton.iloc[:, 1], strict=True))
    if isinstance(skeleton, str) or not isinstance(skeleton, Iterable):
        raise TypeError(
            f"skeleton must be None or pairs of variable names (not one string), e.g. skeleton=[('a', 'b'), ...]; "
            f"got {skeleton!r}."
        )
    position = {str(v): k for k, v in enumerate(labels)}
    adjacent = np.zeros((len(labels), len(labels)), dtype=bool)
    for pair in skeleton:
        if isinstance(pair, str) or len(pair) != 2:
            raise ValueError(
                f"skeleton must hold pairs of variable names, e.g. skeleton=[('a', 'b'), ...]; got {pair!r}."
            )
        a, b = (str(v) for v in pair)
        missing = [v for v in (a, b) if v not in position]
        if missing:
            raise ValueError(
                f"skeleton names {missing}, which are not among the variables scored: add them to variables=[...] "
                "or drop those links."
            )
        if a == b:
            raise ValueError(f"skeleton links {a!r} to itself: drop that pair (a link joins two variables).")
        adjacent[position[a], position[b]] = adjacent[position[b], position[a]] = True
    return adjacent


def _network_values(
    adata: AnnData, variables: Sequence[str] | None, *, layer: str | None, use_raw: bool | None
) -> tuple[np.ndarray, np.ndarray]:
    """The variables' names and values, checked with this tool's bound and the hints of its error messages."""
    return measured_values(
        adata,
        variables,
        layer=layer,
        use_raw=use_raw,
        function="causal_network",
        max_variables=MAX_VARIABLES,
        why_three="colliders",
        max_hint="causal_network searches; pass variables=[...] (e.g. the top links of cnnc.tl.causal_scores).",
    )


def _refuse_constant(labels: np.ndarray, values: np.ndarray) -> None:
    """Refuse variables that never vary: no test of independence can involve them."""
    constant = labels[values.std(axis=0) == 0]
    if len(constant):
        raise ValueError(
            f"Variables {list(constant)} are constant: a test of independence needs variation. Leave them out "
            "(variables=[...])."
        )


def _search(
    values: np.ndarray,
    gaussian: np.ndarray,
    adjacent: np.ndarray,
    design,
    *,
    alpha: float,
    max_cond: int | None,
    given: bool,
) -> dict:
    """The graph: ``adjacent``, ``directed``, ``how`` (see :func:`propagate`) and ``colliders`` ``(i, k, j, p)``.

    Observational cells: the skeleton search (unless ``given``), colliders and Meek's rules on the normal scores.
    With a design of interventions, the interventional graph orients from direct effects and invariance instead.
    """
    if design is not None:
        from ._interventional import interventional_graph  # it builds on this module's search

        graph = interventional_graph(
            values, design, alpha=alpha, max_cond=max_cond, skeleton=adjacent if given else None
        )
        return {key: graph[key] for key in ("adjacent", "directed", "how", "colliders")}
    n = values.shape[0]
    corr = np.corrcoef(gaussian.T)
    if not given:
        adjacent = _skeleton(corr, n, alpha, max_cond, adjacent)
    colliders = unshielded_colliders(corr, n, adjacent, max_cond, alpha)
    directed, how = propagate(adjacent, colliders)
    return {"adjacent": adjacent, "directed": directed, "how": how, "colliders": colliders}


def _image_probabilities(
    labels: np.ndarray, values: np.ndarray, a: np.ndarray, b: np.ndarray, model, batch_size: int
) -> np.ndarray:
    """The image model's ``(p_none, p_ab, p_ba)`` of each pair (a, b), each read both ways; none for no pair."""
    if not len(a):
        return np.zeros((0, 3))
    imager = make_imager(values, np.arange(len(labels)), model.spec.image_params, gene_names=list(map(str, labels)))
    return score_pairs(imager, a, b, model, batch_size=batch_size, symmetric=True, progress=False)


def _network_table(
    labels: np.ndarray, values: np.ndarray, gaussian: np.ndarray, graph: dict, model, batch_size: int
) -> pd.DataFrame:
    """The edge table: one row per link, oriented by the graph where it can, else by the pair image."""
    adjacent, directed, how = graph["adjacent"], graph["directed"], graph["how"]
    a, b = np.nonzero(np.triu(adjacent, 1))
    proba = _image_probabilities(labels, values, a, b, model, batch_size)
    image_direction = proba[:, 1] - proba[:, 2]
    # the graph's orientation where it has one, else the image's (a tie keeps the order given)
    flip = np.where(directed[a, b] | directed[b, a], directed[b, a], image_direction < 0)
    partial = partial_correlation(gaussian)
    edges = edge_table(
        np.where(flip, labels[b], labels[a]),
        np.where(flip, labels[a], labels[b]),
        np.abs(partial[a, b]),  # the strength of the link given the rest of the graph ranks the edges
        oriented_by=np.array(["image", "collider", "meek", "intervention"], dtype=object)[how[a, b]],
        partial_corr=partial[a, b],
        direction=np.where(flip, -image_direction, image_direction),
        p_forward=np.where(flip, proba[:, 2], proba[:, 1]),
        p_backward=np.where(flip, proba[:, 1], proba[:, 2]),
        p_none=proba[:, 0],
        corr=pair_evidence(values, a, b)[0],
    )
    return add_significance(edges, values, a, b, min_cells=0)  # association of the pair, as for predictions


def _network_params(
    model,
    labels: np.ndarray,
    values: np.ndarray,
    *,
    layer: str | None,
    alpha: float,
    max_cond: int | None,
    skeleton: str,
    design,
) -> dict:
    """``uns[key]["params"]``: the model, the inputs, the search settings and the method (``max_cond=None``: -1)."""
    if design is None:
        method = (
            "PC-stable skeleton (Fisher z of partial correlations of normal scores), colliders by the separating set "
            "of largest p-value (PC-Max), Meek rules 1-3; edges left undirected oriented by the image model"
        )
    else:
        method = (
            "PC-stable skeleton with direct interventional effects; orientations from direct effects and "
            "invariance under interventions, Meek rules 1-3; edges left undirected oriented by the image model"
        )
    return prediction_params(
        model,
        symmetric=True,
        precision="float32",
        layer=layer,
        function="causal_network",
        variables=[str(v) for v in labels],
        alpha=alpha,
        max_cond=-1 if max_cond is None else int(max_cond),
        skeleton=skeleton,
        n_cells=int(values.shape[0]),
        **(design.params(labels) if design is not None else {}),
        method=method,
    )


@doc_params(doc_any_values=doc_any_values, doc_uns_result=doc_uns_result, doc_interventions=doc_interventions)
def causal_network(
    adata: AnnData,
    *,
    model="cnnc-causal",
    variables: Sequence[str] | None = None,
    layer: str | None = None,
    use_raw: bool | None = None,
    alpha: float = 0.01,
    max_cond: int | None = 3,
    skeleton=None,
    interventions: str | None = None,
    control=None,
    intervention_targets=None,
    batch_size: int = 1024,
    key_added: str = "cnnc_network",
    copy: bool = False,
) -> AnnData | None:
    """Estimate a network of direct links and orient it with the other variables first, pair images second.

    Where :func:`cnnc.tl.causal_scores` orients each pair from its own image, this uses what the other variables
    say, as the PC algorithm does, and reads pair images only for the edges that leaves undirected:

    1. **Skeleton.** Each column is replaced by the normal quantiles of its ranks (monotone transforms and heavy
       tails do not matter); two variables are linked unless some set of at most ``max_cond`` neighbours of one
       of them makes their partial correlation insignificant (Fisher z test, level ``alpha``; PC-stable search).
       Or pass ``skeleton`` to orient known links only.
    2. **Colliders.** For two unlinked variables ``i`` and ``j`` with a common neighbour ``k``: the subset of
       ``i``'s or ``j``'s neighbours that leaves them least dependent (largest p-value) is their separating set;
       ``i -> k <- j`` when ``k`` is not in it (conditioning on a common effect makes its causes dependent) and
       the set passes the test (p-value above ``alpha``). An edge oriented both ways by two colliders is left
       undirected.
    3. **Propagation.** Meek's rules 1-3 orient the edges whose other direction would create a collider the tests
       did not find, or a cycle.
    4. **Pair images.** Edges still undirected are oriented by the model's ``P(a -> b) - P(b -> a)`` (each pair
       read both ways), as in :func:`cnnc.tl.causal_scores`.

    With ``interventions``, steps 2-3 become: links whose ends a perturbation moves directly, and links to a
    perturbed variable that does not move the other end, are oriented from the interventions (``oriented_by``
    ``"intervention"``; direct effects are added to the skeleton), then Meek's rules propagate them; colliders
    of the pooled cells are not used (perturbed and control cells are no single causal structure). See
    :doc:`/interventions`.

    Conditional-independence tests assume one causal structure behind all cells. Cells pooled from conditions
    that perturb different variables, cycles (feedback) and unmeasured common causes break that assumption, and
    with thousands of cells small dependences are significant, which leaves many links and few colliders: check
    ``oriented_by`` and treat the result as a hypothesis.

    Parameters
    ----------
    adata
        Cells × variables (dense or sparse ``X``, a ``layer`` or ``.raw``), more cells than variables.
    model
        A direction model with classes ``none``, ``a->b``, ``b->a`` whose recipe reads any values, such as
        ``"cnnc-causal"`` (a :class:`cnnc.models.Model`, registry name or file path).
    variables
        The variables of the network (default: all, at most :data:`MAX_VARIABLES`).
    {doc_any_values}
    alpha
        Level of the Fisher z tests of the skeleton search, in (0, 1).
    max_cond
        Largest conditioning set of the tests (``None``: no bound; the search grows exponentially with it).
    skeleton
        ``None`` (estimate it) or the links to orient: pairs of variable names, or a DataFrame whose first two
        columns hold them; then no link is removed by the tests.
    {doc_interventions}
    {doc_uns_result}

    Returns
    -------
    ``None`` or the copy. Writes ``adata.uns[key_added]`` with

    ``"edges"``
        DataFrame, one row per link, sorted by ``score``: ``regulator`` and ``target`` (the orientation),
        ``score`` (``|partial_corr|``: the strength of the link given every other variable), ``oriented_by``
        (``"intervention"``, ``"collider"``, ``"meek"`` or ``"image"``), ``partial_corr`` (given all other variables, on the normal
        scores), ``direction`` (the image model's P(regulator → target) - P(target → regulator); negative when the
        graph overrode the image), ``p_forward``, ``p_backward``, ``p_none``, ``corr`` (Pearson over the cells),
        ``pvalue`` and ``qvalue`` (association of the pair against each variable's cells permuted, and its
        Benjamini–Hochberg adjustment).
    ``"colliders"``
        DataFrame of the unshielded colliders found: ``cause_1``, ``effect``, ``cause_2``, ``p_separation`` (the
        p-value of the two causes' separating set).
    ``"params"``
        The model, ``variables``, ``layer``, ``alpha``, ``max_cond``, whether the skeleton was given, ``n_cells``,
        the method and the cnnc version.

    Examples
    --------
    >>> import cnnc
    >>> adata = cnnc.datasets.sachs()
    >>> cnnc.tl.causal_network(adata)
    >>> adata.uns["cnnc_network"]["edges"].head()  # doctest: +SKIP
    """
    check_anndata(adata, "causal_network")
    alpha = as_number(alpha, "alpha", low=0, high=1, low_open=True, high_open=True, example=0.01)
    max_cond = as_integer(max_cond, "max_cond", low=0, none=True, example=3)
    batch_size = as_integer(batch_size, "batch_size", low=1, example=1024)
    replaced = check_result_key(adata, key_added, marker="edges", function="cnnc.tl.causal_network")
    mdl = direction_model(model, "causal_network")
    labels, values = _network_values(adata, variables, layer=layer, use_raw=use_raw)
    design = parse_interventions(adata, labels, interventions, control, intervention_targets)
    given = skeleton is not None
    adjacent = _parse_skeleton(skeleton, labels) if given else ~np.eye(len(labels), dtype=bool)
    _refuse_constant(labels, values)
    kind = "given" if given else "estimated"
    start = logg.info(f"searching a network of {len(labels)} variables ({kind} skeleton)")
    gaussian = normal_scores(values)
    graph = _search(values, gaussian, adjacent, design, alpha=float(alpha), max_cond=max_cond, given=given)
    edges = _network_table(labels, values, gaussian, graph, mdl, batch_size)
    found = pd.DataFrame(
        [(labels[i], labels[k], labels[j], p) for i, k, j, p in graph["colliders"]],
        columns=["cause_1", "effect", "cause_2", "p_separation"],
    )
    params = _network_params(
        mdl, labels, values, layer=layer, alpha=float(alpha), max_cond=max_cond, skeleton=kind, design=design
    )
    adata = adata.copy() if copy else adata
    adata.uns[key_added] = {"edges": edges, "colliders": found, "params": params}
    if replaced:
        logg.warning(f"replacing the previous causal network in {replaced}")
    counts = edges["oriented_by"].value_counts()
    logg.info(
        "    finished",
        time=start,
        deep=(
            f"{len(edges)} links ({counts.get('intervention', 0)} oriented by interventions, "
            f"{counts.get('collider', 0)} by colliders, {counts.get('meek', 0)} by "
            f"Meek's rules, {counts.get('image', 0)} by pair images); added adata.uns[{key_added!r}]"
        ),
    )
    return adata if copy else None
