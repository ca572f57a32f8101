"""Per-pair features for the transfer study, cached to <CACHE>/<cell>.npz.

For one BEELINE cell type (TFs+500) the pair universe is R × G minus self pairs, R = the regulators of the
three ground truths (Specific, STRING, Non-Specific) that are in the data, G = all genes. Every feature is
computed without labels; labels (one column per ground truth, plus which pairs belong to that ground truth's
evaluation set) are stored beside them, for evaluation only.

Run: python benchmarks/study/features.py [cell ...]
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

import numpy as np
from scipy.stats import rankdata

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
from benchmarks._beeline import RESULTS, use_shared_data

use_shared_data()  # BEELINE from the data folder beside the checkout, when it is there (else $CNNC_DATA_DIR)
import cnnc  # noqa: E402

#: The study's cache and results: $CNNC_STUDY_CACHE, else benchmarks/results/cache/study (not committed).
CACHE = Path(os.environ.get("CNNC_STUDY_CACHE", RESULTS / "cache" / "study"))
CELLS = ("mDC", "mESC", "mHSC-L")
NETWORKS = ("Specific", "STRING", "Non-Specific")


def load(cell: str, size: int = 500):
    """Expression (cells × genes, float64), gene names, ground truths (name -> set of (reg, target))."""
    adatas = {net: cnnc.datasets.beeline(cell, net, size) for net in NETWORKS}
    ref = adatas[NETWORKS[0]]
    genes = list(ref.var_names)
    X = np.asarray(ref.X, dtype=np.float64)
    truths = {}
    for net, ad in adatas.items():
        assert set(ad.var_names) == set(genes)
        assert np.allclose(ad[:, genes].X, ref.X)
        gt = ad.uns["ground_truth"]
        truths[net] = {(r, t) for r, t in zip(gt["regulator"], gt["target"], strict=True)}
    return X, genes, truths, ref.uns["tfs"]


def _corr(A: np.ndarray, B: np.ndarray | None = None) -> np.ndarray:
    """Pearson correlation of the columns of A with those of B (constant columns -> 0)."""
    B = A if B is None else B
    Az = A - A.mean(0)
    Bz = B - B.mean(0)
    na = np.sqrt((Az**2).sum(0))
    nb = np.sqrt((Bz**2).sum(0))
    na[na == 0] = np.inf
    nb[nb == 0] = np.inf
    return (Az / na).T @ (Bz / nb)


def _zscores(S: np.ndarray, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Row z (pair among the regulator's scores to all genes) and column z (among the target's scores).

    S is a full genes × genes score matrix (diagonal ignored); returns the R × G row- and column-z matrices.
    """
    S = S.copy()
    np.fill_diagonal(S, np.nan)
    mu = np.nanmean(S, 1)
    sd = np.nanstd(S, 1) + 1e-12
    zr = (S[rows] - mu[rows, None]) / sd[rows, None]
    mu_c = np.nanmean(S, 0)
    sd_c = np.nanstd(S, 0) + 1e-12
    zc = (S[rows] - mu_c[None, :]) / sd_c[None, :]
    return zr, zc


def _codes_cnnc(X: np.ndarray, bins: int) -> np.ndarray:
    """CNNC binning: log10(x + 0.01), equal-width bins over each gene's own min..max (zeros land in bin 0)."""
    L = np.log10(X + 0.01)
    lo, hi = L.min(0), L.max(0)
    width = np.where(hi > lo, hi - lo, 1.0)
    return np.clip(np.floor((L - lo) / width * bins), 0, bins - 1).astype(np.int64)


def _codes_rank(X: np.ndarray, bins: int) -> np.ndarray:
    """Rank recipe: zero cells in bin 0, nonzero cells in bins-1 equal-frequency bins of their own ranks."""
    codes = np.zeros(X.shape, dtype=np.int64)
    for g in range(X.shape[1]):
        nz = X[:, g] > 0
        if nz.any():
            q = (rankdata(X[nz, g]) - 0.5) / nz.sum()
            codes[nz, g] = 1 + np.minimum((q * (bins - 1)).astype(np.int64), bins - 2)
    return codes


def _joint_mi(codes: np.ndarray, bins: int, rows: np.ndarray, coarsen: int = 0, keep_image: bool = False):
    """MI (nats) of the joint histogram of every (row gene, gene) pair; optionally also MI after summing
    ``coarsen`` × ``coarsen`` blocks and the CNNC-normalized image of the coarse histogram.

    Returns mi (R × G), mi_coarse (R × G) or None, images (R × G × k × k float16) or None.
    """
    n, G = codes.shape
    onehot = np.zeros((n, G * bins), dtype=np.float32)
    onehot[np.arange(n)[:, None], np.arange(G)[None, :] * bins + codes] = 1.0
    marg = onehot.sum(0).reshape(G, bins) / n  # G × bins
    R = len(rows)
    mi = np.empty((R, G), dtype=np.float32)
    kc = bins // coarsen if coarsen else 0
    mi_c = np.empty((R, G), dtype=np.float32) if coarsen else None
    imgs = np.empty((R, G, kc, kc), dtype=np.float16) if keep_image else None
    marg_c = marg.reshape(G, kc, coarsen).sum(2) if coarsen else None

    def _mi(P, pa, pb):  # P: r × ka × G × kb
        with np.errstate(divide="ignore", invalid="ignore"):
            ratio = P / (pa[:, :, None, None] * pb[None, None, :, :])
            t = np.where(P > 0, P * np.log(np.where(P > 0, ratio, 1.0)), 0.0)
        return t.sum((1, 3))

    step = max(1, int(6e7 // (bins * G * bins * 4)))
    for s in range(0, R, step):
        rr = rows[s : s + step]
        cols = (rr[:, None] * bins + np.arange(bins)[None, :]).ravel()
        J = (onehot[:, cols].T @ onehot).reshape(len(rr), bins, G, bins) / n
        mi[s : s + len(rr)] = _mi(J, marg[rr], marg)
        if coarsen:
            Jc = J.reshape(len(rr), kc, coarsen, G, kc, coarsen).sum((2, 5))
            mi_c[s : s + len(rr)] = _mi(Jc, marg_c[rr], marg_c)
            if keep_image:
                imgs[s : s + len(rr)] = ((np.log10(Jc + 1e-4) + 4) / 4).transpose(0, 2, 1, 3)
    return mi, mi_c, imgs


def compute(cell: str) -> dict:
    X, genes, truths, tfs = load(cell)
    n, G = X.shape
    index = {g: i for i, g in enumerate(genes)}
    regs = sorted({index[r] for t in truths.values() for r, _ in t if r in index})
    rows = np.array(regs)
    R = len(rows)
    times = {}
    t0 = time.perf_counter()
    feats: dict[str, np.ndarray] = {}

    def put(name, M):
        feats[name] = np.asarray(M, dtype=np.float32)

    # --- correlations (genes × genes)
    t = time.perf_counter()
    P = _corr(X)
    S = _corr(rankdata(X, axis=0))
    put("pearson", P[rows])
    put("abs_pearson", np.abs(P[rows]))
    put("abs_spearman", np.abs(S[rows]))
    M = (X > 0).astype(np.float64)
    n11 = M.T @ M
    Sa = X.T @ M  # [a, b] = sum of x_a over cells where both are nonzero
    Saa = (X**2).T @ M
    Sab = X.T @ X
    with np.errstate(divide="ignore", invalid="ignore"):
        cov = Sab - Sa * Sa.T / n11
        va = Saa - Sa**2 / n11
        nzp = cov / np.sqrt(va * va.T)
    nzp = np.where((n11 >= 5) & np.isfinite(nzp), nzp, 0.0)
    put("abs_pearson_conz", np.abs(nzp[rows]))
    det = M.sum(0)
    n10 = det[:, None] - n11
    n01 = det[None, :] - n11
    n00 = n - n11 - n10 - n01
    put("jaccard", (n11 / np.maximum(det[:, None] + det[None, :] - n11, 1))[rows])
    lor = np.log((n11 + 0.5) * (n00 + 0.5) / ((n10 + 0.5) * (n01 + 0.5)))
    put("abs_logodds_detect", np.abs(lor[rows]))
    # correlation after removing the first k PCs of the standardized cells x genes matrix ("context")
    Z = (X - X.mean(0)) / (X.std(0) + 1e-12)
    U, sv, _ = np.linalg.svd(Z, full_matrices=False)
    for k in (3, 10):
        Zr = Z - U[:, :k] @ (U[:, :k].T @ Z)
        put(f"abs_pearson_pc{k}", np.abs(_corr(Zr)[rows]))
    Rk = rankdata(X, axis=0)
    Rz = (Rk - Rk.mean(0)) / (Rk.std(0) + 1e-12)
    Ur, _, _ = np.linalg.svd(Rz, full_matrices=False)
    Rr = Rz - Ur[:, :3] @ (Ur[:, :3].T @ Rz)
    put("abs_spearman_pc3", np.abs(_corr(Rr)[rows]))
    # neighbour context: row / column z-scores of |corr| (DeepDRIM-like), and CLR-combined
    for name, Mat in (("pearson", np.abs(P)), ("spearman", np.abs(S)), ("pearson_pc3", None)):
        if Mat is None:
            Zr3 = Z - U[:, :3] @ (U[:, :3].T @ Z)
            Mat = np.abs(_corr(Zr3))
        zr, zc = _zscores(Mat, rows)
        put(f"z_row_{name}", zr)
        put(f"z_col_{name}", zc)
        put(f"clr_{name}", np.sqrt(np.maximum(zr, 0) ** 2 + np.maximum(zc, 0) ** 2))
        put(f"z_sum_{name}", zr + zc)
    # a regulator's and a target's overall coupling (normalizers of the z-scores): "hubness" proxies
    absS = np.abs(S).copy()
    np.fill_diagonal(absS, np.nan)
    put("reg_mean_abs_spearman", np.repeat(np.nanmean(absS, 1)[rows, None], G, 1))
    put("tgt_mean_abs_spearman", np.repeat(np.nanmean(absS, 0)[None, :], R, 0))
    times["correlations"] = time.perf_counter() - t

    # --- histograms: mutual information of the CNNC 32×32 (and its 8×8 coarsening) and of the rank recipe
    t = time.perf_counter()
    c32 = _codes_cnnc(X, 32)
    mi32, mi8, img_cnnc8 = _joint_mi(c32, 32, rows, coarsen=4, keep_image=True)
    put("mi_cnnc32", mi32)
    put("mi_cnnc8", mi8)
    times["mi_cnnc32+8"] = time.perf_counter() - t
    t = time.perf_counter()
    r8 = _codes_rank(X, 8)
    _, mir8, img_rank8 = _joint_mi(r8, 8, rows, coarsen=1, keep_image=True)
    put("mi_rank8", mir8)
    r16 = _codes_rank(X, 16)
    mir16, _, _ = _joint_mi(r16, 16, rows)
    put("mi_rank16", mir16)
    times["mi_rank8+16"] = time.perf_counter() - t
    # MI within-regulator / within-target context (row z over genes, column z over regulators) and CLR
    for name in ("mi_cnnc8", "mi_rank8"):
        A = feats[name].astype(np.float64)
        A = A.copy()
        A[np.arange(R), rows] = np.nan
        zr = (A - np.nanmean(A, 1, keepdims=True)) / (np.nanstd(A, 1, keepdims=True) + 1e-12)
        zc = (A - np.nanmean(A, 0, keepdims=True)) / (np.nanstd(A, 0, keepdims=True) + 1e-12)
        zr, zc = np.nan_to_num(zr), np.nan_to_num(zc)
        put(f"z_row_{name}", zr)
        put(f"z_col_{name}", zc)
        put(f"clr_{name}", np.sqrt(np.maximum(zr, 0) ** 2 + np.maximum(zc, 0) ** 2))

    # --- marginals of the regulator and of the target, raw and as within-data-set quantiles among genes
    t = time.perf_counter()
    stats = {"detect": det / n, "mean": X.mean(0), "var": X.var(0), "nzmean": X.sum(0) / np.maximum(det, 1)}
    for name, v in stats.items():
        q = (rankdata(v) - 0.5) / G
        put(f"reg_{name}_q", np.repeat(q[rows, None], G, 1))
        put(f"tgt_{name}_q", np.repeat(q[None, :], R, 0))
    is_tf = np.isin(np.array(genes), list(tfs)).astype(float)
    put("tgt_is_tf", np.repeat(is_tf[None, :], R, 0))
    times["marginals"] = time.perf_counter() - t
    times["total"] = time.perf_counter() - t0

    # --- flatten to pairs (self pairs removed), labels per ground truth
    keep = rows[:, None] != np.arange(G)[None, :]
    reg_idx = np.repeat(rows[:, None], G, 1)[keep]
    tgt_idx = np.repeat(np.arange(G)[None, :], R, 0)[keep]
    out = {"feat_" + k: v[keep] for k, v in feats.items()}
    out["img_cnnc8"] = img_cnnc8[keep].reshape(-1, 64)
    out["img_rank8"] = img_rank8[keep].reshape(-1, 64)
    names = np.array(genes)
    pair_names = np.char.add(np.char.add(names[reg_idx], "\t"), names[tgt_idx])
    for net, edges in truths.items():
        regs_net = {index[r] for r, _ in edges if r in index}
        out[f"in_{net}"] = np.isin(reg_idx, list(regs_net))
        out[f"y_{net}"] = np.isin(pair_names, np.array([f"{r}\t{t}" for r, t in edges]))
    out["reg_idx"], out["tgt_idx"] = reg_idx, tgt_idx
    out["genes"] = names
    out["times"] = np.array([f"{k}={v:.2f}" for k, v in times.items()])
    out["shape"] = np.array([n, G, R])
    return out


def get(cell: str) -> dict:
    path = CACHE / f"{cell}.npz"
    if not path.exists():
        CACHE.mkdir(parents=True, exist_ok=True)
        data = compute(cell)
        np.savez(path, **data)
    with np.load(path, allow_pickle=False) as z:
        return {k: z[k] for k in z.files}


if __name__ == "__main__":
    for cell in sys.argv[1:] or CELLS:
        d = get(cell)
        n, G, R = d["shape"]
        print(cell, f"{n} cells, {G} genes, {R} regulators, {len(d['reg_idx'])} pairs;", " ".join(d["times"]))
        for net in NETWORKS:
            m = d[f"in_{net}"]
            print(f"  {net}: {m.sum()} pairs, {d[f'y_{net}'][m].sum()} positives")
