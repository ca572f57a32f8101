"""Tables of gene pairs: the one reader for pairs to score, known edges and ground truths; predicted edge tables.

One rule, whatever the table is for. A table of gene pairs is

- a :class:`~pandas.DataFrame` whose two gene columns are the first of :data:`PAIR_COLUMNS` it has (column names
  compared case-insensitively: ``regulator``/``target``, ``gene_a``/``gene_b``, BEELINE's ``Gene1``/``Gene2``,
  ``source``/``target``); pairs to image or score (not edges) may also sit in the first two columns of a DataFrame
  without such names;
- a list of ``(gene_a, gene_b)`` tuples (or one such tuple), or a 2-d array of such rows;
- or the path of a CSV file holding such a DataFrame.

A ``label`` column (or a third entry per tuple) is kept for the readers that use CNNC's labels.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from operator import itemgetter
from os import PathLike
from pathlib import Path

import numpy as np
import pandas as pd
from anndata import AnnData
from scanpy import logging as logg

#: Accepted names of the two gene columns, in order of preference (compared case-insensitively).
PAIR_COLUMNS = (("regulator", "target"), ("gene_a", "gene_b"), ("gene1", "gene2"), ("source", "target"))

#: The leading columns of every edge table a tool writes to ``uns[key]["edges"]``, in this order; ``score`` ranks
#: the edges (higher = stronger), whatever else a tool adds after them.
EDGE_COLUMNS = ("regulator", "target", "score")

PAIR_TABLE_HELP = (
    "a DataFrame with regulator/target (or gene_a/gene_b, Gene1/Gene2, source/target) columns, a list of "
    "(gene_a, gene_b) tuples, or the path of a CSV file with such columns"
)


def pair_table(table, *, what: str = "The pair table", labels: bool = False, first_two: bool = False) -> pd.DataFrame:
    """Read a table of gene pairs into a DataFrame with columns ``a``, ``b`` (and ``label`` when ``labels``).

    Gene names are kept as given (not yet matched to any data); ``label`` is the table's own column or third
    tuple entry, unparsed, or absent. ``first_two``: a DataFrame without named gene columns gives its first two.
    """
    if isinstance(table, str | PathLike):
        path = Path(table)
        if not path.is_file():
            raise FileNotFoundError(f"{what} file {str(path)!r} does not exist.")
        table = pd.read_csv(path)
    if isinstance(table, pd.DataFrame):
        lower = {str(c).lower(): c for c in table.columns}
        for col_a, col_b in PAIR_COLUMNS:
            if col_a in lower and col_b in lower:
                cols = [lower[col_a], lower[col_b]]
                break
        else:
            if not first_two or table.shape[1] < 2:
                raise ValueError(
                    f"{what} needs its two gene columns named (regulator, target), (gene_a, gene_b), (Gene1, Gene2) "
                    f"or (source, target), in any case: cannot find the regulator and target columns in "
                    f"{list(table.columns)}."
                )
            cols = list(table.columns[:2])
            logg.info(f"    reading columns {cols} as the two genes of each pair (no regulator/target columns)")
        frame = table[cols].set_axis(["a", "b"], axis=1)
        if labels and "label" in lower:
            frame = frame.assign(label=table[lower["label"]].to_numpy())
        return frame.reset_index(drop=True)
    if isinstance(table, tuple) and len(table) == 2 and all(isinstance(g, str) for g in table):
        table = [table]
    if isinstance(table, np.ndarray) and table.ndim == 2 and table.shape[1] in ((2, 3) if labels else (2,)):
        # An array of rows: its columns, read without a Python step per pair.
        names = ("a", "b", "label")[: table.shape[1]]
        return pd.DataFrame({n: table[:, i].astype(object) for i, n in enumerate(names)}, copy=False)
    if isinstance(table, str | bytes) or not isinstance(table, Iterable):
        raise TypeError(f"{what} must be {PAIR_TABLE_HELP}; got {type(table).__name__}.")
    rows = list(table)
    widths = (2, 3) if labels else (2,)
    frame = _uniform_pairs(rows, widths)
    if frame is not None:
        return frame
    bad = [r for r in rows if isinstance(r, str) or not isinstance(r, Sequence | np.ndarray) or len(r) not in widths]
    if bad:
        form = (
            "(gene_a, gene_b) pairs, or (gene_a, gene_b, label) triples"
            if labels
            else "(gene_a, gene_b) pairs (tuples)"
        )
        raise ValueError(f"{what} must hold {form}; {len(bad)} entries are not, e.g. {bad[0]!r}.")
    width = max((len(r) for r in rows), default=2)
    if width == 3 and any(len(r) == 2 for r in rows):
        raise ValueError(f"{what} mixes (gene_a, gene_b) pairs and (gene_a, gene_b, label) triples; use one form.")
    return pd.DataFrame(rows, columns=["a", "b", "label"][:width], dtype=object)


def _uniform_pairs(rows: list, widths: tuple[int, ...]) -> pd.DataFrame | None:
    """The columns of a list of tuples (or lists) all of one accepted width, read without a Python check per pair.

    ``None`` for anything else (the caller then checks each entry and names the bad one).
    """
    if not rows or not set(map(type, rows)) <= {tuple, list}:
        return None
    width = set(map(len, rows))
    if len(width) != 1 or (width := width.pop()) not in widths:
        return None
    names = ("a", "b", "label")[:width]
    columns = {n: np.fromiter(map(itemgetter(i), rows), dtype=object, count=len(rows)) for i, n in enumerate(names)}
    return pd.DataFrame(columns, copy=False)


def read_pairs(pairs) -> pd.DataFrame:
    """Pairs to image or score as a ``gene_a``/``gene_b`` DataFrame of str (see the module's rule)."""
    frame = pair_table(pairs, what="The pair list", first_two=True)
    if len(frame) == 0:
        raise ValueError("The pair list is empty: give at least one (gene_a, gene_b) pair.")
    # Columns read straight into the result (renaming the frame first would copy it).
    return pd.DataFrame(
        {"gene_a": as_strings(frame["a"].to_numpy()), "gene_b": as_strings(frame["b"].to_numpy())}, copy=False
    )


def as_strings(values: np.ndarray) -> np.ndarray:
    """``values`` as an object array of str: as it is when it holds str only (one C pass checks), else converted."""
    if values.dtype == object and pd.api.types.infer_dtype(values, skipna=False) == "string":
        return values
    return np.asarray(pd.Index(values, dtype=object).astype(str), dtype=object)


def string_index(n: int) -> pd.Index:
    """The row labels ``"0"`` .. ``str(n - 1)`` (h5ad stores str labels), as pandas' ``RangeIndex.astype(str)``.

    Made from Python's ``str`` of each number, about 2.5 times faster than pandas' conversion.
    """
    return pd.Index(np.array(list(map(str, range(n))), dtype=object), dtype=object, copy=False)


def read_ground_truth(ground_truth) -> pd.DataFrame:
    """Ground-truth edges as lower-case ``regulator``, ``target`` (compared case-insensitively), deduplicated.

    Self edges are dropped; a missing gene name, or nothing left, is an error.
    """
    table = pair_table(ground_truth, what="ground_truth").set_axis(["regulator", "target"], axis=1)
    if table.isna().any().any():
        raise ValueError(f"The ground truth has {int(table.isna().any(axis=1).sum())} edges with a missing gene name.")
    table = pd.DataFrame(
        {c: table[c].astype(str).str.strip().str.lower().to_numpy() for c in ("regulator", "target")},
    )
    table = table[table["regulator"] != table["target"]].drop_duplicates(ignore_index=True)
    if len(table) == 0:
        raise ValueError("The ground truth has no edges (after removing self edges).")
    return table


def edge_table(regulator, target, score, /, **columns) -> pd.DataFrame:
    """An edge table: :data:`EDGE_COLUMNS`, then ``columns`` in their order, sorted by decreasing score (stable).

    The index is made of strings (h5ad writes it); ties keep the order given.
    """
    table = pd.DataFrame({"regulator": regulator, "target": target, "score": score, **columns})
    table = table.sort_values("score", ascending=False, kind="stable", ignore_index=True)
    table.index = string_index(len(table))
    return table


def predicted_edges(adata: AnnData, key: str) -> pd.DataFrame:
    """The edge table :func:`cnnc.tl.predict_interactions` wrote to ``adata.uns[key]['edges']``, checked."""
    if key not in adata.uns or not isinstance(adata.uns[key], dict) or "edges" not in adata.uns[key]:
        raise KeyError(
            f"No predicted edges in adata.uns[{key!r}]['edges']: run cnnc.tl.predict_interactions first "
            "(or pass the key it wrote to)."
        )
    edges = adata.uns[key]["edges"]
    if not isinstance(edges, pd.DataFrame):
        raise TypeError(f"adata.uns[{key!r}]['edges'] must be a pandas DataFrame, got {type(edges).__name__}.")
    missing = [c for c in EDGE_COLUMNS if c not in edges.columns]
    if missing:
        raise ValueError(
            f"adata.uns[{key!r}]['edges'] lacks the columns {missing} (has {list(edges.columns)}); "
            "re-run cnnc.tl.predict_interactions."
        )
    if len(edges) == 0:
        raise ValueError(f"adata.uns[{key!r}]['edges'] is empty: no pair was scored.")
    return edges


def labelled_candidates(edges: pd.DataFrame, truth: pd.DataFrame, *, directed: bool, key: str = "cnnc"):
    """Label the candidate pairs of ``edges`` by ``truth`` (BEELINE: pairs out of ground-truth regulators).

    Returns
    -------
    ``(candidates, truth_scored)``: the candidate rows (``regulator``, ``target`` as in ``edges``,
    ``score``, boolean ``label``) and, per ground-truth edge, whether it is among the candidates.
    """
    reg = edges["regulator"].astype(str).str.lower().to_numpy()
    tgt = edges["target"].astype(str).str.lower().to_numpy()
    pairs = pd.MultiIndex.from_arrays([reg, tgt])
    if pairs.has_duplicates:
        dup = pairs[pairs.duplicated()][0]
        raise ValueError(
            f"adata.uns[{key!r}]['edges'] lists the pair {dup} more than once (gene names are compared "
            "case-insensitively); keep one row per (regulator, target)."
        )
    keep = np.isin(reg, truth["regulator"].unique()) & (reg != tgt)
    if not keep.any():
        regs = sorted(set(reg))[:5]
        raise ValueError(
            f"No overlap between the ground truth and the scored pairs: none of the {truth['regulator'].nunique()} "
            f"ground-truth regulators (e.g. {truth['regulator'].iloc[:3].tolist()}) is a regulator in "
            f"adata.uns[{key!r}]['edges'] (e.g. {regs}). Check that both use the same gene symbols."
        )
    pairs = pairs[keep]
    truth_pairs = pd.MultiIndex.from_frame(truth)
    label = pairs.isin(truth_pairs)
    truth_scored = truth_pairs.isin(pairs)
    if not directed:
        swapped_pairs = pd.MultiIndex.from_arrays([pairs.get_level_values(1), pairs.get_level_values(0)])
        label |= swapped_pairs.isin(truth_pairs)
        truth_scored |= truth_pairs.isin(swapped_pairs)
    candidates = pd.DataFrame(
        {
            "regulator": edges["regulator"].astype(str).to_numpy()[keep],
            "target": edges["target"].astype(str).to_numpy()[keep],
            "score": pd.to_numeric(edges["score"]).to_numpy(dtype=np.float64)[keep],
            "label": label,
        }
    )
    n_nan = int(np.isnan(candidates["score"]).sum())
    if n_nan:
        raise ValueError(f"{n_nan} candidate pairs in adata.uns[{key!r}]['edges'] have a NaN score.")
    if not label.any():
        hint = " or the edges run the other way (try directed=False)" if directed else ""
        raise ValueError(
            f"None of the {len(candidates)} candidate pairs (out of {truth['regulator'].nunique()} ground-truth "
            f"regulators) is a ground-truth edge, so there is nothing to evaluate: the ground truth's targets "
            f"are not among the scored genes{hint}."
        )
    return candidates, truth_scored
