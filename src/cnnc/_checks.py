"""Input and output checks shared by prediction and training: refuse what would give a silently wrong answer.

Every check raises before anything is written, with a message naming the problem and the fix. The table of what
each public function refuses is in ``docs/refusals.md``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scanpy import logging as logg

from ._engine._source import ExpressionSource

#: Fewest cells a pair image (a 32 × 32 joint histogram) and the context statistics are computed from.
MIN_CELLS = 20


def check_cells(n_cells: int, *, what: str = "The data", minimum: int = MIN_CELLS) -> None:
    """Refuse data with no cells, or too few for a pair image and correlations to say anything."""
    if n_cells == 0:
        raise ValueError(
            f"{what} has no cells (0 rows): nothing to compute a pair image from. Check the subset you passed "
            "(e.g. a boolean mask that selects no cell)."
        )
    if n_cells < minimum:
        raise ValueError(
            f"Only {n_cells} cells: a pair image needs at least {minimum} cells to say anything (with fewer, "
            "every pair gets nearly the same image and score). Pool cells of the same type, or use more cells."
        )


def refuse_raw_counts(
    matrix,
    genes: np.ndarray,
    *,
    max_cells: int = 5_000,
    what: str = "the data",
    label: str | None = None,
    gene_names=None,
) -> None:
    """Raise when the values look like raw counts (or are boolean), which models trained on log data would misread.

    Raw UMI counts are integers; log-normalized values (``log1p`` of normalized counts) are not, apart from zero.
    Refused: data whose nonzero values are all integers, however shallow (maximum 2 or 17), and any gene whose
    nonzero values are integers up to at least 2 (counts mixed into log data). Pass the genes the computation reads
    (all genes when a model uses context features), and their names (``gene_names``, aligned with ``genes``) for
    the message. The check reads the first ``max_cells`` cells. ``label`` is where the matrix comes from
    (``"raw"`` for ``.raw``): the message then names ``use_raw=False``.
    """
    dtype = getattr(matrix, "dtype", None)
    if dtype is not None and np.dtype(dtype) == np.bool_:
        raise ValueError(
            f"{what} are boolean (True/False), not log-normalized expression. cnnc models read log-normalized "
            "values: run `sc.pp.normalize_total(adata)` and `sc.pp.log1p(adata)` on the counts, or pass the layer "
            "that holds log values with `layer=`."
        )
    genes = np.asarray(genes)
    if matrix.shape[0] == 0 or len(genes) == 0:
        return  # no cells: check_cells names the problem
    source = ExpressionSource(matrix, chunk_cells=max_cells)
    _, block = next(source.iter_blocks(genes))
    data = block.data
    if data.size == 0 or not np.all(np.isfinite(data)):
        return  # nothing to judge; NaN and infinite values are named gene by gene by the binning
    integer = data == np.round(data)
    if integer.all():
        where = f"all {data.size:,} nonzero values read are integers, up to {data.max():g}"
    else:
        # per gene: nonzero values all integers, at least two of them, up to 2 or more
        counts = np.diff(block.indptr)
        starts = block.indptr[:-1][counts > 0]
        per_gene = np.zeros(len(counts), dtype=bool)
        top = np.zeros(len(counts))
        per_gene[counts > 0] = np.logical_and.reduceat(integer, starts)
        top[counts > 0] = np.maximum.reduceat(data, starts)
        suspect = np.flatnonzero(per_gene & (counts >= 2) & (top >= 2))
        if len(suspect) == 0:
            return
        names = np.asarray(gene_names if gene_names is not None else genes, dtype=object)[suspect]
        shown = ", ".join(map(repr, map(str, names[:3]))) + (", ..." if len(names) > 3 else "")
        where = f"{len(suspect)} genes hold only integers, e.g. {shown}, up to {top[suspect].max():g}"
    if label == "raw":
        fix = (
            "The counts are in adata.raw (the usual scanpy layout keeps log values in .X): pass `layer='X'` "
            "(or `use_raw=False`) to read .X, or `layer=` for a layer of log values."
        )
    else:
        fix = (
            "Run `sc.pp.normalize_total(adata)` and `sc.pp.log1p(adata)` first, or pass the layer that holds log "
            "values with `layer=` (`layer='raw'` or `use_raw=True` when .raw holds them); drop count features (e.g. proteins) "
            "mixed into the matrix."
        )
    raise ValueError(f"{what} look like raw counts ({where}). cnnc models read log-normalized expression. {fix}")


def constant_genes(binner) -> np.ndarray:
    """Which of a binner's genes never vary over the cells (all-zero or constant)."""
    return np.asarray(binner.raw_min == binner.raw_max, dtype=bool)


def score_no_evidence(proba: np.ndarray, a: np.ndarray, b: np.ndarray, constant: np.ndarray, names) -> np.ndarray:
    """Score pairs with a gene that never varies as "no interaction" (``p_none = 1``), and say so.

    A gene with the same value in every cell (all-zero genes included) carries no evidence of any interaction; a
    network would still return some probability for its featureless image. ``a``, ``b`` index ``constant`` and
    ``names``. Returns ``proba`` with those rows set to class 0 ("none").
    """
    mask = constant[a] | constant[b]
    if not mask.any():
        return proba
    proba = proba.copy()
    proba[mask] = 0.0
    proba[mask, 0] = 1.0
    genes = np.asarray(names, dtype=object)[np.flatnonzero(constant)]
    shown = ", ".join(map(repr, genes[:5].tolist())) + (", ..." if len(genes) > 5 else "")
    logg.warning(
        f"{int(mask.sum()):,} pairs involve genes that never vary over the cells ({shown}: all-zero or constant); "
        "they carry no evidence of interaction and are scored p_none = 1, score 0."
    )
    return proba


def refuse_nonfinite_scores(proba: np.ndarray, model_name: str) -> None:
    """Refuse to write NaN or infinite probabilities (a model with non-finite weights, e.g. a diverged training)."""
    bad = ~np.isfinite(proba).all(axis=1)
    if bad.any():
        raise ValueError(
            f"Model {model_name!r} returned NaN or infinite probabilities for {int(bad.sum()):,} of {len(bad):,} "
            "pairs: its weights are not finite (a training that diverged?). Nothing was written. Retrain it with "
            "a smaller learning_rate, or load another model."
        )


#: What each function writes into ``adata.uns[key_added]``, as :func:`result_kind` recognises it.
RESULT_KINDS = {
    "cnnc.tl.predict_interactions": "a prediction (cnnc.tl.predict_interactions)",
    "cnnc.tl.pair_histograms": "pair images (cnnc.tl.pair_histograms)",
    "cnnc.tl.train": "a cross-validation (cnnc.tl.train)",
    "cnnc.tl.assign_function": "gene-set scores (cnnc.tl.assign_function)",
    "cnnc.tl.causal_scores": "causal scores (cnnc.tl.causal_scores)",
    "cnnc.tl.causal_network": "a causal network (cnnc.tl.causal_network)",
}


def result_kind(entry) -> str | None:
    """Which cnnc function wrote ``entry`` (a value of ``adata.uns``), as a phrase of :data:`RESULT_KINDS`."""
    if not isinstance(entry, dict):
        return None
    params = entry.get("params") if isinstance(entry.get("params"), dict) else {}
    if "histograms" in entry:
        function = "cnnc.tl.pair_histograms"
    elif "folds" in entry:
        function = "cnnc.tl.train"
    elif "members" in entry and "sets" in entry:
        function = "cnnc.tl.assign_function"
    elif "colliders" in entry or params.get("function") == "causal_network":
        function = "cnnc.tl.causal_network"
    elif "edges" in entry and params.get("function") == "causal_scores":
        function = "cnnc.tl.causal_scores"
    elif "edges" in entry:
        function = "cnnc.tl.predict_interactions"
    else:
        return None
    return RESULT_KINDS[function]


def check_result_key(adata, key: str, *, marker: str, function: str, also=(), foreign=None) -> str | None:
    """Refuse to replace what ``function`` did not write; describe a previous result of its own that is replaced.

    ``adata.uns[key]`` may hold only a previous result of the same function (``marker`` is a key that result
    always has, e.g. ``"edges"``); another function's result, or anything else, is refused. ``also`` lists further
    ``(attribute, key)`` slots the function writes (e.g. ``[("varp", key)]``): when one of them exists without a
    previous result of the function in ``adata.uns[key]``, someone else's matrix would be replaced, and that is
    refused too. ``foreign``: ``(marker, owner, writing, suffix)`` of another tool's result that may stand under
    ``key`` (see :func:`refuse_foreign_result`). Returns a phrase for the log (what is replaced) or ``None`` when
    nothing is replaced.
    """
    from ._validate import as_key

    if foreign is not None:
        refuse_foreign_result(adata, key, **dict(zip(("marker", "owner", "writing", "suffix"), foreign, strict=True)))
    as_key(key)
    uns = getattr(adata, "uns", {})
    replaced = []
    fix = f"Pass another key_added, e.g. key_added={key + '_' + marker!r}"
    ours = False
    if key in uns:
        existing = uns[key]
        written_by = result_kind(existing)
        mine = isinstance(existing, dict) and marker in existing
        if written_by is not None and (not mine or (function in RESULT_KINDS and written_by != RESULT_KINDS[function])):
            raise ValueError(
                f"adata.uns[{key!r}] holds {written_by}; {function} would replace it. {fix}, or delete "
                f"adata.uns[{key!r}] first."
            )
        if not mine:
            if isinstance(existing, dict):
                kind = f"a dict with keys {sorted(map(str, existing))[:5]}"
            else:
                kind = f"a {type(existing).__name__}"
            raise ValueError(
                f"adata.uns[{key!r}] holds something {function} did not write ({kind}); it would be replaced. "
                f"{fix}, or delete adata.uns[{key!r}] first."
            )
        replaced.append(f"adata.uns[{key!r}]")
        ours = True
    for attribute, slot in also:
        mapping = getattr(adata, attribute, None)
        if mapping is not None and slot in mapping:
            if not ours:
                raise ValueError(
                    f"adata.{attribute}[{slot!r}] exists, but adata.uns[{key!r}] holds no result of {function}: "
                    f"it was written by something else and would be replaced. {fix}, or delete "
                    f"adata.{attribute}[{slot!r}] first."
                )
            replaced.append(f"adata.{attribute}[{slot!r}]")
    return " and ".join(replaced) if replaced else None


def refuse_foreign_result(adata, key: str, *, marker: str, owner: str, writing: str, suffix: str) -> None:
    """Refuse to write into ``adata.uns[key]`` when it holds another tool's result (marked by ``marker``).

    Called before any work is done, so a clash fails fast and never costs a computation or loses data.
    """
    existing = adata.uns.get(key) if hasattr(adata, "uns") else None
    if isinstance(existing, dict) and marker in existing:
        raise ValueError(
            f"adata.uns[{key!r}] holds {owner}; writing {writing} there would replace them. "
            f"Pass another key_added, e.g. key_added={key + suffix!r}."
        )


def previous_matrices(adata, key: str) -> list[str]:
    """The ``adata.varp`` keys of the result in ``adata.uns[key]`` (a prediction's ``varp_key``/``varp_keys``)."""
    entry = getattr(adata, "uns", {}).get(key)
    if not isinstance(entry, dict):
        return []
    keys = list(entry.get("varp_keys", [])) + ([entry["varp_key"]] if entry.get("varp_key") else [])
    return [str(k) for k in keys if str(k) in getattr(adata, "varp", {})]


def drop_previous_matrices(adata, key: str) -> list[str]:
    """Delete the ``varp`` matrices of the previous result under ``key`` (they are replaced); returns their keys."""
    keys = previous_matrices(adata, key)
    for k in keys:
        del adata.varp[k]
    return keys


def group_varp_keys(adata, key_added: str, groups, previous=()) -> list[str]:
    """Names of the groups' matrices in ``adata.varp``: ``f"{key_added}_{group}"`` with ``/`` as ``_``.

    Two groups whose names give the same key (``"a/b"`` and ``"a_b"``) get distinct keys (``_2``, ``_3`` appended,
    logged). A key that exists in ``adata.varp`` and is not one of ``previous`` (the matrices of the result being
    replaced) is someone else's: refused before anything is computed.
    """
    keys, seen = [], set()
    for group in groups:
        base = f"{key_added}_{group}".replace("/", "_")
        key, n = base, 1
        while key in seen:
            n += 1
            key = f"{base}_{n}"
        if key != base:
            logg.warning(f"group {str(group)!r} would share adata.varp[{base!r}] with another group: it is {key!r}")
        seen.add(key)
        keys.append(key)
    taken = [k for k in keys if k in getattr(adata, "varp", {}) and k not in set(previous)]
    if taken:
        raise ValueError(
            f"adata.varp[{taken[0]!r}] exists and is not a matrix of the prediction under key_added={key_added!r} "
            f"(e.g. an earlier prediction with key_added={taken[0]!r}); the group's matrix would replace it. Pass "
            f"another key_added, e.g. key_added={key_added + '_groups'!r}, or delete adata.varp[{taken[0]!r}] first."
        )
    return keys


def check_epochs(epochs) -> None:
    """Refuse a number of epochs that trains nothing."""
    if isinstance(epochs, bool) or not isinstance(epochs, int | np.integer) or epochs < 1:
        raise ValueError(
            f"epochs must be a positive integer, got {epochs!r}: with no epoch the model keeps its random "
            "initial weights. Pass epochs >= 1 (default 30; early stopping ends training sooner)."
        )


def refuse_nonfinite_weights(module, *, learning_rate, optimizer: str) -> None:
    """Refuse to return a network whose weights are NaN or infinite (training diverged)."""
    import torch

    with torch.no_grad():
        finite = all(bool(torch.isfinite(p).all()) for p in module.parameters())
    if not finite:
        raise ValueError(
            f"Training diverged: the network's weights became NaN or infinite (optimizer {optimizer!r}, "
            f"learning_rate {learning_rate!r}). Pass a smaller learning_rate (the default of {optimizer!r} is "
            f"{'0.02' if optimizer == 'sgd' else '1e-3'})."
        )


def labelled_table_summary(table: pd.DataFrame) -> str:
    """A phrase counting a labelled table's rows by label, for the log."""
    counts = table["label"].value_counts().sort_index()
    return ", ".join(f"{int(n):,} labelled {int(lab)}" for lab, n in counts.items())
