"""Pair images per second: cnnc's histogram engine against the original CNNC per-pair loop, in one run.

The original loop (xiaoyeye/CNNC, ``get_xy_label_data_cnn_combine_from_database.py``) builds each pair image
from the two genes' dense expression vectors with :func:`numpy.histogram2d`. The engine bins every gene once
and counts all pairs with a compiled kernel. Both are timed here on the same synthetic, scRNA-like sparse
matrix (log1p of negative-binomial-like counts, per-gene detection rates drawn log-normally around 7 % with a
long tail up to 90 %), the engine INCLUDING binning and the transform to float32 images. The loop is handed
each gene's values as a ready, contiguous vector, so its time is a lower bound of the original's (which also
looks the genes up per pair). The engine's images are checked against the loop's on the first pairs the loop
computed (up to 2,000): identical to the loop's float64 pixels rounded to float32. Loop and engine are timed in alternating rounds,
so that both meet the same quiet and busy spells of a shared machine.

Peak memory of the engine is measured in a fresh subprocess: the resident-set high-water mark is reset once
the input matrix exists, so the figure is what the engine adds (output images included).

Usage::

    python -m benchmarks.histograms            # 1,000 / 10,000 / 100,000 cells (several minutes)
    python -m benchmarks.histograms --quick    # small sizes, < 60 s (CI)
    python -m benchmarks.histograms --size 10000 200 200   # one size (cells, regulators, targets), no table
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import subprocess
import sys
import time
from dataclasses import asdict, dataclass

import anndata as ad
import numpy as np
import pandas as pd
from scipy import sparse

import cnnc

from ._common import GENERATED, RESULTS, ROOT, header_line, peak_mib, reset_peak, rss_mib, run_header

# (n_cells, n_regulators, n_targets): pairs = every regulator × every target. 10,000 cells × 40,000 pairs is the
# reference case of the engine's speed target (×300 against the loop, in CPU time).
FULL_SIZES = [(1_000, 100, 2_000), (10_000, 100, 400), (10_000, 100, 2_000), (100_000, 50, 1_000)]
QUICK_SIZES = [(1_000, 50, 1_000), (10_000, 50, 1_000)]


def synthetic_expression(n_cells: int, n_genes: int, seed: int = 0) -> sparse.csr_matrix:
    """Cells × genes CSR float32 log1p expression that looks like scRNA-seq.

    Detection rate per gene: log-normal (median 7 %, long right tail), clipped to [0.3 %, 90 %].
    Counts of detected cells: 1 + Poisson(Gamma) (negative-binomial-like, mean rising with detection),
    scaled by a log-normal per-cell size factor, then ``log1p``.
    """
    rng = np.random.default_rng(seed)
    rates = np.clip(rng.lognormal(np.log(0.07), 1.0, n_genes), 0.003, 0.9)
    size_factor = rng.lognormal(0.0, 0.4, n_cells)
    indptr = [0]
    indices = []
    data = []
    for g in range(n_genes):
        nnz = max(1, rng.binomial(n_cells, rates[g]))
        cells = np.sort(rng.choice(n_cells, nnz, replace=False))
        mean = 0.5 + 20.0 * rates[g] ** 1.5
        counts = 1 + rng.poisson(rng.gamma(1.5, mean / 1.5, nnz))
        indices.append(cells)
        data.append(np.log1p(counts / size_factor[cells]).astype(np.float32))
        indptr.append(indptr[-1] + nnz)
    csc = sparse.csc_matrix(
        (np.concatenate(data), np.concatenate(indices).astype(np.int32), np.asarray(indptr, dtype=np.int64)),
        shape=(n_cells, n_genes),
    )
    return csc.tocsr()


def pair_set(n_regulators: int, n_targets: int, n_genes: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Every regulator × every target (regulators drawn among the genes, targets the other genes)."""
    rng = np.random.default_rng(seed + 1)
    order = rng.permutation(n_genes)
    regulators = order[:n_regulators]
    targets = order[n_regulators : n_regulators + n_targets]
    a = np.repeat(regulators, len(targets))
    b = np.tile(targets, len(regulators))
    return a, b


def cnnc_loop_image(expr_a: np.ndarray, expr_b: np.ndarray) -> np.ndarray:
    """One pair image exactly as the original CNNC script computes it."""
    x_tf = np.log10(expr_a + 10**-2)
    x_gene = np.log10(expr_b + 10**-2)
    H_T = np.histogram2d(x_tf, x_gene, bins=32)[0]
    return (np.log10(H_T.T / expr_a.shape[0] + 10**-4) + 4) / 4


class LoopTimer:
    """The original loop, timed in rounds: each round computes pairs (in a fixed random order) for ``seconds``.

    Rounds are interleaved with the engine's runs (:func:`benchmark`), so that both see the same states of a shared
    machine. The images of the first ``keep`` pairs computed are kept, to check the engine's against.
    """

    def __init__(
        self, dense_by_gene: np.ndarray, a: np.ndarray, b: np.ndarray, seed: int = 0, keep: int = 2000
    ) -> None:
        self.dense_by_gene, self.a, self.b = dense_by_gene, a, b
        self.order = np.random.default_rng(seed + 2).permutation(len(a))
        # Only the first images are kept for the check: keeping every one would make the loop allocate fresh memory
        # throughout, whose first touch (page faults) would count against it.
        self.done: dict[int, np.ndarray] = {}
        self.keep = keep
        self._next = 0

    def round(self, seconds: float) -> tuple[float, float]:
        """Pairs per wall-clock second and CPU seconds per pair of one round (at least 10 pairs)."""
        n = 0
        start, cpu = time.perf_counter(), time.process_time()
        while True:
            p = int(self.order[self._next % len(self.order)])
            self._next += 1
            image = cnnc_loop_image(self.dense_by_gene[self.a[p]], self.dense_by_gene[self.b[p]])
            if len(self.done) < self.keep:
                self.done[p] = image
            n += 1
            elapsed = time.perf_counter() - start
            if elapsed >= seconds and n >= 10:
                return n / elapsed, (time.process_time() - cpu) / n


def as_anndata(X) -> ad.AnnData:
    """The matrix as an AnnData with gene names ``g0``, ``g1``, ..."""
    return ad.AnnData(X, var=pd.DataFrame(index=[f"g{i}" for i in range(X.shape[1])]))


def pair_list(adata: ad.AnnData, a: np.ndarray, b: np.ndarray, form: str = "tuples"):
    """The pairs (positions a, b) by gene name: a list of ``(gene_a, gene_b)`` tuples or a DataFrame."""
    names = np.asarray(adata.var_names, dtype=object)
    if form == "frame":
        return pd.DataFrame({"gene_a": names[a], "gene_b": names[b]})
    return list(zip(names[a].tolist(), names[b].tolist(), strict=True))


def run_engine(adata: ad.AnnData, pairs) -> np.ndarray:
    """Bin the genes, count every pair and transform to float32 images: one public call."""
    adata.uns.pop("cnnc", None)  # a fresh result each time (no "replacing" warning)
    cnnc.tl.pair_histograms(adata, pairs, store_bins=False)
    return adata.uns.pop("cnnc")["histograms"]


def time_engine(adata: ad.AnnData, pairs, *, n_jobs: int | None = None) -> tuple[float, float, np.ndarray]:
    """Wall-clock and CPU seconds (all threads) of one engine run, and its images.

    ``n_jobs``: threads for this run (``sc.settings.n_jobs``; ``None``: as set). One thread against the one-threaded
    loop is the comparison a loaded machine disturbs least (a thread waiting at the end of a parallel region for
    one that was descheduled spins).
    """
    import scanpy as sc

    previous = sc.settings.n_jobs
    if n_jobs is not None:
        sc.settings.n_jobs = n_jobs
    try:
        gc.collect()
        start, cpu = time.perf_counter(), time.process_time()
        images = run_engine(adata, pairs)
        return time.perf_counter() - start, time.process_time() - cpu, images
    finally:
        sc.settings.n_jobs = previous


def memory_child(n_cells: int, n_regulators: int, n_targets: int, seed: int) -> None:
    """Subprocess body: build the input, reset the RSS high-water mark, run the engine once, print MiB added."""
    X = synthetic_expression(n_cells, n_regulators + n_targets, seed)
    a, b = pair_set(n_regulators, n_targets, X.shape[1], seed)
    adata = as_anndata(X)
    pairs = pair_list(adata, a, b)
    run_engine(adata, pairs[:10])  # compiled code loaded before the measurement
    before = rss_mib()
    reset_peak()  # the high-water mark of making the input is not the engine's
    images = run_engine(adata, pairs)
    print(
        json.dumps(
            {
                "peak_mib": peak_mib() - before,
                "output_mib": images.nbytes / 2**20,
                "input_mib": X.data.nbytes / 2**20,
            }
        )
    )


def measure_memory(n_cells: int, n_regulators: int, n_targets: int, seed: int) -> dict:
    out = subprocess.run(
        [
            sys.executable,
            "-m",
            __spec__.name,
            "--memory-child",
            str(n_cells),
            str(n_regulators),
            str(n_targets),
            str(seed),
        ],
        cwd=ROOT,
        check=True,
        capture_output=True,
        text=True,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


@dataclass
class Row:
    n_cells: int
    n_pairs: int
    density: float
    loop_rate: float
    loop_cpu: float
    engine_rate: float
    frame_rate: float
    engine_seconds: float
    engine_cpu: float
    engine_cpu_one_thread: float
    median_round_ratio: float
    peak_mib: float
    output_mib: float
    checked: int
    load: float


def benchmark(n_cells: int, n_regulators: int, n_targets: int, *, loop_seconds: float, rounds: int, seed: int) -> Row:
    """Loop and engine measured in ``rounds`` alternating rounds; each time is the best of its rounds.

    A round is: the loop for ``loop_seconds / rounds``, one untimed engine run, then one engine run with the pairs
    as tuples, one with a DataFrame and one on a single thread. On a shared machine other processes only ever add time, and alternating
    puts the loop and the engine in the same quiet and busy spells. The round-by-round CPU ratios are kept too.
    """
    X = synthetic_expression(n_cells, n_regulators + n_targets, seed)
    a, b = pair_set(n_regulators, n_targets, X.shape[1], seed)
    loop = LoopTimer(np.ascontiguousarray(X.T.toarray()), a, b, seed)  # contiguous per-gene vectors for free
    adata = as_anndata(X)
    tuples, frame = pair_list(adata, a, b), pair_list(adata, a, b, "frame")
    run_engine(adata, tuples[:10])  # compile (or load the numba cache) outside the timing
    loop_rate, loop_cpu, engine_seconds, engine_cpu, frame_seconds, one_thread_cpu = 0.0, *[np.inf] * 5
    round_ratios, images = [], None
    for _ in range(rounds):
        rate, cpu = loop.round(loop_seconds / rounds)
        # On a virtual machine, memory the process has not touched for a while can cost ~5 ms per 2 MiB on first
        # touch again (the host backs it anew), several times the engine's own time for a fresh output. One untimed
        # run after the loop gives the timed runs the state consecutive calls have.
        time_engine(adata, tuples)
        images = None  # the previous round's images are freed before the next are made
        wall, engine, images = time_engine(adata, tuples)
        frame_seconds = min(frame_seconds, time_engine(adata, frame)[0])
        one_thread_cpu = min(one_thread_cpu, time_engine(adata, tuples, n_jobs=1)[1])
        round_ratios.append(cpu / (engine / len(a)))
        loop_rate, loop_cpu = max(loop_rate, rate), min(loop_cpu, cpu)
        engine_seconds, engine_cpu = min(engine_seconds, wall), min(engine_cpu, engine)
    # The loop's images, bit for bit, on the pairs whose images the loop kept.
    for p, reference in loop.done.items():
        np.testing.assert_array_equal(images[p], reference.astype(np.float32), err_msg=f"pair {p}")
    checked = len(loop.done)
    del images, loop
    mem = measure_memory(n_cells, n_regulators, n_targets, seed)
    return Row(
        n_cells=n_cells,
        n_pairs=len(a),
        density=X.nnz / (X.shape[0] * X.shape[1]),
        loop_rate=loop_rate,
        loop_cpu=loop_cpu,
        engine_rate=len(a) / engine_seconds,
        frame_rate=len(a) / frame_seconds,
        engine_seconds=engine_seconds,
        engine_cpu=engine_cpu,
        engine_cpu_one_thread=one_thread_cpu,
        median_round_ratio=float(np.median(round_ratios)),
        peak_mib=mem["peak_mib"],
        output_mib=mem["output_mib"],
        checked=checked,
        load=os.getloadavg()[0],
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="small sizes for CI (< 60 s)")
    parser.add_argument("--loop-seconds", type=float, default=None, help="time spent on the loop per size")
    parser.add_argument(
        "--rounds", type=int, default=5, help="alternating rounds of loop and engine per size (best is reported)"
    )
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--size",
        nargs=3,
        type=int,
        action="append",
        metavar=("CELLS", "REGULATORS", "TARGETS"),
        help="measure this size only (repeatable; prints, writes no table)",
    )
    parser.add_argument("--memory-child", nargs=4, type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.memory_child:
        memory_child(*args.memory_child)
        return

    import numba

    run = run_header()
    sizes = args.size or (QUICK_SIZES if args.quick else FULL_SIZES)
    loop_seconds = args.loop_seconds or (1.5 if args.quick else 10.0)
    print(
        f"numba threads: {numba.get_num_threads()}, cores: {os.cpu_count()}, "
        f"numpy {np.__version__}, numba {numba.__version__}"
    )
    header = (
        f"{'cells':>8} {'pairs':>8} {'nonzero':>8} {'loop pairs/s':>13} {'engine pairs/s':>15} {'speed-up':>9} "
        f"{'as frame':>9} {'loop CPU µs/pair':>17} {'engine CPU µs/pair':>19} {'CPU ratio':>10} {'1 thread':>9} "
        f"{'by round':>9} "
        f"{'engine s':>9} "
        f"{'peak MiB':>9} {'output MiB':>11} {'checked':>8} {'load':>5}"
    )
    print(header)
    print("-" * len(header))
    md = [
        "| cells | pairs | loop pairs/s | engine pairs/s | speed-up | speed-up, pairs as a DataFrame | CPU ratio "
        "| CPU ratio, engine on 1 thread | CPU ratio, median of the rounds | engine peak MiB | load |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    rows = []
    for n_cells, n_regulators, n_targets in sizes:
        r = benchmark(n_cells, n_regulators, n_targets, loop_seconds=loop_seconds, rounds=args.rounds, seed=args.seed)
        rows.append(r)
        engine_cpu_per_pair = r.engine_cpu / r.n_pairs
        one_thread_ratio = r.loop_cpu / (r.engine_cpu_one_thread / r.n_pairs)
        print(
            f"{r.n_cells:>8,} {r.n_pairs:>8,} {r.density:>8.1%} {r.loop_rate:>13,.0f} {r.engine_rate:>15,.0f} "
            f"{r.engine_rate / r.loop_rate:>8,.0f}x {r.frame_rate / r.loop_rate:>8,.0f}x {r.loop_cpu * 1e6:>17,.1f} "
            f"{engine_cpu_per_pair * 1e6:>19,.2f} {r.loop_cpu / engine_cpu_per_pair:>9,.0f}x {one_thread_ratio:>8,.0f}x "
            f"{r.median_round_ratio:>8,.0f}x {r.engine_seconds:>9.2f} {r.peak_mib:>9.0f} {r.output_mib:>11.0f} {r.checked:>8,} {r.load:>5.1f}",
            flush=True,
        )
        md.append(
            f"| {r.n_cells:,} | {r.n_pairs:,} | {r.loop_rate:,.0f} | {r.engine_rate:,.0f} | "
            f"{r.engine_rate / r.loop_rate:,.0f}× | {r.frame_rate / r.loop_rate:,.0f}× | "
            f"{r.loop_cpu / engine_cpu_per_pair:,.0f}× | {one_thread_ratio:,.0f}× | {r.median_round_ratio:,.0f}× | {r.peak_mib:.0f} | {r.load:.1f} |"
        )
    if not args.quick and not args.size:
        GENERATED.mkdir(parents=True, exist_ok=True)
        note = (
            "Engine (`cnnc.tl.pair_histograms`, pairs as a list of tuples) vs the original per-pair "
            "`numpy.histogram2d` loop, measured in the same run on 2 cores (speed-up: wall clock; the same with the "
            "pairs as a DataFrame beside it; CPU ratio: CPU time per pair, the engine on its 2 threads and on 1 thread "
            "(on a loaded machine the 2-thread CPU time grows with the load); load: 1-minute load average of the "
            f"machine). Loop and engine are measured in {args.rounds} alternating rounds (the loop for "
            f"{loop_seconds / args.rounds:g} s, then the engine once untimed and once in each form), so both see the "
            "same quiet and "
            "busy spells of the shared machine; each time is the best of its rounds, and the median of the "
            "round-by-round CPU ratios is given beside. "
            "10,000 cells × 40,000 pairs is the reference case of the engine's target (×300 in CPU time)."
        )
        (GENERATED / "histograms.md").write_text(header_line(run) + "\n\n" + note + "\n\n" + "\n".join(md) + "\n")
        RESULTS.mkdir(parents=True, exist_ok=True)
        results = {"run": run, "rows": [asdict(r) for r in rows]}
        (RESULTS / "histograms.json").write_text(json.dumps(results, indent=1, default=float))
    print(
        "speed-up: wall-clock pairs/s of the engine (2 threads) over the loop (1 thread), measured in this run.\n"
        "as frame: the same with the pairs given as a DataFrame (the difference is the cost of reading tuples).\n"
        "CPU ratio: CPU time per pair of the loop over that of the engine (all its threads): what one core buys.\n"
        "1 thread: the same with the engine on one thread (sc.settings.n_jobs = 1).\n"
        "by round: the median of the CPU ratios of the alternating rounds (each a loop round and the run after it).\n"
        "load: 1-minute load average after the row; above the core count, other processes share the cores."
    )


if __name__ == "__main__":
    main()
