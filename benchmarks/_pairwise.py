"""Pairwise cause-effect baselines, implemented here from their papers (no causal-discovery package needed).

Every score follows one convention: ``score(x, y) > 0`` says x -> y, ``< 0`` says y -> x.
"""

from __future__ import annotations

import numpy as np
from scipy import stats


def _unit(v: np.ndarray) -> np.ndarray:
    v = np.asarray(v, dtype=np.float64)
    span = v.max() - v.min()
    return (v - v.min()) / span if span > 0 else np.zeros_like(v)


def _standard(v: np.ndarray) -> np.ndarray:
    v = np.asarray(v, dtype=np.float64)
    sd = v.std()
    return (v - v.mean()) / sd if sd > 0 else np.zeros_like(v)


def igci(x: np.ndarray, y: np.ndarray) -> float:
    """IGCI with the uniform reference measure and the slope estimator (Janzing et al., AI 2012).

    ``C(x->y) = mean log |dy / dx|`` over x-sorted neighbours with distinct values; x -> y if it is the smaller.
    """

    def slope(u, v):
        order = np.argsort(u, kind="stable")
        du, dv = np.diff(u[order]), np.diff(v[order])
        ok = (du != 0) & (dv != 0)
        return float(np.mean(np.log(np.abs(dv[ok] / du[ok])))) if ok.any() else 0.0

    x, y = _unit(x), _unit(y)
    return slope(y, x) - slope(x, y)


def _poly_mse(u: np.ndarray, v: np.ndarray, degree: int = 3) -> float:
    degree = min(degree, len(np.unique(u)) - 1)  # a discrete variable with few levels fits a lower degree
    if degree < 1:
        return float(np.var(v))
    coef = np.polynomial.polynomial.polyfit(u, v, degree)
    return float(np.mean((v - np.polynomial.polynomial.polyval(u, coef)) ** 2))


def reci(x: np.ndarray, y: np.ndarray, degree: int = 3) -> float:
    """RECI (Bloebaum et al., AISTATS 2018): min-max scale both, regress each on the other with a cubic polynomial.

    x -> y when the regression of y on x has the smaller mean squared error.
    """
    x, y = _unit(x), _unit(y)
    return _poly_mse(y, x, degree) - _poly_mse(x, y, degree)


def _rbf_gram(v: np.ndarray) -> np.ndarray:
    d2 = (v[:, None] - v[None, :]) ** 2
    med = np.median(d2[d2 > 0]) if np.any(d2 > 0) else 1.0
    return np.exp(-d2 / med)


def hsic(u: np.ndarray, v: np.ndarray) -> float:
    """Biased HSIC statistic with Gaussian kernels (median-distance bandwidth) (Gretton et al., 2005)."""
    n = len(u)
    k, l_ = _rbf_gram(u), _rbf_gram(v)
    kc = k - k.mean(0) - k.mean(1)[:, None] + k.mean()
    return float((kc * l_).sum() / n**2)


def _smooth_fit(u: np.ndarray, v: np.ndarray, n_bins: int = 20) -> np.ndarray:
    """Regression of v on u: a cubic smoothing of the mean of v in quantile bins of u, evaluated at u."""
    edges = np.unique(np.quantile(u, np.linspace(0, 1, n_bins + 1)))
    idx = np.clip(np.searchsorted(edges, u, side="right") - 1, 0, len(edges) - 2)
    count = np.bincount(idx, minlength=len(edges) - 1)
    full = count > 0
    centers = np.bincount(idx, weights=u, minlength=len(edges) - 1)[full] / count[full]
    means = np.bincount(idx, weights=v, minlength=len(edges) - 1)[full] / count[full]
    return np.interp(u, centers, means)


def anm(x: np.ndarray, y: np.ndarray, *, n: int = 500, seed: int = 0) -> float:
    """Additive noise model (Hoyer et al., NIPS 2008): regress each way, test residual independence with HSIC.

    Both variables are standardized; the regression is a binned-mean curve, independence is the HSIC of cause
    and residual on a random subsample of ``n`` points. x -> y when y | x leaves the more independent residual.
    """
    rng = np.random.default_rng(seed)
    pick = rng.choice(len(x), size=min(n, len(x)), replace=False)
    x, y = _standard(x), _standard(y)
    r_y = y - _smooth_fit(x, y)
    r_x = x - _smooth_fit(y, x)
    return hsic(y[pick], _standard(r_x)[pick]) - hsic(x[pick], _standard(r_y)[pick])


def lingam_pairwise(x: np.ndarray, y: np.ndarray, *, measure: str = "tanh") -> float:
    """Pairwise LiNGAM likelihood ratio (Hyvarinen & Smith, JMLR 2013) on standardized variables.

    ``measure="tanh"``: ``R = rho * E[x tanh(y) - tanh(x) y]`` (super-Gaussian sources, sign per the paper's
    robust form ``-(...)``); ``measure="skew"``: ``R = rho * E[x^2 y - x y^2]`` after making both skewed
    positively. x -> y when ``R > 0``.
    """
    x, y = _standard(x), _standard(y)
    rho = float(np.mean(x * y))
    if measure == "skew":
        x = x * np.sign(stats.skew(x) or 1.0)
        y = y * np.sign(stats.skew(y) or 1.0)
        return rho * float(np.mean(x**2 * y - x * y**2))
    if measure == "tanh":
        return -rho * float(np.mean(x * np.tanh(y) - np.tanh(x) * y))
    raise ValueError(f"measure must be 'tanh' or 'skew', got {measure!r}.")


def _code_length(v: np.ndarray) -> int:
    """Bytes of the bz2-compressed int16 sequence ``v``."""
    import bz2

    return len(bz2.compress(np.asarray(v, dtype=np.int16).tobytes(), 9))


def _quantise(v: np.ndarray, levels: int = 256) -> np.ndarray:
    v = _unit(v)
    return np.minimum((v * levels).astype(np.int64), levels - 1)


def compression(x: np.ndarray, y: np.ndarray) -> float:
    """A parameter-free compression baseline: bz2 of sorted, quantised, differenced data (an MDL-style two-part code).

    Each variable is quantised to 256 levels over its range. The cost of ``x -> y`` is the compressed length of
    the differences of the sorted ``x`` (its distribution) plus that of the differences of ``y`` read in the order
    of ``x`` (a mechanism that makes ``y`` a smooth function of ``x`` leaves small, regular differences); x -> y
    when that costs fewer bytes than ``y -> x``.
    """
    qx, qy = _quantise(x), _quantise(y)

    def cost(c: np.ndarray, e: np.ndarray) -> int:
        order = np.lexsort((e, c))
        return _code_length(np.diff(c[order])) + _code_length(np.diff(e[order]))

    return float(cost(qy, qx) - cost(qx, qy))
