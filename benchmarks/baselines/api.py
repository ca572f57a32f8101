"""Call the benchmark-only baselines GRNBoost2 and regdiffusion from the main environment, with an on-disk cache.

Each baseline runs in its own venv (created by ``bash benchmarks/baselines/setup.sh``) through its runner script; this
module only needs numpy, pandas and the standard library. Results are cached under ``cache_dir`` (default
``benchmarks/results/cache/``) keyed by a sha256 of the expression values, gene and TF names, seed, the method's
pinned versions and the runner's source, so re-running a benchmark is instant.

Examples
--------
>>> from benchmarks.baselines import grnboost2
>>> edges = grnboost2(X, genes, tfs, seed=0)  # X: cells × genes log expression
>>> edges.attrs["seconds"]  # wall time of the real run (also when loaded from the cache)
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

HERE = Path(__file__).resolve().parent
BENCHMARKS = HERE.parent
DEFAULT_CACHE_DIR = BENCHMARKS / "results" / "cache"

#: Versions that define each method's output (part of the cache key; bump with setup.sh's pins).
METHOD_VERSIONS = {
    "grnboost2": "arboreto==0.1.6;dask==2023.4.1;distributed==2023.4.1;scikit-learn==1.2.2;pandas==2.0.3;numpy==1.24.4",
    "regdiffusion": "regdiffusion==0.2.3;torch==2.13.0;defaults;float32-adjacency",
}
_RUNNERS = {"grnboost2": HERE / "run_grnboost2.py", "regdiffusion": HERE / "run_regdiffusion.py"}
_SCORE_COLUMN = {"grnboost2": "importance", "regdiffusion": "weight"}


class BaselineUnavailableError(RuntimeError):
    """A baseline's venv is missing or broken."""


def venv_python(method: str) -> Path:
    """Return the Python of ``method``'s venv, or raise :class:`BaselineUnavailableError` saying how to create it."""
    python = BENCHMARKS / f".venv-{method}" / "bin" / "python"
    if not python.exists():
        raise BaselineUnavailableError(
            f"the {method} venv is missing ({python.parent.parent}); run `bash benchmarks/baselines/setup.sh`"
        )
    return python


def grnboost2(
    X: np.ndarray,
    genes: Sequence[str],
    tfs: Sequence[str],
    seed: int = 0,
    cache_dir: str | Path | None = None,
    *,
    n_workers: int = 2,
    timeout: float | None = None,
) -> pd.DataFrame:
    """Score every TF × gene pair with GRNBoost2 (arboreto 0.1.6 on a 2-process dask LocalCluster).

    Parameters
    ----------
    X
        Log expression, cells × genes.
    genes
        Gene names, one per column of ``X`` (unique).
    tfs
        Candidate regulators; each must be one of ``genes``.
    seed
        Seed of every per-target boosting regressor (the result is deterministic given it).
    cache_dir
        Where results are cached; default ``benchmarks/results/cache/``.
    n_workers
        dask worker processes (one thread each). Does not change the result, so it is not part of the cache key.
    timeout
        Seconds before the run is killed (default: none).

    Returns
    -------
    Columns ``regulator``, ``target``, ``score`` (arboreto's importance; 0 where it kept no link), one row per TF ×
    gene pair without self pairs, highest score first. ``attrs``: ``seconds`` (wall time of the real run),
    ``cached`` (bool), ``method``, ``version``, ``facts`` (the runner's record of the run).
    """
    return _run("grnboost2", X, genes, tfs, seed, cache_dir, ["--workers", str(n_workers)], timeout)


def regdiffusion(
    X: np.ndarray,
    genes: Sequence[str],
    tfs: Sequence[str],
    seed: int = 0,
    cache_dir: str | Path | None = None,
    *,
    n_threads: int = 2,
    timeout: float | None = None,
) -> pd.DataFrame:
    """Score every TF × gene pair with regdiffusion 0.2.3 (default settings, CPU).

    Parameters
    ----------
    X
        Log expression, cells × genes.
    genes
        Gene names, one per column of ``X`` (unique).
    tfs
        Candidate regulators; each must be one of ``genes``.
    seed
        regdiffusion's ``seed`` (seeds torch, numpy and its sampler).
    cache_dir
        Where results are cached; default ``benchmarks/results/cache/``.
    n_threads
        torch CPU threads. Not part of the cache key.
    timeout
        Seconds before the run is killed (default: none).

    Returns
    -------
    Columns ``regulator``, ``target``, ``score`` (``abs`` of the learned adjacency entry ``A[regulator, target]``,
    in units of 1/(n_genes - 1); the signed weights stay in the cached TSV), one row per TF × gene pair without self
    pairs, highest score first. ``attrs`` as for :func:`grnboost2`.
    """
    return _run("regdiffusion", X, genes, tfs, seed, cache_dir, ["--threads", str(n_threads)], timeout)


def _check_inputs(X: np.ndarray, genes: Sequence[str], tfs: Sequence[str]) -> tuple[np.ndarray, list[str], list[str]]:
    X = np.asarray(X)
    if X.ndim != 2:
        raise ValueError(f"X must be a 2-D cells × genes array, got shape {X.shape}")
    if not np.issubdtype(X.dtype, np.number):
        raise ValueError(f"X must be numeric, got dtype {X.dtype}")
    X = np.ascontiguousarray(X, dtype=np.float64)
    genes = [str(g) for g in genes]
    tfs = [str(t) for t in tfs]
    if X.shape[1] != len(genes):
        raise ValueError(
            f"X has {X.shape[1]} columns but {len(genes)} gene names; X must be cells × genes (transpose it?)"
        )
    if not np.isfinite(X).all():
        raise ValueError("X contains NaN or infinite values; impute or drop them first")
    if len(set(genes)) != len(genes):
        raise ValueError("gene names must be unique")
    if not tfs:
        raise ValueError("tfs is empty: pass at least one regulator")
    gene_set = set(genes)
    absent = [t for t in tfs if t not in gene_set]
    if absent:
        raise ValueError(f"{len(absent)} TF(s) are not in genes, e.g. {absent[:5]}; pass only TFs that are in genes")
    return X, genes, list(dict.fromkeys(tfs))


def _cache_key(method: str, X: np.ndarray, genes: list[str], tfs: list[str], seed: int) -> str:
    digest = hashlib.sha256()
    for part in (
        method,
        METHOD_VERSIONS[method],
        _RUNNERS[method].read_bytes(),
        (HERE / "_baseline_io.py").read_bytes(),
        repr(X.shape),
        X.tobytes(),
        "\0".join(genes),
        "\0".join(tfs),
        str(int(seed)),
    ):
        digest.update(part if isinstance(part, bytes) else part.encode())
        digest.update(b"\x1f")
    return digest.hexdigest()


def _run(
    method: str,
    X: np.ndarray,
    genes: Sequence[str],
    tfs: Sequence[str],
    seed: int,
    cache_dir: str | Path | None,
    extra_args: list[str],
    timeout: float | None,
) -> pd.DataFrame:
    X, genes, tfs = _check_inputs(X, genes, tfs)
    cache = Path(cache_dir) if cache_dir is not None else DEFAULT_CACHE_DIR
    key = _cache_key(method, X, genes, tfs, seed)
    cached_tsv = cache / f"{method}-{key[:24]}.tsv.gz"
    cached_facts = cache / f"{method}-{key[:24]}.json"
    if cached_tsv.exists() and cached_facts.exists():
        return _as_result(method, pd.read_csv(cached_tsv, sep="\t"), json.loads(cached_facts.read_text()), True)

    if os.environ.get("CNNC_BASELINES_CACHE_ONLY"):
        raise BaselineUnavailableError(
            f"{method}: no cached result for this input and CNNC_BASELINES_CACHE_ONLY is set"
        )
    python = venv_python(method)
    with tempfile.TemporaryDirectory(prefix=f"{method}-") as tmp:
        tmp = Path(tmp)
        np.savez(tmp / "input.npz", X=X, genes=np.asarray(genes, dtype=str))
        (tmp / "tfs.txt").write_text("\n".join(tfs) + "\n")
        out = tmp / "edges.tsv"
        cmd = [
            str(python),
            str(_RUNNERS[method]),
            "--expression",
            str(tmp / "input.npz"),
            "--tfs",
            str(tmp / "tfs.txt"),
            "--seed",
            str(int(seed)),
            "--out",
            str(out),
            *extra_args,
        ]
        env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV")}
        start = time.perf_counter()
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, env=env, cwd=tmp)
        if proc.returncode != 0:
            tail = "\n".join(proc.stderr.strip().splitlines()[-25:])
            raise RuntimeError(
                f"{method} runner failed (exit {proc.returncode}) after {time.perf_counter() - start:.1f} s:\n{tail}"
                + ("\nIf the venv is broken, re-create it: FORCE=1 bash benchmarks/baselines/setup.sh")
            )
        table = pd.read_csv(out, sep="\t")
        facts = json.loads(Path(f"{out}.json").read_text())
        facts["stderr_tail"] = "\n".join(proc.stderr.strip().splitlines()[-5:])

    cache.mkdir(parents=True, exist_ok=True)
    tmp_tsv = cached_tsv.with_name(cached_tsv.name + f".{os.getpid()}.part")
    table.to_csv(tmp_tsv, sep="\t", index=False, float_format="%.9g", compression="gzip")
    os.replace(tmp_tsv, cached_tsv)  # atomic: a concurrent reader never sees a half-written file
    cached_facts.write_text(json.dumps(facts, indent=1))
    return _as_result(method, table, facts, False)


def _as_result(method: str, table: pd.DataFrame, facts: dict, cached: bool) -> pd.DataFrame:
    raw = table[_SCORE_COLUMN[method]].to_numpy(dtype=np.float64)
    result = pd.DataFrame(
        {
            "regulator": table["regulator"].astype(str).to_numpy(),
            "target": table["target"].astype(str).to_numpy(),
            "score": np.abs(raw),
        }
    )
    result = result.sort_values(["score", "regulator", "target"], ascending=[False, True, True], kind="mergesort")
    result = result.reset_index(drop=True)
    result.attrs.update(
        seconds=float(facts["seconds"]), cached=cached, method=method, version=METHOD_VERSIONS[method], facts=facts
    )
    return result


if __name__ == "__main__":  # pragma: no cover - manual smoke check
    sys.exit("import benchmarks.baselines.api from a benchmark script; see benchmarks/baselines/README.md")
