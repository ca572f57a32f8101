"""Scale: TF × all-genes networks on 10⁴ cells in memory and 10⁶ cells from disk, against GRNBoost2, in one run.

Data: resampled real BEELINE cells (benchmarks/_scale_data.py): 2,000 genes, ~18 % nonzero, float32 CSR. "The
default model" is the registry's default (``cnnc.models.available()``); every table names it and its version.

``--part end-to-end`` (default): 10,000 cells × 2,000 genes, 1,000 regulators (the first 1,000 genes) × all genes.
Every measurement runs in a fresh process; peak RSS is the process's high-water mark (VmHWM, imports and input data
included).

- cnnc with the default model on 10 and on 1,000 regulators (19,990 → 1,999,000 pairs): wall time and peak RSS.
- the faithful ``cnnc-original`` (48 MFLOP per pair) on 10 regulators, float32 and bfloat16: pairs/s, and the time
  of all 1,999,000 pairs at that rate (labelled "at the measured rate").
- GRNBoost2 (arboreto 0.1.6, benchmark venv, 2 dask worker processes) on the same matrix and the same 1,000
  regulators, restricted to ``--grnboost2-targets`` random target genes (default 100): arboreto fits one independent
  regressor per target, so the whole network costs the measured time per target × 2,000 targets (labelled so; the
  measured time includes starting the dask cluster, so the extrapolation slightly overstates GRNBoost2's time).

``--part out-of-core``: 1,000,000 cells × 2,000 genes written to an .h5ad once (block by block, ~3 GB), then read
lazily (``anndata.experimental.read_elem_lazy``: a dask array of CSR chunks of 20,000 cells). cnnc's default model on
1,000 regulators × all genes, and pair images for 2,000 pairs with ``cnnc-original`` (bfloat16), with the peak RSS:
X is never materialised. Then the same on a dask.distributed LocalCluster of 2 worker processes, with the peak RSS of
the driving process and of each worker.

``--part whole-transcriptome``: 50,000 cells × ``--wt-genes`` genes (default 30,000; benchmarks/_scale_data.py's
``whole_transcriptome``: the real profiles reused, ever sparser copies, ~10 % nonzero), in memory, each of
``--wt-models`` (default: the default model and ``cnnc-context``) on ``--wt-tfs`` regulators (default 100) × all
genes: wall time of the public call and peak RSS, or the model's refusal where it refuses that many genes.

``--part ooc-models``: the models of ``--ooc-models`` (default: the default model and ``cnnc-context``, the former
default) on the same lazily read file of ``--ooc-cells`` cells (default 100,000), 1,000 regulators × all genes, each
run twice in a fresh process, alternating: the CPU ratio of the default to the former default.

Usage: python -m benchmarks.scale [--part end-to-end|out-of-core|ooc-models|whole-transcriptome|all] [--quick]
Writes benchmarks/results/scale.json and docs/_generated/scale.md.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

import cnnc

from ._common import GENERATED, RESULTS, ROOT, header_line, peak_mib, reset_peak, run_header
from ._scale_data import in_memory, whole_transcriptome, write_h5ad
from .baselines.api import HERE, venv_python

N_GENES = 2000


def child_cnnc(n_cells: int, n_tfs: int, model: str, precision: str) -> dict:
    import torch

    torch.set_num_threads(2)
    adata = in_memory(n_cells, N_GENES)
    before = peak_mib()
    t, cpu = time.perf_counter(), time.process_time()
    cnnc.tl.predict_interactions(adata, model=model, tfs=list(adata.var_names[:n_tfs]), precision=precision, layer="X")
    seconds = time.perf_counter() - t
    return {
        "pairs": len(adata.uns["cnnc"]["edges"]),
        "seconds": seconds,
        "cpu_seconds": time.process_time() - cpu,
        "peak_mib": peak_mib(),
        "before_mib": before,
    }


def child_whole(n_cells: int, n_genes: int, n_tfs: int, model: str) -> dict:
    """One model on a whole-transcriptome-sized matrix: wall time of the public call and peak RSS, or its refusal."""
    import torch

    torch.set_num_threads(2)
    t = time.perf_counter()
    adata = whole_transcriptome(n_cells, n_genes)
    made = time.perf_counter() - t
    gc.collect()
    reset_peak()  # the peak of making the data is not the prediction's
    before = peak_mib()
    out = {
        "model": cnnc.models.load(model).name,
        "n_cells": n_cells,
        "n_genes": n_genes,
        "n_tfs": n_tfs,
        "nonzero": float(adata.X.nnz / (n_cells * n_genes)),
        "data_mib": (adata.X.data.nbytes + adata.X.indices.nbytes + adata.X.indptr.nbytes) / 2**20,
        "data_seconds": made,
        "before_mib": before,
    }
    t = time.perf_counter()
    try:
        cnnc.tl.predict_interactions(adata, model=model, tfs=list(adata.var_names[:n_tfs]), layer="X")
    except ValueError as e:  # a model that refuses this many genes says so: the refusal is the result
        return {**out, "refused": str(e), "seconds": time.perf_counter() - t, "peak_mib": peak_mib()}
    params = adata.uns["cnnc"]["params"]
    return {
        **out,
        "candidates": params["n_candidates"],
        "pairs": params["n_pairs"],
        "seconds": time.perf_counter() - t,
        "peak_mib": peak_mib(),
    }


def whole_transcriptome_run(quick: bool, n_tfs: int, n_genes: int, models: list[str]) -> list[dict]:
    n_cells = 5_000 if quick else 50_000
    rows = []
    for model in models:
        rows.append(_run_child("whole", str(n_cells), str(n_genes), str(n_tfs), model))
        print(rows[-1], flush=True)
    return rows


def _lazy(f):
    """The AnnData of an open .h5ad with X read lazily (a dask Array of 20,000-cell CSR chunks)."""
    import anndata as ad

    return ad.AnnData(
        X=ad.experimental.read_elem_lazy(f["X"], chunks=(20_000, N_GENES)),
        obs=ad.io.read_elem(f["obs"]),
        var=ad.io.read_elem(f["var"]),
    )


def _score_file(f, n_tfs: int, image_pairs: int, memory, between=None) -> dict:
    """Open an .h5ad's X lazily; score n_tfs × all genes with the default model, then 1 × image_pairs genes with
    cnnc-original (bfloat16). ``memory()`` returns the memory figures recorded after each run; ``between()`` runs
    between the two."""
    adata = _lazy(f)
    out = {"x_type": type(adata.X).__name__}
    genes = list(adata.var_names)
    runs = (
        ("default", "cnnc", {"tfs": genes[:n_tfs]}),
        (
            "original",
            "original",
            {
                "model": "cnnc-original",
                "tfs": genes[:1],
                "targets": genes[1 : image_pairs + 1],
                "precision": "bfloat16",
            },
        ),
    )
    for i, (name, key, kwargs) in enumerate(runs):
        if i and between is not None:
            between()
        t, cpu = time.perf_counter(), time.process_time()
        cnnc.tl.predict_interactions(adata, layer="X", key_added=key, **kwargs)
        out[name] = {
            "pairs": len(adata.uns[key]["edges"]),
            "seconds": time.perf_counter() - t,
            "cpu_seconds": time.process_time() - cpu,  # this process's threads (not a cluster's workers)
            "load": os.getloadavg()[0],
            **memory(),
        }
    out["distributed"] = bool(adata.uns["original"]["params"]["distributed"])
    return out


def child_out_of_core(path: str, n_tfs: int, image_pairs: int) -> dict:
    import h5py
    import torch

    torch.set_num_threads(2)
    with h5py.File(path, "r") as f:
        before = peak_mib()  # after imports, before X is read
        out = _score_file(f, n_tfs, image_pairs, lambda: {"peak_mib": peak_mib()})
    out["default"]["before_mib"] = before
    return out


def child_ooc_model(path: str, n_tfs: int, model: str) -> dict:
    """One model on an .h5ad read lazily, in this process: n_tfs regulators × all genes."""
    import h5py
    import torch

    torch.set_num_threads(2)
    with h5py.File(path, "r") as f:
        adata = _lazy(f)
        t, cpu = time.perf_counter(), time.process_time()
        cnnc.tl.predict_interactions(adata, model=model, tfs=list(adata.var_names[:n_tfs]), layer="X")
        return {
            "model": cnnc.models.load(model).name + (" (default model)" if model == "default" else ""),
            "pairs": len(adata.uns["cnnc"]["edges"]),
            "seconds": time.perf_counter() - t,
            "cpu_seconds": time.process_time() - cpu,
            "load": os.getloadavg()[0],
            "peak_mib": peak_mib(),
        }


def ooc_models_run(n_cells: int, models: list[str], repeats: int = 2) -> dict:
    """Models on the same lazily read file, each run in a fresh process, alternating, ``repeats`` times."""
    cache = RESULTS / "cache" / "scale"
    cache.mkdir(parents=True, exist_ok=True)
    path = write_h5ad(cache / f"resampled-{n_cells}.h5ad", n_cells, N_GENES)
    rows = []
    for _ in range(repeats):
        for model in models:
            rows.append(_run_child("ooc-model", str(path), "1000", model))
            print(rows[-1], flush=True)
    return {"n_cells": n_cells, "n_genes": N_GENES, "rows": rows}


def child_cluster(path: str, n_tfs: int, image_pairs: int, n_workers: int) -> dict:
    """The out-of-core run on a dask.distributed LocalCluster: this process only drives, the workers read the file."""
    import h5py
    from distributed import Client, LocalCluster

    with (
        LocalCluster(n_workers=n_workers, threads_per_worker=1, dashboard_address=None, silence_logs=40) as cluster,
        Client(cluster) as client,
        h5py.File(path, "r") as f,
    ):
        client.run(reset_peak)
        out = _score_file(
            f,
            n_tfs,
            image_pairs,
            lambda: {"workerpeak_mib": list(client.run(peak_mib).values())},
            between=lambda: client.run(reset_peak),
        )
    out.update(n_workers=n_workers, clientpeak_mib=peak_mib())
    return out


def _run_child(*args: str) -> dict:
    proc = subprocess.run(
        [sys.executable, "-m", __spec__.name, "--child", *args], capture_output=True, text=True, cwd=ROOT, check=False
    )
    if proc.returncode:
        raise RuntimeError(f"child {args} failed:\n{proc.stderr[-3000:]}")
    return {**json.loads(proc.stdout.strip().splitlines()[-1]), "load": os.getloadavg()[0]}


def grnboost2_per_target(n_cells: int, n_tfs: int, n_targets: int) -> dict:
    adata = in_memory(n_cells, N_GENES)
    genes = list(adata.var_names)
    rng = np.random.default_rng(1)
    targets = [genes[i] for i in rng.choice(len(genes), n_targets, replace=False)]
    with tempfile.TemporaryDirectory(prefix="scale-grnboost2-") as tmp:
        tmp = Path(tmp)
        np.savez(tmp / "input.npz", X=adata.X.toarray().astype(np.float64), genes=np.asarray(genes, dtype=str))
        (tmp / "tfs.txt").write_text("\n".join(genes[:n_tfs]) + "\n")
        (tmp / "targets.txt").write_text("\n".join(targets) + "\n")
        env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV")}
        proc = subprocess.run(
            [
                str(venv_python("grnboost2")),
                str(HERE / "time_grnboost2.py"),
                "--expression",
                str(tmp / "input.npz"),
                "--tfs",
                str(tmp / "tfs.txt"),
                "--targets",
                str(tmp / "targets.txt"),
            ],
            capture_output=True,
            text=True,
            cwd=HERE,
            env=env,
            check=False,
        )
    if proc.returncode:
        raise RuntimeError(f"GRNBoost2 timing failed:\n{proc.stderr[-3000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def default_label() -> str:
    """The row label of the default model: its registry name, marked as the default."""
    return f"{cnnc.models.load('default').name} (default model)"


def end_to_end(quick: bool, grnboost2_targets: int = 100, previous: dict | None = None) -> dict:
    """The end-to-end rows; with ``previous`` (an earlier run's results at the same size), only the default
    model's rows are measured and the other methods' rows are kept from it."""
    n_cells, tfs_small, tfs_large = (2_000, 5, 500) if quick else (10_000, 10, 1_000)
    res = {"n_cells": n_cells, "n_genes": N_GENES, "n_tfs": tfs_large, "rows": []}
    for n_tfs in (tfs_small, tfs_large):
        r = _run_child("cnnc", str(n_cells), str(n_tfs), "default", "float32")
        res["rows"].append({"method": default_label(), "n_tfs": n_tfs, "measured": True, **r})
        print(res["rows"][-1], flush=True)
    if previous is not None:
        res["rows"] += [r for r in previous["rows"] if not r["method"].endswith("(default model)")]
        res.update({k: v for k, v in previous.items() if k.startswith("grnboost2")})
        return res
    n_pairs_full = tfs_large * (N_GENES - 1)
    for precision in ("float32", "bfloat16"):
        r = _run_child("cnnc", str(n_cells), str(tfs_small), "cnnc-original", precision)
        rate = r["pairs"] / r["seconds"]
        res["rows"].append(
            {"method": f"cnnc-original ({precision})", "n_tfs": tfs_small, "measured": True, **r, "pairs_per_s": rate}
        )
        res["rows"].append(
            {
                "method": f"cnnc-original ({precision})",
                "n_tfs": tfs_large,
                "measured": False,
                "pairs": n_pairs_full,
                "seconds": n_pairs_full / rate,
                "peak_mib": r["peak_mib"],
            }
        )
        print(res["rows"][-2], flush=True)
    try:
        n_targets = 10 if quick else grnboost2_targets
        g = grnboost2_per_target(n_cells, tfs_large, n_targets)
        per_target = g["seconds"] / g["n_targets"]
        res["grnboost2_timing"] = g
        res["rows"].append(
            {
                "method": "GRNBoost2",
                "n_tfs": tfs_large,
                "measured": False,
                "pairs": n_pairs_full,
                "seconds": per_target * N_GENES,
                "peak_mib": float(sum(g["peak_rss_mib_per_worker"])),
                "note": f"{g['seconds']:.0f} s for {g['n_targets']} targets incl. cluster start-up, × {N_GENES} targets",
            }
        )
        print(res["rows"][-1], flush=True)
    except (RuntimeError, OSError, ValueError) as e:  # the venv is optional (BaselineUnavailableError): say so
        res["grnboost2_error"] = str(e)[:500]
        print(f"GRNBoost2 skipped: {e}", flush=True)
    return res


def out_of_core(quick: bool, n_cells: int | None = None, image_pairs: int = 2000) -> dict:
    n_cells = n_cells or (100_000 if quick else 1_000_000)
    cache = RESULTS / "cache" / "scale"
    cache.mkdir(parents=True, exist_ok=True)
    t = time.perf_counter()
    path = write_h5ad(cache / f"resampled-{n_cells}.h5ad", n_cells, N_GENES)
    written = time.perf_counter() - t
    r = _run_child("out-of-core", str(path), "1000", str(image_pairs))
    r["default_model"] = default_label()
    r["cluster"] = _run_child("cluster", str(path), "1000", str(image_pairs), "2")
    return {
        "n_cells": n_cells,
        "n_genes": N_GENES,
        "file_gib": path.stat().st_size / 2**30,
        "write_seconds": written,
        **r,
    }


def _cpu_load(r: dict) -> str:
    """`` (CPU 12 s, load 3.1)`` when the run recorded them (runs before they were recorded did not)."""
    if "cpu_seconds" not in r:
        return ""
    return f" (CPU {r['cpu_seconds']:,.0f} s, load {r['load']:.1f})"


def _ooc_models_lines(res: dict | None) -> list[str]:
    """Models compared on the same lazily read file: each run's time, and the mean CPU ratio to the first model."""
    if not res:
        return []
    lines = [
        "",
        f"Models out of core, in the same run: {res['n_cells']:,} cells × {res['n_genes']:,} genes read lazily as "
        "above, 1,000 regulators × all genes, each run in a fresh process, the models alternating:",
        "",
    ]
    cpu: dict[str, list[float]] = {}
    for r in res["rows"]:
        cpu.setdefault(r["model"], []).append(r["cpu_seconds"])
        lines.append(
            f"- {r['model']}, {r['pairs']:,} pairs: {r['seconds']:,.0f} s{_cpu_load(r)}, peak RSS {r['peak_mib']:,.0f} MiB"
        )
    first, *others = cpu
    for m in others:
        lines.append(f"- CPU time of {first} / {m}: ×{np.mean(cpu[first]) / np.mean(cpu[m]):.2f}")
    return lines


def write_report(results: dict) -> None:
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "scale.json").write_text(json.dumps(results, indent=1, default=float))
    lines = [header_line(results["run"]), ""] if "run" in results else []
    if results.get("provenance"):  # parts recorded by earlier versions of this benchmark: where each comes from
        lines += [results["provenance"], ""]
    e2e = results.get("end_to_end")
    if e2e:
        lines += [
            f"End to end, {e2e['n_cells']:,} cells × {e2e['n_genes']:,} genes (resampled real BEELINE cells, 18 % "
            f"nonzero), regulators × all genes, 2 CPU cores, each run in a fresh process.",
            "",
            "| method | regulators | pairs | wall time | CPU time | peak RSS | load |",
            "|---|---|---|---|---|---|---|",
        ]
        for r in e2e["rows"]:
            how = "" if r["measured"] else " (extrapolated)"
            cpu = f"{r['cpu_seconds']:,.0f} s" if "cpu_seconds" in r else "–"
            load = f"{r['load']:.1f}" if "load" in r else "–"
            lines.append(
                f"| {r['method']} | {r['n_tfs']:,} | {r['pairs']:,} | {r['seconds']:,.0f} s{how} | {cpu} | "
                f"{r['peak_mib']:,.0f} MiB | {load} |"
            )
        lines += [
            "",
            "CPU time: of the measuring process, all its threads (GRNBoost2's workers are other processes); "
            "load: 1-minute load average of the machine when the row finished (2 cores).",
        ]
        rows = {(r["method"], r["n_tfs"], r["measured"]): r for r in e2e["rows"]}
        default = next((r["method"] for r in e2e["rows"] if r["method"].endswith("(default model)")), None)
        big = rows.get((default, e2e["n_tfs"], True))
        small = next((r for k, r in rows.items() if k[0] == default and k[1] != e2e["n_tfs"]), None)
        grn = rows.get(("GRNBoost2", e2e["n_tfs"], False))
        lines.append("")
        if big and small:
            lines.append(
                f"- {default}: {big['pairs'] / small['pairs']:.0f}× more pairs, peak RSS "
                f"{small['peak_mib']:,.0f} → {big['peak_mib']:,.0f} MiB (×{big['peak_mib'] / small['peak_mib']:.2f})"
            )
        if big and grn:
            lines.append(
                f"- GRNBoost2 / cnnc wall time on the same network: ×{grn['seconds'] / big['seconds']:,.0f} "
                f"(GRNBoost2: {grn.get('note', '')})"
            )
        extra = [r for r in e2e["rows"] if r["method"].startswith("cnnc-original") and r["measured"]]
        for r in extra:
            lines.append(f"- {r['method']}: {r['pairs_per_s']:,.0f} pairs/s")
    ooc = results.get("out_of_core")
    if ooc:
        d, o = ooc["default"], ooc["original"]
        lines += [
            "",
            f"Out of core: {ooc['n_cells']:,} cells × {ooc['n_genes']:,} genes in an .h5ad of {ooc['file_gib']:.1f} GiB, "
            f"read lazily (X is a dask {ooc['x_type']} of 20,000-cell CSR chunks).",
            "",
            f"- {ooc.get('default_model', 'default model')}, {d['pairs']:,} pairs: {d['seconds']:,.0f} s"
            f"{_cpu_load(d)}, peak RSS {d['peak_mib']:,.0f} MiB ({d['before_mib']:,.0f} MiB after imports, before X is "
            "read)",
            f"- cnnc-original (bfloat16), {o['pairs']:,} pairs: {o['seconds']:,.0f} s{_cpu_load(o)}, peak RSS "
            f"{o['peak_mib']:,.0f} MiB",
        ]
        c = ooc.get("cluster")
        if c:

            def peaks(run):
                return " and ".join(f"{m:,.0f}" for m in c[run]["workerpeak_mib"])

            lines += [
                f"- the same on a dask.distributed LocalCluster of {c['n_workers']} worker processes (the workers read, "
                f"bin and count the file's chunks; this process drives; peak RSS of the driver "
                f"{c['clientpeak_mib']:,.0f} MiB): {ooc.get('default_model', 'default model')} {c['default']['seconds']:,.0f} s, worker peaks "
                f"{peaks('default')} MiB; cnnc-original {c['original']['seconds']:,.0f} s, worker peaks "
                f"{peaks('original')} MiB (each worker keeps the bin codes of its own chunks: 1 byte per cell and gene, "
                "plus 5 bytes per nonzero value)",
            ]
    lines += _ooc_models_lines(results.get("out_of_core_models"))
    wt = results.get("whole_transcriptome")
    if isinstance(wt, list) and wt:
        w = wt[0]
        lines += [
            "",
            f"Whole transcriptome, {w['n_cells']:,} cells × {w['n_genes']:,} genes in memory ({w['nonzero']:.1%} "
            f"nonzero; the data: {w['data_mib']:,.0f} MiB), {w['n_tfs']:,} regulators × all genes; wall time of "
            "`cnnc.tl.predict_interactions` and peak RSS (in brackets: with the data loaded, before the call):",
            "",
        ]
        for w in wt:
            if "refused" in w:
                lines.append(f"- {w['model']}: refused after {w['seconds']:,.0f} s: “{w['refused']}”")
                continue
            lines.append(
                f"- {w['model']}: {w['candidates']:,} candidate pairs, {w['pairs']:,} co-expressed in ≥ 10 cells and "
                f"scored: {w['seconds']:,.0f} s, peak RSS {w['peak_mib']:,.0f} MiB ({w['before_mib']:,.0f} MiB)"
            )
    GENERATED.mkdir(parents=True, exist_ok=True)
    (GENERATED / "scale.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument(
        "--part",
        choices=("end-to-end", "out-of-core", "ooc-models", "whole-transcriptome", "all"),
        default="end-to-end",
    )
    p.add_argument(
        "--ooc-models",
        nargs="+",
        default=["default", "cnnc-context"],
        help="models compared out of core by --part ooc-models (default: the default model and cnnc-context)",
    )
    p.add_argument("--wt-tfs", type=int, default=100, help="regulators of the whole-transcriptome run (default 100)")
    p.add_argument("--wt-genes", type=int, default=30_000, help="genes of the whole-transcriptome run (default 30,000)")
    p.add_argument(
        "--wt-models",
        nargs="+",
        default=["default", "cnnc-context"],
        help="models of the whole-transcriptome run (default: the default model and cnnc-context)",
    )
    p.add_argument("--quick", action="store_true", help="small sizes (minutes)")
    p.add_argument("--grnboost2-targets", type=int, default=100, help="targets GRNBoost2 is timed on (default 100)")
    p.add_argument(
        "--ooc-cells", type=int, default=None, help="cells of the out-of-core run (default 1,000,000; --quick 100,000)"
    )
    p.add_argument(
        "--ooc-image-pairs",
        type=int,
        default=2000,
        help="pairs imaged with cnnc-original (bfloat16) in the out-of-core run (default 2,000)",
    )
    p.add_argument(
        "--e2e-default-only",
        action="store_true",
        help="end to end: measure the default model's rows only, keep the other methods' rows of the last run",
    )
    p.add_argument("--child", nargs="+", help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.child:
        reset_peak()
        kind, *rest = args.child
        if kind == "cnnc":
            out = child_cnnc(int(rest[0]), int(rest[1]), rest[2], rest[3])
        elif kind == "whole":
            out = child_whole(int(rest[0]), int(rest[1]), int(rest[2]), rest[3])
        elif kind == "ooc-model":
            out = child_ooc_model(rest[0], int(rest[1]), rest[2])
        elif kind == "cluster":
            out = child_cluster(rest[0], int(rest[1]), int(rest[2]), int(rest[3]))
        else:
            out = child_out_of_core(rest[0], int(rest[1]), int(rest[2]))
        print(json.dumps(out, default=float))
        return
    file = RESULTS / "scale.json"
    results = json.loads(file.read_text()) if file.is_file() and not args.quick else {}
    # Every model whose rows the report shows: the parts run now and those kept from earlier runs.
    kept = [row["model"] for row in results.get("whole_transcriptome") or []]
    results["run"] = run_header("default", "cnnc-original", *args.ooc_models, *args.wt_models, *kept)
    if args.part in ("end-to-end", "all"):
        previous = results.get("end_to_end") if args.e2e_default_only else None
        if args.e2e_default_only and (previous is None or previous.get("n_cells") != (2_000 if args.quick else 10_000)):
            p.error(
                "--e2e-default-only needs an earlier end-to-end run of the same size in benchmarks/results/scale.json"
            )
        results["end_to_end"] = end_to_end(args.quick, args.grnboost2_targets, previous)
        write_report(results)
    if args.part in ("out-of-core", "all"):
        results["out_of_core"] = out_of_core(args.quick, args.ooc_cells, args.ooc_image_pairs)
        write_report(results)
    if args.part in ("ooc-models", "all"):
        results["out_of_core_models"] = ooc_models_run(args.ooc_cells or 100_000, args.ooc_models)
        write_report(results)
    if args.part in ("whole-transcriptome", "all"):
        results["whole_transcriptome"] = whole_transcriptome_run(args.quick, args.wt_tfs, args.wt_genes, args.wt_models)
        write_report(results)


if __name__ == "__main__":
    main()
