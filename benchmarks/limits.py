"""How close cnnc runs to this machine's limits: GEMM peak, memory bandwidth, and the two hot loops against them.

Measured in one run on the machine it runs on:

1. the machine: float32 and bfloat16 matrix-multiply throughput (torch, all threads; the peak a CNN can approach)
   and memory bandwidth (numpy copy of 256 MiB, bytes read + written per second);
2. the histogram engine (``cnnc.tl.pair_histograms`` with the pairs as a DataFrame, binning included) on 10,000
   resampled real cells × 2,000 genes (benchmarks/_scale_data.py): pairs/s against the bandwidth bound. Bytes per pair, a lower bound of the traffic: the walked (sparser) gene's
   nonzero cells (4-byte index + 1-byte code each), one code of the other gene per such cell, and the float32
   image written (bins² × 4 bytes);
3. the faithful CNNC network (FLOPs per pair counted by torch's FlopCounterMode) against the GEMM peak, in the
   variants tried to speed up inference: the plain forward pass over 1,024-pair batches (cnnc 0.1's), channels-last
   layout with 128-pair passes (the default now), bfloat16 autocast (``precision="bfloat16"``) and torch.compile,
   and a sweep of the pairs per forward pass;
4. what bfloat16 does to accuracy: AUROC of the shipped ``cnnc-original`` on every regulator × gene pair of BEELINE
   mHSC-L STRING in float32 and in bfloat16 (needs ../shared/data).

Usage: python -m benchmarks.limits [--quick]
Writes benchmarks/results/limits.json and docs/_generated/limits.md.
"""

from __future__ import annotations

import argparse
import json
import platform
import time

import numpy as np
import pandas as pd
import torch

import cnnc

from ._beeline import SHARED, candidates, load_cell, table_lookup
from ._common import GENERATED, RESULTS, header_line, run_header
from ._scale_data import in_memory

#: Pixels per side of the images the engine measurement makes (``cnnc.tl.pair_histograms``'s default).
BINS = 32


def _best_rate(fn, work: float, seconds: float = 2.0, min_reps: int = 3) -> float:
    """Highest ``work / time`` over repeated calls (the first call warms up)."""
    fn()
    best, reps, start = 0.0, 0, time.perf_counter()
    while reps < min_reps or time.perf_counter() - start < seconds:
        t = time.perf_counter()
        fn()
        best = max(best, work / (time.perf_counter() - t))
        reps += 1
    return best


def gemm_gflops(dtype: torch.dtype, n: int = 2048) -> float:
    a = torch.randn(n, n).to(dtype)
    b = torch.randn(n, n).to(dtype)
    return _best_rate(lambda: torch.mm(a, b), 2 * n**3) / 1e9


def bandwidth_gbs(mib: int = 256) -> float:
    src = np.ones(mib * 2**20 // 8)
    dst = np.empty_like(src)
    return _best_rate(lambda: np.copyto(dst, src), 2 * src.nbytes) / 1e9


def engine(n_cells: int, n_regulators: int) -> dict:
    adata = in_memory(n_cells, 2000)
    x = adata.X
    genes = np.arange(x.shape[1])
    a = np.repeat(np.arange(n_regulators), len(genes))
    b = np.tile(genes, n_regulators)
    a, b = a[a != b], b[a != b]  # a gene paired with itself has no image
    names = np.asarray(adata.var_names, dtype=object)
    pairs = pd.DataFrame({"gene_a": names[a], "gene_b": names[b]})
    nnz = np.diff(x.tocsc().indptr)
    walked = np.minimum(nnz[a], nnz[b])
    bytes_per_pair = float(np.mean(walked * 6) + BINS**2 * 4)

    def run():
        adata.uns.pop("cnnc", None)
        cnnc.tl.pair_histograms(adata, pairs, bins=BINS, store_bins=False)

    pairs_per_s = _best_rate(run, len(a), seconds=3.0)
    return {
        "n_cells": n_cells,
        "pairs": len(a),
        "density": float(x.nnz / np.prod(x.shape)),
        "pairs_per_s": pairs_per_s,
        "bytes_per_pair": bytes_per_pair,
    }


def cnn_variants(quick: bool) -> dict:
    from torch.utils.flop_counter import FlopCounterMode

    model = cnnc.models.load("cnnc-original")
    module = model.module.eval()
    with FlopCounterMode(display=False) as counter, torch.inference_mode():
        module(torch.zeros(1, 1, 32, 32))
    flops = counter.get_total_flops()
    n = 1024 if quick else 4096
    images = np.random.default_rng(0).random((n, 32, 32), dtype=np.float32)
    x = torch.from_numpy(images[:, None])
    rows = {}

    def plain():  # cnnc 0.1: contiguous layout, 1,024 pairs per forward pass
        with torch.inference_mode():
            for s in range(0, n, 1024):
                module(x[s : s + 1024])

    rows["float32, 1,024-pair passes (cnnc 0.1)"] = _best_rate(plain, n)
    rows["float32, channels-last, 128-pair passes (default)"] = _best_rate(lambda: model.predict_proba(images), n)
    rows["bfloat16 autocast, channels-last, 128-pair passes"] = _best_rate(
        lambda: model.predict_proba(images, precision="bfloat16"), n
    )
    sweep = {}
    for step in (32, 64, 128, 256, 1024):
        sweep[step] = _best_rate(lambda step=step: model.predict_proba(images, batch_size=step), n, seconds=1.0)
    try:
        compiled = torch.compile(module)
        xc = x.contiguous(memory_format=torch.channels_last)
        module.to(memory_format=torch.channels_last)

        def run_compiled():
            with torch.inference_mode():
                for s in range(0, n, 128):
                    compiled(xc[s : s + 128])

        rows["float32, channels-last, 128-pair passes, torch.compile"] = _best_rate(run_compiled, n)
    except Exception as e:  # noqa: BLE001 - torch.compile fails in many ways (no C++ toolchain, ...): report which
        rows["torch.compile"] = f"failed: {type(e).__name__}: {str(e)[:120]}"
    finally:
        module.to(memory_format=torch.contiguous_format)
    return {"flops_per_pair": flops, "pairs_per_s": rows, "sweep_pairs_per_pass": sweep}


def bf16_accuracy() -> dict | None:
    from cnnc.metrics import summarize

    if not SHARED.is_dir():
        return None

    adata, truths = load_cell("mHSC-L")
    truth = truths["STRING"]
    a, b, y = candidates(adata, truth)
    regs = sorted(set(truth["regulator"]) & set(adata.var_names))
    out = {}
    for precision in ("float32", "bfloat16"):
        scored = adata.copy()
        t = time.perf_counter()
        cnnc.tl.predict_interactions(
            scored, model="cnnc-original", tfs=regs, precision=precision, symmetric=False, layer="X"
        )
        seconds = time.perf_counter() - t
        s = table_lookup(scored.uns["cnnc"]["edges"], pd.Index(adata.var_names), a, b)
        out[precision] = {**summarize(y, s), "seconds": seconds, "scores": s}
    diff = np.abs(out["float32"].pop("scores") - out["bfloat16"].pop("scores"))
    out["max_score_change"] = float(diff.max())
    out["n_pairs"] = len(y)
    return out


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--quick", action="store_true")
    args = p.parse_args()
    res = {
        "run": run_header("cnnc-original"),
        "machine": {
            "cpu": platform.processor() or platform.machine(),
            "threads": torch.get_num_threads(),
            "torch": torch.__version__,
            "gemm_gflops_float32": gemm_gflops(torch.float32),
            "gemm_gflops_bfloat16": gemm_gflops(torch.bfloat16),
            "bandwidth_gbs": bandwidth_gbs(),
        },
    }
    print(res["machine"], flush=True)
    res["engine"] = engine(2_000 if args.quick else 10_000, 20 if args.quick else 100)
    print(res["engine"], flush=True)
    res["cnn"] = cnn_variants(args.quick)
    print(res["cnn"], flush=True)
    res["bf16_accuracy"] = None if args.quick else bf16_accuracy()
    print(res["bf16_accuracy"], flush=True)
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "limits.json").write_text(json.dumps(res, indent=1, default=float))
    write_report(res)


def write_report(res: dict) -> None:
    m, e, c = res["machine"], res["engine"], res["cnn"]
    bound_engine = m["bandwidth_gbs"] * 1e9 / e["bytes_per_pair"]
    lines = [
        header_line(res["run"]),
        "",
        f"Machine: {m['threads']} threads, float32 GEMM {m['gemm_gflops_float32']:.0f} GFLOP/s, bfloat16 GEMM "
        f"{m['gemm_gflops_bfloat16']:.0f} GFLOP/s, memory bandwidth {m['bandwidth_gbs']:.1f} GB/s (copy).",
        "",
        f"- Histogram engine, {e['n_cells']:,} cells ({e['density']:.0%} nonzero), {e['pairs']:,} pairs, binning "
        f"included: {e['pairs_per_s']:,.0f} pairs/s; ≥ {e['bytes_per_pair']:,.0f} bytes per pair → bandwidth bound "
        f"{bound_engine:,.0f} pairs/s: **{e['pairs_per_s'] / bound_engine:.0%} of the bound**.",
        "",
        f"Faithful CNNC network, {c['flops_per_pair'] / 1e6:.1f} MFLOP per pair (the peak is that of a 2,048² matrix "
        "product; well-laid-out convolutions can run slightly above it):",
        "",
        "| inference variant | pairs/s | GFLOP/s | of the GEMM peak |",
        "|---|---|---|---|",
    ]
    for name, rate in c["pairs_per_s"].items():
        if isinstance(rate, str):
            lines.append(f"| {name} | {rate} | | |")
            continue
        peak = m["gemm_gflops_bfloat16" if "bfloat16" in name else "gemm_gflops_float32"]
        gf = rate * c["flops_per_pair"] / 1e9
        lines.append(f"| {name} | {rate:,.0f} | {gf:.0f} | {gf / peak:.0%} |")
    base = c["pairs_per_s"]["float32, 1,024-pair passes (cnnc 0.1)"]
    lines += [
        "",
        "Pairs per forward pass (float32, channels-last): "
        + ", ".join(f"{k}: {v:,.0f}/s" for k, v in c["sweep_pairs_per_pass"].items())
        + f". Speed-up of the default over cnnc 0.1: ×{c['pairs_per_s']['float32, channels-last, 128-pair passes (default)'] / base:.2f}; "
        f"bfloat16: ×{c['pairs_per_s']['bfloat16 autocast, channels-last, 128-pair passes'] / base:.2f}.",
    ]
    acc = res.get("bf16_accuracy")
    if acc:
        lines += [
            "",
            f"bfloat16 and accuracy (cnnc-original, mHSC-L STRING, {acc['n_pairs']:,} pairs): AUROC "
            f"{acc['float32']['auroc']:.4f} (float32) vs {acc['bfloat16']['auroc']:.4f} (bfloat16), AUPRC ratio "
            f"{acc['float32']['auprc_ratio']:.3f} vs {acc['bfloat16']['auprc_ratio']:.3f}; largest score change "
            f"{acc['max_score_change']:.1e}; end to end {acc['float32']['seconds']:.1f} s vs {acc['bfloat16']['seconds']:.1f} s.",
        ]
    GENERATED.mkdir(parents=True, exist_ok=True)
    (GENERATED / "limits.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
