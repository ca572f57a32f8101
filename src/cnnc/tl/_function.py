"""``cnnc.tl.assign_function``: score every gene for membership of gene sets by its predicted interactions.

CNNC (Yuan & Bar-Joseph, PNAS 2019) assigned function to genes by how their pair images with the genes of known
function look. Here a gene's score for a set aggregates the model's log-odds of interaction between the gene and
each of the set's members present in the data (guilt by association through the model's pair scores): by default
a soft maximum, ``T · log(mean over members of exp(log-odds / T))`` with temperature ``T = 0.5``, which sits
between the strongest link and the mean of all links, minus a quarter of the same score against every gene of the
data (a hub correction: a gene linked strongly to everything would otherwise rank high for every set). Members are
scored against the other members only (a gene's pair with itself does not exist), so their rows are leave-self-out.

Design, measured on Hallmark sets with a third of each set's members hidden (``benchmarks/function.py``; tuned on
Hallmark only, one rule for all four data sets, picked by the highest sum of the mean share of sets above |Pearson|
guilt by association and the mean median AUROC over them): the soft maximum ranks hidden members higher than the mean of
the ``top_k`` strongest links or the mean over all members, because a set's members form several modules and a new
member sits near one of them, not near all, while a single link is noisy; subtracting 0.25 of the hub term was the only
option better than none on both means (0.5 gained median AUROC and lost sets above |Pearson|, 1 lost both). The default
model (``cnnc-pairs``) reads pair images only to split an interaction's direction, which gene function does not use; its
evidence of an interaction is a linear map of its context features (signed and cell-scaled correlations, and the
correlation without the first principal component), so every gene × member pair is scored exactly. Models whose evidence
of an interaction depends on the images are read on a candidate subset.
"""

from __future__ import annotations

import io
import math
import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from anndata import AnnData
from scanpy import logging as logg
from scanpy import settings
from tqdm.auto import tqdm

from .._checks import check_cells, check_result_key, refuse_raw_counts
from .._data import expression_view
from .._prior import FEATURES, MEAN_PREFIX, ContextStatistics, dense_statistics
from .._scoring import make_imager, score_pairs
from .._utils import PROGRESS_DELAY, cross_pairs, package_version
from .._validate import as_choice, as_integer, refuse_huge, refuse_ignored
from ..models import Model
from . import _function_methods as fm
from ._function_settings import FunctionSettings
from ._predict import _check_species, _resolve_model

#: The model gene function is scored with by default (measured by benchmarks/function.py).
FUNCTION_MODEL = "cnnc-pairs"

METHODS = ("model", "context", "propagation", "combined")
#: Methods that walk the graph of predicted interactions (members scored out of fold).
WALKS = ("propagation", "combined")
#: Defaults of the options that only guilt by association (``method="model"`` or ``"context"``) reads.
GBA_OPTIONS = ("aggregate", "temperature", "top_k", "hub_correction")
#: Settings that only models whose evidence depends on pair images read.
IMAGE_OPTIONS = ("n_candidates", "max_members", "batch_size", "device")
#: A set is ``reliable`` when its cross-validated AUROC is above random at this one-sided p-value.
RELIABLE_ALPHA = 0.05
#: Context features read from |Pearson| alone (blind to the sign of the correlation).
ABS_FEATURES = FEATURES
#: Gene × member pair scores held at a time (float64 features of one block of genes).
BLOCK_PAIRS = 2_000_000


#: Suffixes of gene-set files read as tables (``source``/``target`` columns) rather than GMT; ``.gz`` is allowed.
TABLE_SUFFIXES = (".csv", ".tsv", ".txt")


def _read_text(path: Path) -> str:
    """A text file's content, gunzipped when it is gzip (by its first bytes, whatever its name); UTF-8 or Latin-1."""
    import gzip

    data = path.read_bytes()
    if data[:2] == b"\x1f\x8b":
        try:
            data = gzip.decompress(data)
        except (OSError, EOFError) as error:
            raise ValueError(f"{path} starts like a gzip file but cannot be decompressed ({error}).") from None
    if b"\x00" in data[:65536]:
        raise ValueError(
            f"{path} is not a text file (it holds NUL bytes): pass a GMT file, a CSV/TSV table with 'source' and "
            "'target' columns (either may be gzipped), a dict of name -> genes, or a DataFrame."
        )
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        logg.info(f"    {path.name} is not UTF-8: read as Latin-1")
        return data.decode("latin-1")


def read_gmt(path: str | os.PathLike) -> dict[str, list[str]]:
    """Gene sets of a GMT file: one set a line, ``name<TAB>description<TAB>gene<TAB>gene...`` (may be gzipped)."""
    sets: dict[str, list[str]] = {}
    for i, line in enumerate(_read_text(Path(path)).splitlines(), 1):
        fields = [f.strip() for f in line.split("\t")]
        if not fields[0]:
            continue
        if len(fields) < 2:
            raise ValueError(
                f"Line {i} of {path} is not GMT (name<TAB>description<TAB>genes...): {line[:60]!r}. A table of "
                "set and gene columns is read when the file ends in .csv, .tsv or .txt (optionally .gz)."
            )
        sets.setdefault(fields[0], []).extend(g for g in fields[2:] if g)
    return sets


def _read_set_table(path: Path) -> pd.DataFrame:
    """A CSV/TSV gene-set table (separator sniffed), for :func:`gene_sets_dict`."""
    text = _read_text(path)
    if not text.strip():
        raise ValueError(f"Gene set file {str(path)!r} is empty: give the sets' members.")
    first = text.splitlines()[0]
    sep = "\t" if "\t" in first else ","
    return pd.read_csv(io.StringIO(text), sep=sep, dtype=str)


def gene_sets_dict(gene_sets) -> dict[str, list[str]]:
    """Normalise gene sets (dict or Series of lists, GMT or CSV/TSV path, decoupler-style DataFrame) to a dict."""
    if isinstance(gene_sets, str | Path | os.PathLike):
        path = Path(gene_sets)
        if not path.is_file():
            what = "is a folder, not a file" if path.is_dir() else "does not exist"
            raise FileNotFoundError(
                f"Gene set file {str(path)!r} {what}; pass a GMT path, a CSV/TSV table path, a dict or a DataFrame."
            )
        suffixes = [x.lower() for x in path.suffixes if x.lower() != ".gz"]
        if suffixes and suffixes[-1] in TABLE_SUFFIXES:
            return gene_sets_dict(_read_set_table(path))
        sets = read_gmt(path)
    elif isinstance(gene_sets, pd.DataFrame):
        cols = {c.lower(): c for c in map(str, gene_sets.columns)}
        for src, tgt in (("source", "target"), ("geneset", "genesymbol"), ("term", "gene"), ("set", "gene")):
            if src in cols and tgt in cols:
                break
        else:
            raise ValueError(
                f"Cannot find the set and gene columns in {list(gene_sets.columns)}; a decoupler-style table has "
                "columns 'source' (set name) and 'target' (gene): rename them."
            )
        frame = gene_sets[[cols[src], cols[tgt]]].dropna().astype(str)
        sets = {str(k): v.tolist() for k, v in frame.groupby(cols[src], sort=False)[cols[tgt]]}
    elif isinstance(gene_sets, Mapping | pd.Series):
        sets = {str(name): _set_members(name, genes) for name, genes in gene_sets.items()}
    else:
        raise TypeError(
            f"Unknown gene set format {type(gene_sets).__name__}: pass a dict of name -> genes, the path of a GMT "
            "file or CSV/TSV table, or a decoupler-style DataFrame with columns 'source' and 'target'."
        )
    if not sets:
        raise ValueError("No gene set given: the dict, file or table is empty. Give at least one set of genes.")
    empty = [k for k, v in sets.items() if not v]
    if len(empty) == len(sets):
        raise ValueError(f"Every gene set is empty (e.g. {empty[:3]}); give the members of each set.")
    return sets


def _set_members(name, genes) -> list[str]:
    """The members of one set of a dict: any iterable of names; missing values (None, NaN) are dropped."""
    if isinstance(genes, str):
        raise ValueError(f"Gene set {name!r} is a string; give a list of genes, e.g. {{{name!r}: [{genes!r}]}}.")
    if not isinstance(genes, Iterable):
        raise TypeError(
            f"Gene set {name!r} is {genes!r}, not a list of genes: give a list, e.g. {{{name!r}: ['GENE1', "
            "'GENE2']}, or drop the set."
        )
    return [str(g) for g in genes if not (g is None or (isinstance(g, float) and math.isnan(g)))]


def match_members(sets: dict[str, list[str]], var_names: pd.Index, *, min_size: int) -> tuple[dict, pd.DataFrame]:
    """Member positions of each set among ``var_names`` (case-insensitive) and a per-set summary table."""
    upper = pd.Index(var_names.astype(str).str.upper())
    if not upper.is_unique:
        dup = upper[upper.duplicated()][:5].tolist()
        raise ValueError(f"Gene names collide when upper-cased (e.g. {dup}); make them unique first.")
    matched, rows, unmatched_all = {}, [], set()
    for name, genes in sets.items():
        wanted = pd.unique(pd.Index(genes).astype(str).str.upper())
        pos = upper.get_indexer(wanted)
        unmatched_all.update(wanted[pos < 0].tolist())
        pos = np.unique(pos[pos >= 0])
        rows.append(
            {
                "set": name,
                "n_genes": len(wanted),
                "n_members": len(pos),
                "n_unmatched": int((upper.get_indexer(wanted) < 0).sum()),
                "scored": len(pos) >= min_size,
            }
        )
        if len(pos) >= min_size:
            matched[name] = pos
    table = pd.DataFrame(rows).set_index("set")
    if unmatched_all:
        logg.info(
            f"    {len(unmatched_all)} of the sets' genes are not in the data (e.g. {sorted(unmatched_all)[:5]}); "
            "they are ignored"
        )
    if not matched:
        best = int(table["n_members"].max())
        if best == 0:
            raise ValueError(
                "No member of any gene set is in the data: check that the sets use the same gene symbols and species "
                f"as the data (data: {list(var_names[:3])}, sets: {list(next(iter(sets.values()))[:3])})."
            )
        raise ValueError(
            f"No gene set has min_size={min_size} members in the data (the largest has {best}); lower min_size."
        )
    small = table.index[~table["scored"]].tolist()
    if small:
        logg.warning(
            f"{len(small)} gene sets have fewer than {min_size} members in the data and are skipped: {small[:5]}"
        )
    return matched, table


def _top_k_mean(block: np.ndarray, top_k: int | None) -> np.ndarray:
    """Row means of the ``top_k`` largest finite values (all finite values when ``top_k`` is None)."""
    finite = np.isfinite(block)
    n = finite.sum(1)
    if top_k is None or top_k >= block.shape[1]:
        total = np.where(finite, block, 0.0).sum(1)
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.where(n > 0, total / np.maximum(n, 1), np.nan)
    filled = np.where(finite, block, -np.inf)
    k = int(top_k)
    part = -np.partition(-filled, k - 1, axis=1)[:, :k]  # the k largest of each row
    ok = np.isfinite(part)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(ok.any(1), np.where(ok, part, 0.0).sum(1) / np.maximum(ok.sum(1), 1), np.nan)


def _soft_max_mean(block: np.ndarray, temperature: float) -> np.ndarray:
    """Row-wise ``T · log(mean of exp(x / T))`` over the finite values (NaN for a row without any).

    A soft maximum: the largest value as ``T → 0``, the mean as ``T → ∞``; subtracting ``log(n)`` (the mean, not
    the sum) keeps scores of sets of different sizes, and of members scored against one member less, comparable.
    """
    finite = np.isfinite(block)
    n = finite.sum(1)
    with np.errstate(invalid="ignore", divide="ignore"):
        top = np.where(n > 0, np.max(np.where(finite, block, -np.inf), axis=1), 0.0)
        terms = np.where(finite, np.exp((np.where(finite, block, 0.0) - top[:, None]) / temperature), 0.0)
        out = top + temperature * np.log(terms.sum(1) / np.maximum(n, 1))
    return np.where(n > 0, out, np.nan)


def _aggregate(block: np.ndarray, aggregate: str, top_k: int | None, temperature: float) -> np.ndarray:
    """A gene's score for a set from its pair scores with the set's members (rows = genes)."""
    if aggregate == "softmax":
        return _soft_max_mean(block, temperature)
    return _top_k_mean(block, top_k)


class _PairScorer:
    """Scores of every gene against a set of member genes: the model's log-odds of interaction, or context z.

    ``stats`` holds |Pearson| and its per-gene context (for the context formula and models on |Pearson|), ``means``
    the model's ``"z_mean:..."`` features. With ``positive`` (the ``signed`` option; |Pearson| only),
    anti-correlated pairs are read as uncorrelated ones (their |Pearson| is set to 0 before the features are made):
    a gene whose expression falls where the members' rises is not taken as a member.
    """

    def __init__(
        self, stats: ContextStatistics | None, model: Model | None, method: str, positive=None, means=None
    ) -> None:
        self.stats, self.model, self.method, self.positive = stats, model, method, positive
        self.means = means or {}
        self.coef = None
        if model is not None and _features_only(model):
            self.coef = _linear_coefficients(model)

    def block(self, genes: slice | np.ndarray, members: np.ndarray) -> np.ndarray:
        """``n_genes × len(members)`` float32 pair scores; a gene's pair with itself is NaN."""
        r = z_g = z_m = None
        if self.method == "context" or any(n in ABS_FEATURES for weights, _ in self.coef for n in weights):
            r = self.stats.abs_corr[genes][:, members]  # a copy (fancy indexing), float32
            if self.positive is not None:
                r[~self.positive[genes][:, members]] = 0.0
            mean, std = self.stats.mean, self.stats.std
            z_g = (r - mean[genes][:, None]) / std[genes][:, None]
            z_m = (r - mean[members][None, :]) / std[members][None, :]
        out = z_g + z_m if self.method == "context" else self._log_odds(genes, members, r, z_g, z_m)
        n_genes = (self.stats.abs_corr if self.stats is not None else next(iter(self.means.values()))).shape[0]
        rows = np.arange(n_genes)[genes]
        out[rows[:, None] == members[None, :]] = np.nan
        return out

    def _log_odds(self, genes, members, r, z_g, z_m) -> np.ndarray:
        """log(P(interaction) / P(none)) of the pairs read both ways (gene → member and member → gene, averaged)."""
        shared = {} if r is None else {"abs_pearson": r, "z_context": z_g + z_m}
        for name in {n for weights, _ in self.coef for n in weights if n.startswith(MEAN_PREFIX)}:
            shared[name] = self.means[name][genes][:, members]  # symmetric: the same both ways
        shape = next(iter(shared.values())).shape
        p_none = np.zeros(shape, dtype=np.float32)
        for z_a, z_b in ((z_g, z_m), (z_m, z_g)):
            table = {**shared, "z_regulator": z_a, "z_target": z_b}
            odds = np.zeros(shape, dtype=np.float32)  # P(any interaction class) / P(none), summed over the classes
            for weights, bias in self.coef:
                logit = np.full(shape, bias, dtype=np.float32)
                for name, w in weights.items():
                    if w:
                        logit += np.float32(w) * table[name]
                np.clip(logit, -60.0, 60.0, out=logit)
                odds += np.exp(logit)
            p_none += 0.5 / (1.0 + odds)
        np.clip(p_none, 1e-12, 1 - 1e-7, out=p_none)
        return np.log1p(-p_none) - np.log(p_none)


def _features_only(model: Model) -> bool:
    """Whether the model's evidence of an interaction is a function of its features alone (asked of the model)."""
    return model.evidence_from_features()


def _linear_coefficients(model: Model) -> list[tuple[dict[str, float], float]]:
    """The model's evidence of interaction per class, as a linear map of features this module can compute."""
    unknown = [n for n in model.spec.features if n not in ABS_FEATURES and not n.startswith(MEAN_PREFIX)]
    if unknown:
        raise ValueError(f"Model {model.name!r} reads features {unknown} that gene-set scoring cannot compute.")
    return model.linear_evidence()


def _image_scores(imager, model: Model, genes: np.ndarray, members: np.ndarray, *, batch_size, device) -> np.ndarray:
    """Log-odds of interaction of candidate × member pairs read from pair images (self pairs NaN)."""
    a, b = cross_pairs(genes, members, drop_self=False)
    keep = a != b
    out = np.full(len(a), np.nan)
    if keep.any():
        proba = score_pairs(
            imager, a[keep], b[keep], model, batch_size=batch_size, device=device, symmetric=True, progress=False
        )
        p_none = np.clip(1 - proba[:, -1] if proba.shape[1] == 1 else proba[:, 0], 1e-12, 1 - 1e-12)
        out[keep] = np.log1p(-p_none) - np.log(p_none)
    return out.reshape(len(genes), len(members))


def _check_arguments(method: str, settings: FunctionSettings, model) -> tuple[Model | None, bool, bool]:
    """The model of :func:`assign_function`, whether every pair is scored exactly, and the resolved ``signed``.

    Refuses a setting that would be ignored: ``top_k`` with the soft maximum, ``temperature`` with ``top_k``,
    ``model`` with ``method="context"``, and the image options with a model that reads no images for evidence.
    """
    as_choice(method, "method", METHODS)
    if settings.aggregate == "softmax":
        refuse_ignored(
            settings.changed("top_k"), "with aggregate='softmax'", "pass aggregate='top_k' to use it, or drop it"
        )
    else:
        refuse_ignored(
            settings.changed("temperature"), "with aggregate='top_k'", "pass aggregate='softmax' to use it, or drop it"
        )
    mdl = None
    if method == "context":
        refuse_ignored({"model": model} if model is not None else {}, "with method='context' (no model is read)")
    else:
        mdl = _resolve_model(FUNCTION_MODEL if model is None else model)
    exact = mdl is None or _features_only(mdl)  # every gene × member pair scored (no candidate subset)
    if exact:
        refuse_ignored(
            settings.changed(*IMAGE_OPTIONS),
            "without pair images: "
            + ("method='context' reads none" if mdl is None else f"model {mdl.name!r} scores every pair from features")
            + "; they apply to models whose evidence depends on pair images (e.g. 'cnnc-original')",
        )
    sign_blind = not exact or method == "context" or all(f in ABS_FEATURES for f in mdl.spec.features)
    signed = settings.signed
    if signed is None:
        signed = sign_blind
    elif signed and not sign_blind:
        raise ValueError(
            f"signed=True needs pair scores made from |Pearson| alone; model {mdl.name!r} reads "
            f"{list(mdl.spec.features)}, which carry the sign of the correlation already. Leave signed=None."
        )
    return mdl, exact, signed


def assign_function(
    adata: AnnData,
    gene_sets,
    *,
    model: str | Model | None = None,
    method: str = "model",
    min_size: int = 5,
    cv_folds: int = 3,
    layer: str | None = None,
    use_raw: bool | None = None,
    key_added: str = "cnnc_function",
    copy: bool = False,
    settings: FunctionSettings | None = None,
    **deprecated,
) -> AnnData | None:
    """Score every gene for membership of gene sets by its predicted interactions with the sets' known members.

    CNNC's function assignment (Yuan & Bar-Joseph 2019): a gene whose pairs with the genes of a function look like
    interactions likely shares that function. For each set, the members present in the data are found (gene
    symbols matched case-insensitively); every gene of the data is scored against every member, and its pair scores
    are aggregated into one score for the set (``settings.aggregate``): by default a soft maximum,
    ``temperature · log(mean over members of exp(pair score / temperature))``, minus ``hub_correction`` times the
    gene's score against every gene of the data. Members are scored against the *other* members (leave-self-out),
    so their scores are comparable with the other genes'. Higher = more likely a member.

    Pair scores come from ``model``, as the log-odds ``log(P(interaction) / P(none))`` of each gene × member pair:

    - a model whose evidence of an interaction comes from its context features alone is applied to **every** gene ×
      member pair (both orientations, averaged). This holds for the default model, ``"cnnc-pairs"``, whose pair
      images decide only the direction of an interaction (which gene function does not use), and for
      ``"cnnc-context"``;
    - a model whose evidence depends on the pair images (such as ``"cnnc-original"``) is too expensive for every
      pair: the context score ranks all genes, and the ``n_candidates`` best non-members of each set plus its
      members are read as images against up to ``max_members`` members (those best linked to the rest of the set).
      Genes not read get NaN. Measured on PBMCs (``benchmarks/function.py``, one hiding, 10 sets), the faithful
      CNNC's images order these candidates no better than the context prior that picked them and worse than the
      default model (median AUROC of the hidden members among them 0.51, 0.52 and 0.58).

    ``method="context"`` skips the model and uses the context-normalised correlation (``|Pearson|`` z-scored within
    each gene's correlations to all genes, summed over the two genes; see :func:`cnnc.tl.predict_interactions`).

    ``method="propagation"`` reads the same pair scores as a graph: every gene is linked to the 10 genes it has the
    highest log-odds of interaction with, and genes are ranked by a random walk with restart (probability 0.5) from
    the set's members (``log2`` of the walk's stationary probability times the number of genes), so that a gene linked
    to the members' neighbours ranks high too. ``method="combined"`` averages each gene's percentile ranks under
    ``"model"`` and ``"propagation"``. With these two, members are scored *out of fold* (from the members of the other
    ``cv_folds`` folds). Measured on hidden WikiPathways members (``benchmarks/function.py``, the collection these two
    were chosen on), ``"combined"`` is above the better peer (``|Pearson|`` propagation) on more sets than ``"model"`` in
    all four data sets and has the higher median AUROC; on the Hallmark check collection it is not better than
    ``"model"`` (lower median AUROC on mESC, mHSC-L and PBMC), so ``"model"`` stays the default. A supervised model per
    set (logistic regression on the leading principal components of each gene's log-odds with every gene) and its
    rank ensemble with these two were measured in the same benchmark and not kept (neither beat ``"combined"`` on
    WikiPathways). No method reaches a median AUROC of 0.72 on these data: even the best of them per set, picked on
    the hidden members, has a median of 0.61 to 0.71.

    Every set's own members, held out a fold at a time, measure how far its scores can be trusted on *this* data
    (``cv_folds``): ``cv_auroc`` is the AUROC of each fold's members, scored from the other folds, against the genes
    outside the set (0.5 = random), ``cv_pvalue`` its one-sided p-value against random, ``reliable`` whether
    ``cv_pvalue < 0.05``. On hidden members of WikiPathways and Hallmark sets (``"combined"``), sets called reliable had higher
    hidden-member AUROCs than the others in every data set (e.g. Hallmark mHSC-L median 0.68 against 0.56). A set
    is hard when its members are barely co-expressed in the data, not when it has few members: treat the candidates
    of an unreliable set as undetermined.

    Parameters
    ----------
    adata
        Cells × genes with log-normalized expression, at least 20 cells. Raw counts are refused.
    gene_sets
        A dict of set name → genes, the path of a GMT file (gzipped or not), the path of a CSV/TSV table
        (``.csv``, ``.tsv``, ``.txt``, optionally ``.gz``), or a decoupler-style DataFrame, with columns
        ``source`` (set name) and ``target`` (gene); extra columns (e.g. ``weight``) are ignored.
    model
        A :class:`cnnc.models.Model`, a registry name or a file; ``None`` = ``"cnnc-pairs"``, the model measured in
        ``benchmarks/function.py`` (every gene × member pair is scored exactly; models whose evidence of an
        interaction depends on pair images score only each set's best candidates).
    method
        ``"model"`` (guilt by association through ``model``'s pair scores), ``"context"`` (the context formula, no
        model), ``"propagation"`` (random walk on the graph of ``model``'s pair scores) or ``"combined"`` (mean
        percentile rank of ``"model"`` and ``"propagation"``). The ``settings`` ``aggregate``, ``temperature``,
        ``top_k`` and ``hub_correction`` set guilt by association; ``"propagation"`` refuses values other than their
        defaults.
    min_size
        Sets with fewer members in the data are skipped (logged).
    cv_folds
        Folds of each set's members for the reliability columns (members held out a fold at a time; folds drawn
        with a fixed seed); ``0`` = no reliability columns (not allowed for ``"propagation"`` and ``"combined"``,
        which score members out of fold). The folds reuse each set's pair scores: with the soft maximum they add
        little time (PBMCs, 137 sets: 7.4 s against 7.8 s without); each fold is one more walk for the walking methods.
    layer, use_raw
        Where the log-expression is (scanpy semantics; ``use_raw=None`` uses ``.raw`` when present).
    key_added
        Key in ``adata.varm`` and ``adata.uns``. A previous result of ``assign_function`` there is replaced (with a
        warning); anything else there (a prediction, a user's entry) is refused.
    copy
        Return a modified copy instead of writing in place.
    settings
        How pair scores become set scores (``aggregate``, ``temperature``, ``top_k``, ``signed``, ``hub_correction``)
        and how models that read pair images are run (``n_candidates``, ``max_members``, ``batch_size``, ``device``):
        a :class:`cnnc.tl.FunctionSettings`; default: its defaults, the rule measured in ``benchmarks/function.py``.
        The former keywords (``aggregate=...``, ``hub_correction=...``, ...) still work, with a FutureWarning naming
        the replacement.

    Returns
    -------
    ``None`` or the copy. Writes

    ``adata.varm[key_added]``
        DataFrame genes × sets of scores (float32; higher = more likely a member).
    ``adata.uns[key_added]["members"]``
        Boolean DataFrame genes × sets: the set's known members in the data.
    ``adata.uns[key_added]["sets"]``
        Per set (all given sets): ``n_genes`` listed, ``n_members`` found in the data, ``n_unmatched`` genes
        not found, ``scored``; the reliability from the set's held-out members: ``cv_auroc``, ``cv_pvalue``,
        ``reliable`` (NaN / False when not computed: ``cv_folds=0``, models that read images, a single member).
    ``adata.uns[key_added]["params"]``
        Model name and sha256, method, pair score, ``aggregate``, ``temperature``, ``top_k``, ``signed``,
        ``hub_correction``, ``knn`` and ``restart`` (walking methods; -1 otherwise), ``min_size``, ``cv_folds``,
        input used, package version.

    Examples
    --------
    >>> import scanpy as sc, cnnc
    >>> adata = sc.datasets.pbmc68k_reduced()
    >>> sets = {
    ...     "IFN": ["IRF7", "IFITM1", "BST2", "ISG20", "IFITM3", "LY6E", "IFI30", "ISG15"]
    ... }  # ISG15: not in the data
    >>> cnnc.tl.assign_function(adata, sets)
    >>> adata.varm["cnnc_function"]["IFN"].nlargest(3)  # doctest: +SKIP
    FCGR3A    1.30
    IFITM2    1.20
    CFD       1.19

    ``IFITM2``, a Hallmark interferon-alpha gene left out of the list, comes second, after a monocyte gene (in these
    PBMCs the expressed interferon genes are highest in monocytes).
    """
    settings = FunctionSettings.resolve(settings, deprecated, "cnnc.tl.assign_function")
    mdl, exact, signed, min_size = _check_options(adata, method, settings, model, min_size, cv_folds)
    check_result_key(adata, key_added, marker="members", function="cnnc.tl.assign_function", also=[("varm", key_added)])
    sets = gene_sets_dict(gene_sets)
    view = _checked_view(adata, layer, use_raw)
    matched, table = match_members(sets, view.var_names, min_size=min_size)
    start = logg.info(
        f"scoring {len(view.var_names):,} genes for {len(matched)} gene sets"
        + (f" with model {mdl.name!r}" if mdl is not None else " with the context formula")
    )
    run = _prepare(view, method, settings, mdl, exact, signed, cv_folds)
    params = _params(run, view, min_size=min_size, layer=layer)
    scores, cv = _score_sets(run, matched)
    return _store(adata, copy, key_added, view, list(matched), matched, scores, table, cv, start, params)


def _check_options(adata, method, settings: FunctionSettings, model, min_size, cv_folds) -> tuple:
    """The model, whether every pair is scored exactly, ``signed`` and ``min_size``; refuses what cannot run."""
    mdl, exact, signed = _check_arguments(method, settings, model)
    min_size = as_integer(min_size, "min_size", low=1, example=5)
    _check_cv_folds(cv_folds, method)
    if method == "propagation":
        _refuse_gba_options(settings)
    if mdl is not None:
        _check_species(adata, mdl)
    if method in WALKS and not exact:
        raise ValueError(
            f"method={method!r} links every gene to its best-scored partners, which needs every gene pair scored; "
            f"model {mdl.name!r} reads pair images for its evidence of an interaction. Use model=None (cnnc-pairs)."
        )
    return mdl, exact, signed, min_size


def _checked_view(adata: AnnData, layer, use_raw):
    """The log-expression read (layer, ``.raw`` or ``X``), refused when it has too few cells, huge values or counts."""
    view = expression_view(adata, layer=layer, use_raw=use_raw)
    check_cells(view.matrix.shape[0], what=f"{view.label} of the data")
    refuse_huge(view.matrix, f"Values in {view.label}")
    refuse_raw_counts(view.matrix, np.arange(len(view.var_names)), what=f"Values in {view.label}")
    return view


@dataclass
class _Run:
    """What scoring one data set's gene sets needs, made once per call of :func:`assign_function`."""

    method: str
    settings: FunctionSettings
    mdl: Model | None
    exact: bool
    signed: bool
    cv_folds: int
    n_genes: int
    scorer: _PairScorer
    imager: object | None = None
    hub: np.ndarray | None = None

    @property
    def how(self) -> tuple:
        """``(aggregate, top_k, temperature)``, the arguments of :func:`_aggregate`."""
        return self.settings.aggregate, self.settings.top_k, self.settings.temperature


def _prepare(view, method: str, settings: FunctionSettings, mdl, exact: bool, signed: bool, cv_folds: int) -> _Run:
    """The pair scorer (one engine pass for |Pearson|, its signs and the model's features), imager and hub term."""
    n_genes = len(view.var_names)
    # |Pearson| and its signs for the context formula, and the model's "z_mean:..." features, one engine pass
    wanted = [] if mdl is None or not exact else [f for f in mdl.spec.features if f.startswith(MEAN_PREFIX)]
    abs_needed = method == "context" or not exact or any(f in ABS_FEATURES for f in mdl.spec.features)
    stats = dense_statistics(view.matrix, features=[*(ABS_FEATURES if abs_needed else ()), *wanted], signs=abs_needed)
    scorer = _PairScorer(
        stats if abs_needed else None, mdl if exact else None, method, stats.positive if signed else None, stats.means
    )
    run = _Run(method, settings, mdl, exact, signed, cv_folds, n_genes, scorer)
    if not exact:
        scorer.method = "context"  # the prior that picks the candidates read as images
        run.imager = make_imager(
            view.matrix, np.arange(n_genes), mdl.spec.image_params, gene_names=view.var_names.astype(str).tolist()
        )
    run.hub = _hub_term(run)
    return run


def _hub_term(run: _Run) -> np.ndarray:
    """``hub_correction`` times each gene's score against every gene, aggregated as for a set (zeros when off)."""
    n_genes, hub = run.n_genes, np.zeros(run.n_genes, dtype=np.float32)
    if run.settings.hub_correction and run.method != "propagation":
        everyone = np.arange(n_genes)
        rows = max(1, BLOCK_PAIRS // n_genes)
        for s in range(0, n_genes, rows):
            hub[s : s + rows] = _aggregate(run.scorer.block(slice(s, s + rows), everyone), *run.how)
        hub *= np.float32(run.settings.hub_correction)
    return hub


def _params(run: _Run, view, *, min_size: int, layer) -> dict:
    """``adata.uns[key_added]["params"]``: what was run, with which model, settings and input."""
    mdl, s, walks = run.mdl, run.settings, run.method in WALKS
    return {
        "method": run.method,
        "model": "" if mdl is None else mdl.name,
        "model_sha256": "" if mdl is None else (mdl.sha256 or ""),
        "pair_score": "context z" if mdl is None else "log-odds of interaction",
        "reads_images": bool(not run.exact),
        "aggregate": s.aggregate,
        "temperature": float(s.temperature),
        "top_k": -1 if s.top_k is None else int(s.top_k),
        "signed": bool(run.signed),
        "hub_correction": float(s.hub_correction),
        "knn": fm.KNN if walks else -1,
        "restart": fm.RESTART if walks else -1.0,
        "min_size": int(min_size),
        "cv_folds": int(run.cv_folds),
        "n_candidates": int(s.n_candidates),
        "max_members": int(s.max_members),
        "layer": layer or "",
        "use_raw": bool(view.label == "raw"),
        "cnnc_version": package_version(),
    }


def _gba(run: _Run, known: np.ndarray, folds_of_known: np.ndarray | None = None) -> np.ndarray:
    """Guilt by association: every gene's aggregated pair scores with the ``known`` members, minus the hub term.

    With ``folds_of_known``, also from the members outside each fold (rows: all, then fold by fold), reading each
    block of pair scores once.
    """
    parts = [None, *fm.held_folds(folds_of_known)] if folds_of_known is not None else [None]
    out = np.empty((len(parts), run.n_genes), dtype=np.float32)
    rows = max(1, BLOCK_PAIRS // len(known))
    aggregate, top_k, temperature = run.how
    for s in range(0, run.n_genes, rows):
        block, hub = run.scorer.block(slice(s, s + rows), known), run.hub[s : s + rows]
        if aggregate == "softmax" and len(parts) > 1:  # the exponentials once, summed over each fold's columns
            keep = np.column_stack([np.ones(len(known), bool)] + [folds_of_known != f for f in parts[1:]])
            out[:, s : s + rows] = fm.soft_max_subsets(block, keep, temperature).T - hub
            continue
        for i, f in enumerate(parts):
            use = block if f is None else block[:, folds_of_known != f]
            out[i, s : s + rows] = _aggregate(use, aggregate, top_k, temperature) - hub
    return out if folds_of_known is not None else out[0]


def _score_sets(run: _Run, matched: dict[str, np.ndarray]) -> tuple[np.ndarray, dict]:
    """Genes × sets scores and each set's reliability ``{name: (cv_auroc, cv_pvalue)}``."""
    folds = {k: fm.fold_ids(len(v), max(run.cv_folds, 1), np.random.default_rng(0)) for k, v in matched.items()}
    if run.method in WALKS:
        graph = fm.knn_graph(lambda rows: run.scorer.block(rows, np.arange(run.n_genes)), run.n_genes)
        combine = (
            None if run.method == "propagation" else (lambda _, known, walk: fm.mean_percentile(walk, _gba(run, known)))
        )
        return fm.propagation_scores(graph, matched, folds, combine)
    names = list(matched)
    scores = np.full((run.n_genes, len(names)), np.nan, dtype=np.float32)
    cv = {}
    for j, name in enumerate(
        tqdm(names, desc="cnnc: gene sets", unit="set", disable=settings.verbosity < 1, delay=PROGRESS_DELAY)
    ):
        mem = matched[name]
        if run.exact and run.cv_folds:
            parts = _gba(run, mem, folds[name])
            scores[:, j] = parts[0]
            held = dict(zip(fm.held_folds(folds[name]), parts[1:], strict=True))
            cv[name] = fm.cross_validate(held, mem, folds[name], run.n_genes)
        else:
            scores[:, j] = _gba(run, mem)
        if not run.exact:
            scores[:, j] = _image_rescore(run, scores[:, j], mem)
    return scores, cv


def _check_cv_folds(cv_folds, method: str) -> None:
    """``cv_folds``: 0 (no reliability) or at least 2; propagation needs folds to score the members."""
    lowest = 2 if method in WALKS else 0
    if isinstance(cv_folds, bool) or not isinstance(cv_folds, int | np.integer) or cv_folds < lowest or cv_folds == 1:
        need = "an integer >= 2 (members are scored out of fold)" if lowest else "0 (off) or an integer >= 2"
        raise ValueError(f"cv_folds must be {need} for method={method!r}, got {cv_folds!r}.")


def _refuse_gba_options(settings: FunctionSettings) -> None:
    """Propagation does not aggregate pair scores: refuse guilt-by-association settings set to other values."""
    changed = settings.changed(*GBA_OPTIONS)
    if changed:
        raise ValueError(
            f"{sorted(changed)} apply to method='model' or 'context' (guilt by association), not to "
            "method='propagation', which walks the graph of predicted interactions; leave them at their defaults."
        )


def _store(adata, copy, key_added, view, names, matched, scores, table, cv, start, params):
    """Write scores, members, the per-set table (with the reliability columns) and params; the copy or None."""
    n_genes = len(view.var_names)
    members = np.zeros((n_genes, len(names)), dtype=bool)
    for j, name in enumerate(names):
        members[matched[name], j] = True
    frame = pd.DataFrame(scores, index=view.var_names.astype(str), columns=names)
    member_frame = pd.DataFrame(members, index=view.var_names.astype(str), columns=names)
    target = pd.Index(adata.var_names.astype(str))
    if not target.equals(frame.index):
        missing = int((~frame.index.isin(target)).sum())
        if missing:
            logg.warning(f"{missing} scored genes are in .raw but not in adata.var_names; they are left out of varm")
        frame = frame.reindex(target)
        member_frame = member_frame.reindex(target, fill_value=False)
    replaced = check_result_key(  # checked before any work; here: what is replaced, for the log
        adata, key_added, marker="members", function="cnnc.tl.assign_function", also=[("varm", key_added)]
    )
    adata = adata.copy() if copy else adata
    if replaced:
        logg.warning(f"replacing the previous gene-set scores in {replaced}")
    adata.varm[key_added] = frame
    sets = fm.reliability_columns(table, cv, RELIABLE_ALPHA)
    adata.uns[key_added] = {"members": member_frame, "sets": sets, "params": {**params, "n_sets": len(names)}}
    unreliable = int((~sets["reliable"] & sets["scored"]).sum())
    if cv and unreliable:
        logg.warning(
            f"{unreliable} of {len(names)} gene sets are not reliable here: their own members, held out in turn, are "
            f"not ranked above the other genes (cv_pvalue >= {RELIABLE_ALPHA}; see adata.uns[{key_added!r}]['sets'])"
        )
    logg.info(
        "    finished",
        time=start,
        deep=f"added adata.varm[{key_added!r}] (genes × sets scores) and adata.uns[{key_added!r}]",
    )
    return adata if copy else None


def _image_rescore(run: _Run, prior: np.ndarray, mem: np.ndarray) -> np.ndarray:
    """Scores of a set's candidates and members from pair images; every other gene NaN.

    The ``n_candidates`` best non-members by ``prior`` and the members are read against up to ``max_members``
    members, aggregated as for the genes scored from features.
    """
    s = run.settings
    order = np.argsort(-np.nan_to_num(prior, nan=-np.inf), kind="stable")
    outside = order[~np.isin(order, mem)][: s.n_candidates]
    if len(mem) > s.max_members:  # the members best linked to the rest of the set
        cohesion = _aggregate(run.scorer.block(mem, mem), *run.how)
        ref = mem[np.argsort(-np.nan_to_num(cohesion, nan=-np.inf), kind="stable")[: s.max_members]]
    else:
        ref = mem
    read = np.concatenate([outside, mem])
    out = np.full(len(prior), np.nan, dtype=np.float32)
    images = _image_scores(run.imager, run.mdl, read, ref, batch_size=s.batch_size, device=s.device)
    out[read] = _aggregate(images, *run.how)
    return out
