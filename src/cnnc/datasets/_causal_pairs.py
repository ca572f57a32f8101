from __future__ import annotations

import numpy as np
import pandas as pd
from anndata import AnnData
from scanpy import logging as logg
from scipy.interpolate import PchipInterpolator

from .._validate import as_integer, as_number, as_seed

CAUSES = ("gaussian", "uniform", "mixture", "skewed", "heavy-tailed", "discrete")
FUNCTIONS = ("linear", "monotone", "saturating", "non-monotone", "threshold")
NOISES = ("additive", "multiplicative", "heteroscedastic", "post-nonlinear", "poisson")
NONE_KINDS = ("independent", "confounded")
LABELS = ("none", "a->b", "b->a")


def _draw_cause(rng: np.random.Generator, kind: str, n: int) -> np.ndarray:
    """``n`` values of a cause (or of a hidden confounder) of distribution family ``kind``."""
    if kind == "gaussian":
        return rng.standard_normal(n)
    if kind == "uniform":
        return rng.uniform(-1.7, 1.7, n)
    if kind == "mixture":
        k = int(rng.integers(2, 6))
        means = rng.normal(0, 2, k)
        sds = rng.uniform(0.2, 1.0, k)
        comp = rng.choice(k, size=n, p=rng.dirichlet(np.ones(k)))
        return rng.normal(means[comp], sds[comp])
    if kind == "skewed":
        return rng.lognormal(0, rng.uniform(0.3, 1.0), n) if rng.random() < 0.5 else rng.gamma(rng.uniform(1, 4), 1, n)
    if kind == "heavy-tailed":
        return rng.standard_t(rng.uniform(2.5, 6), n)
    if kind == "discrete":
        levels = int(rng.integers(2, 11))
        return rng.choice(levels, size=n, p=rng.dirichlet(np.ones(levels) * 2)).astype(np.float64)
    raise ValueError(kind)


def _standardize(v: np.ndarray) -> np.ndarray:
    sd = v.std()
    return (v - v.mean()) / (sd if sd > 0 else 1.0)


def _random_function(rng: np.random.Generator, kind: str, x: np.ndarray):
    """A random function of family ``kind`` defined over the (standardized) range of ``x``."""
    lo, hi = np.quantile(x, [0.0, 1.0])
    if hi <= lo:
        hi = lo + 1.0
    sign = 1.0 if rng.random() < 0.5 else -1.0
    if kind == "linear":
        return lambda v: sign * v
    if kind == "monotone":  # a random increasing spline (positive increments between random knots)
        knots = np.linspace(lo, hi, int(rng.integers(4, 9)))
        values = np.concatenate([[0.0], np.cumsum(rng.gamma(0.7, 1.0, len(knots) - 1))])
        spline = PchipInterpolator(knots, sign * values, extrapolate=True)
        return spline
    if kind == "saturating":  # Hill / Michaelis-Menten kinetics on a shifted cause
        k = rng.uniform(0.2, 2.0)
        h = rng.uniform(1, 4)
        return lambda v: sign * (np.clip(v - lo, 0, None) ** h) / (k**h + np.clip(v - lo, 0, None) ** h)
    if kind == "non-monotone":  # a random smooth curve through random knots
        knots = np.linspace(lo, hi, int(rng.integers(3, 7)))
        spline = PchipInterpolator(knots, rng.standard_normal(len(knots)), extrapolate=True)
        return spline
    if kind == "threshold":
        t = rng.uniform(*np.quantile(x, [0.2, 0.8]))
        steep = rng.uniform(3, 20)
        return lambda v: sign / (1 + np.exp(np.clip(-(v - t) * steep, -50, 50)))
    raise ValueError(kind)


def _effect(rng: np.random.Generator, x: np.ndarray, function: str, noise: str) -> np.ndarray:
    """The effect of cause ``x`` through a random function of family ``function`` and noise model ``noise``."""
    xs = _standardize(x)
    f = _standardize(_random_function(rng, function, xs)(xs))
    if not np.isfinite(f).all() or f.std() == 0:
        f = _standardize(xs)
    n = len(x)
    scale = rng.uniform(0.1, 1.0)  # noise sd relative to the signal's
    eps = [rng.standard_normal, lambda m: rng.uniform(-1.7, 1.7, m), lambda m: rng.laplace(0, 0.7, m)][
        int(rng.integers(3))
    ](n)
    if noise == "additive":
        return f + scale * eps
    if noise == "multiplicative":
        return np.exp(0.5 * f) * np.exp(scale * eps)
    if noise == "heteroscedastic":
        sd = _random_function(rng, "non-monotone", xs)(xs)
        sd = 0.2 + np.abs(sd) / (np.abs(sd).max() + 1e-12)
        return f + scale * sd * eps
    if noise == "post-nonlinear":
        g = _random_function(rng, "monotone", f + scale * eps)
        return g(f + scale * eps)
    if noise == "poisson":
        rate = np.exp(rng.uniform(0.5, 3.0) + 0.8 * f)
        return rng.poisson(np.minimum(rate, 1e6)).astype(np.float64)
    raise ValueError(noise)


def _regimes(rng: np.random.Generator, n: int) -> tuple[np.ndarray, int]:
    """The perturbation regime of each cell (regime 0 unperturbed) and the number of regimes."""
    k = int(rng.integers(2, 9))
    return rng.choice(k, size=n, p=rng.dirichlet(np.ones(k) * 2)), k


def _perturb(rng: np.random.Generator, v: np.ndarray, cells: np.ndarray) -> np.ndarray:
    """Intervene on the (standardized) variable ``v`` in ``cells``: a shift, or new values (a hard intervention)."""
    v = v.copy()
    if not cells.any():  # a regime without cells
        return v
    if rng.random() < 0.5:
        v[cells] += rng.normal(0, 1.5)
    else:
        new = _standardize(_draw_cause(rng, CAUSES[int(rng.integers(len(CAUSES)))], int(cells.sum())))
        v[cells] = rng.normal(0, 1.5) + rng.uniform(0.1, 1.0) * new
    return v


def _readout(rng: np.random.Generator, v: np.ndarray) -> np.ndarray:
    """A cytometer-like measurement of the (standardized) level ``v``: positive intensity, noise, floor, grid.

    The intensity is ``exp(mu + s * v)`` times log-normal measurement noise of its own (so a cause is measured with
    error, as its effect is); intensities below a detection floor read as the floor (ties at the bottom, as the 1-9%
    of cells at the minimum in Sachs et al.), and values are rounded to a grid (a few hundred distinct values).
    """
    level = rng.uniform(1.0, 4.0) + rng.uniform(0.5, 1.5) * _standardize(v)
    noisy = np.exp(np.clip(level + rng.uniform(0.05, 0.5) * rng.standard_normal(len(v)), -30, 30))
    floor = np.quantile(noisy, rng.uniform(0.0, 0.1))
    step = rng.uniform(0.05, 0.5)
    return np.maximum(np.round(np.maximum(noisy, floor) / step), 1.0) * step


def _one_pair(
    rng: np.random.Generator, n: int, label: str, p_interventions: float, inhibition: float = 0.0, readout: float = 0.0
) -> tuple[np.ndarray, dict]:
    """Values ``(n, 2)`` of a pair (cause first when causal) and its description."""
    xy, info = _latent_pair(rng, n, label, p_interventions, inhibition)
    measured = readout > 0 and rng.random() < readout
    if measured:
        xy = np.column_stack([_readout(rng, xy[:, 0]), _readout(rng, xy[:, 1])])
    info["readout"] = measured
    return xy, info


def _latent_pair(
    rng: np.random.Generator, n: int, label: str, p_interventions: float, inhibition: float
) -> tuple[np.ndarray, dict]:
    """Values ``(n, 2)`` of a pair as the cells hold them (cause first when causal) and its description."""
    perturbed = rng.random() < p_interventions
    regime, k = _regimes(rng, n) if perturbed else (np.zeros(n, dtype=np.int64), 1)
    # which variable each regime acts on: 0 the cause (or the confounder), 1 the effect (or one of the two)
    target = rng.integers(0, 2, k)
    if label == "none":
        kind = NONE_KINDS[int(rng.integers(2))]
        info = {"mechanism": kind, "cause": "", "noise": "", "interventions": perturbed}
        if kind == "independent":
            x = _standardize(_draw_cause(rng, CAUSES[int(rng.integers(len(CAUSES)))], n))
            y = _standardize(_draw_cause(rng, CAUSES[int(rng.integers(len(CAUSES)))], n))
            other = rng.permutation(regime)  # each variable perturbed in its own cells: still independent
            for r in range(1, k):
                x = _perturb(rng, x, regime == r)
                y = _perturb(rng, y, other == r)
            return np.column_stack([x, y]), info
        cause = CAUSES[int(rng.integers(len(CAUSES)))]
        z = _standardize(_draw_cause(rng, cause, n))
        for r in range(1, k):
            if target[r] == 0:  # the hidden confounder is perturbed: both move together
                z = _perturb(rng, z, regime == r)
        functions = rng.choice(FUNCTIONS, 2)
        noises = rng.choice(NOISES, 2)
        x = _standardize(_effect(rng, z, functions[0], noises[0]))
        y = _standardize(_effect(rng, z, functions[1], noises[1]))
        for r in range(1, k):
            if target[r] == 1:  # one of the two is perturbed on its own
                if rng.random() < 0.5:
                    x = _perturb(rng, x, regime == r)
                else:
                    y = _perturb(rng, y, regime == r)
        info.update(cause=cause, noise="/".join(noises), mechanism=f"confounded ({'/'.join(functions)})")
        return np.column_stack([x, y]), info
    cause = CAUSES[int(rng.integers(len(CAUSES)))]
    function = FUNCTIONS[int(rng.integers(len(FUNCTIONS)))]
    noise = NOISES[int(rng.integers(len(NOISES)))]
    x = _draw_cause(rng, cause, n)
    active = x  # the cause's activity, which drives the effect (its measured level, unless inhibited)
    if perturbed:
        x = _standardize(x)
        active = x.copy()
        for r in range(1, k):
            if target[r] != 0:
                continue
            cells = regime == r
            if inhibition > 0 and rng.random() < inhibition and cells.any():
                # an inhibitor of the cause's activity: the effect sees a low activity while the measured
                # level of the cause moves on its own (e.g. feedback raises a kinase's phosphorylation)
                active[cells] = np.quantile(x, rng.uniform(0.0, 0.2)) + 0.1 * rng.standard_normal(int(cells.sum()))
                x = _perturb(rng, x, cells)
            else:  # the cause is perturbed: the effect follows through the mechanism
                x = _perturb(rng, x, cells)
                active[cells] = x[cells]
    y = _effect(rng, active, function, noise)
    if perturbed:
        y = _standardize(y)
        for r in range(1, k):
            if target[r] == 1:  # the effect is perturbed: the cause does not move
                y = _perturb(rng, y, regime == r)
    info = {"mechanism": function, "cause": cause, "noise": noise, "interventions": perturbed}
    return np.column_stack([x, y]), info


GENERATORS = ("cells", "varied", "rcc")
#: Families of the varied generator: each component of a cause, each mechanism, each noise
VARIED_COMPONENTS = ("gaussian", "uniform", "laplace", "student-t", "lognormal", "gamma", "beta")
VARIED_MECHANISMS = ("linear", "spline", "monotone spline", "gaussian process", "monotone gaussian process")
VARIED_NOISES = ("additive", "multiplicative", "heteroscedastic", "post-nonlinear")


def _component(rng: np.random.Generator, kind: str, n: int) -> np.ndarray:
    """``n`` draws of one component of a cause: a random family, heavy-tailed and skewed ones included."""
    if kind == "gaussian":
        return rng.standard_normal(n)
    if kind == "uniform":
        return rng.uniform(-1.7, 1.7, n)
    if kind == "laplace":
        return rng.laplace(0, 0.7, n)
    if kind == "student-t":
        return rng.standard_t(rng.uniform(1.5, 5), n) * 0.6
    if kind == "lognormal":
        return rng.lognormal(0, rng.uniform(0.3, 1.2), n) * (1 if rng.random() < 0.5 else -1)
    if kind == "gamma":
        return rng.gamma(rng.uniform(0.5, 5), 1, n)
    if kind == "beta":
        return rng.beta(rng.uniform(0.3, 3), rng.uniform(0.3, 3), n) * 3
    raise ValueError(kind)


def _varied_cause(rng: np.random.Generator, n: int) -> np.ndarray:
    """A mixture of 1-5 components of random families, weights, locations and scales."""
    k = int(rng.choice([1, 1, 2, 3, 4, 5]))
    comp = rng.choice(k, size=n, p=rng.dirichlet(np.ones(k)))
    out = np.empty(n)
    for c in range(k):
        cells = comp == c
        kind = VARIED_COMPONENTS[int(rng.integers(len(VARIED_COMPONENTS)))]
        out[cells] = rng.normal(0, 2) + rng.lognormal(0, 0.5) * _component(rng, kind, int(cells.sum()))
    return out


def _curve(rng: np.random.Generator, kind: str) -> tuple[np.ndarray, np.ndarray]:
    """Knots ``t`` in [0, 1] and values of a random curve of family ``kind`` (spline or Gaussian-process draw)."""
    if kind in ("gaussian process", "monotone gaussian process"):
        t = np.linspace(0, 1, 40)
        scale = rng.uniform(0.1, 1.0)
        cov = np.exp(-0.5 * (t[:, None] - t[None]) ** 2 / scale**2) + 1e-8 * np.eye(len(t))
        v = np.linalg.cholesky(cov) @ rng.standard_normal(len(t))
        if kind.startswith("monotone"):
            v = np.concatenate([[0.0], np.cumsum(np.exp(v[1:]))])
        return t, v
    t = np.sort(np.concatenate([[0.0, 1.0], rng.uniform(0, 1, int(rng.integers(2, 7)))]))
    if kind == "monotone spline":
        return t, np.concatenate([[0.0], np.cumsum(rng.gamma(0.7, 1.0, len(t) - 1))])
    return t, rng.standard_normal(len(t))


def _mechanism(rng: np.random.Generator, kind: str, x: np.ndarray) -> np.ndarray:
    """A random function of family ``kind`` (``VARIED_MECHANISMS``) of ``x``, standardized."""
    if kind == "linear":
        return _standardize(x)
    lo, hi = np.quantile(x, [0.0, 1.0])
    t, v = _curve(rng, kind)
    f = PchipInterpolator(lo + t * max(hi - lo, 1e-12), v, extrapolate=True)(x)
    f = f if np.isfinite(f).all() and f.std() > 0 else x
    return _standardize(f) * (1 if rng.random() < 0.5 else -1)


def _varied_noise(rng: np.random.Generator, n: int) -> np.ndarray:
    """Noise of a random family (Gaussian, uniform, Laplace, Student t or a two-component mixture), standardized."""
    kind = int(rng.integers(5))
    if kind == 4:
        return _standardize(_varied_cause(rng, n))
    return _standardize(_component(rng, ("gaussian", "uniform", "laplace", "student-t")[kind], n))


def _varied_effect(rng: np.random.Generator, x: np.ndarray, mechanism: str, noise: str) -> np.ndarray:
    """The effect of ``x`` through a random mechanism and noise model (``VARIED_NOISES``)."""
    f = _mechanism(rng, mechanism, x)
    scale = float(np.exp(rng.uniform(np.log(0.05), np.log(1.2))))
    eps = _varied_noise(rng, len(x))
    if noise == "additive":
        return f + scale * eps
    if noise == "multiplicative":
        return np.exp(rng.uniform(0.2, 1.0) * f) * np.exp(scale * eps)
    if noise == "heteroscedastic":
        t, v = _curve(rng, "gaussian process")
        lo, hi = x.min(), max(x.max(), x.min() + 1e-12)
        sd = np.exp(0.7 * np.interp((x - lo) / (hi - lo), t, v))
        return f + scale * sd / sd.mean() * eps
    if noise == "post-nonlinear":
        return _mechanism(rng, "monotone spline", f + scale * eps)
    raise ValueError(noise)


def _measured(rng: np.random.Generator, v: np.ndarray) -> np.ndarray:
    """A variable as a measurement may give it: sometimes rounded (ties), discretised, or with a few outliers."""
    v = _standardize(v) * rng.lognormal(0, 1) + rng.normal(0, 3)
    u = rng.random()
    if u < 0.1:  # a few levels (a discretised or ordinal variable)
        edges = np.quantile(v, np.sort(rng.uniform(0, 1, int(rng.integers(2, 12)))))
        v = np.searchsorted(edges, v).astype(np.float64)
    elif u < 0.3:  # rounded to a grid: ties
        v = np.round(v / (v.std() * rng.uniform(0.01, 0.3) + 1e-12))
    if rng.random() < 0.15:  # outliers
        k = max(1, int(len(v) * rng.uniform(0.001, 0.02)))
        cells = rng.choice(len(v), k, replace=False)
        v[cells] = v.mean() + v.std() * rng.choice([-1, 1], k) * rng.uniform(3, 10, k)
    return v


def _varied_pair(rng: np.random.Generator, n: int, label: str) -> tuple[np.ndarray, dict]:
    """Values ``(n, 2)`` of a pair of the varied generator (cause first when causal) and its description."""
    mechanisms = rng.choice(VARIED_MECHANISMS, 2)
    noises = rng.choice(VARIED_NOISES, 2)
    info = {"mechanism": str(mechanisms[0]), "cause": "mixture", "noise": str(noises[0]), "interventions": False}
    if label == "none":
        z = _varied_cause(rng, n)
        if rng.random() < 0.5:
            x, y = z, _varied_cause(rng, n)
            info.update(mechanism="independent", noise="")
        else:
            x = _varied_effect(rng, z, mechanisms[0], noises[0])
            y = _varied_effect(rng, z, mechanisms[1], noises[1])
            info.update(mechanism=f"confounded ({'/'.join(mechanisms)})", noise="/".join(noises))
    else:
        x = _varied_cause(rng, n)
        y = _varied_effect(rng, x, mechanisms[0], noises[0])
    info["readout"] = False
    return np.column_stack([_measured(rng, x), _measured(rng, y)]), info


def _gmm(rng: np.random.Generator, n: int) -> np.ndarray:
    """RCC's cause: a Gaussian mixture of 1-5 components, means N(0, r^2), sds |N(0, s^2)|, r and s U(0, 5)."""
    k = int(rng.integers(1, 6))
    r, s = rng.uniform(0, 5, 2)
    means, sds = rng.normal(0, r, k), np.abs(rng.normal(0, s, k)) + 1e-3
    comp = rng.choice(k, size=n, p=rng.dirichlet(np.ones(k)))
    return _standardize(rng.normal(means[comp], sds[comp]))


def _cubic_spline(rng: np.random.Generator, x: np.ndarray, values) -> np.ndarray:
    """A cubic spline through 4-5 random knots over ``[min(x) - sd, max(x) + sd]``, knot values drawn by ``values``."""
    from scipy.interpolate import CubicSpline

    d = int(rng.integers(4, 6))
    knots = np.sort(rng.uniform(x.min() - x.std(), x.max() + x.std(), d))
    knots = knots + np.arange(d) * 1e-6  # strictly increasing
    return CubicSpline(knots, values(d))(x)


def _rcc_effect(rng: np.random.Generator, x: np.ndarray) -> np.ndarray:
    """RCC's mechanism: ``f(x) + s(x) * e``, ``f`` a random cubic spline, ``s`` a positive one, ``e`` ~ N(0, v)."""
    f = _standardize(_cubic_spline(rng, x, lambda d: rng.standard_normal(d)))
    sd = np.abs(_cubic_spline(rng, x, lambda d: rng.uniform(0, 5, d)))
    sd = sd / (sd.mean() + 1e-12)
    eps = rng.normal(0, np.sqrt(rng.uniform(0, 5)), len(x)) * rng.uniform(0.05, 0.6)
    return _standardize(f + sd * eps)


def _rcc_pair(rng: np.random.Generator, n: int, label: str) -> tuple[np.ndarray, dict]:
    """Values ``(n, 2)`` of a pair of the RCC-style generator (cause first when causal) and its description."""
    info = {"mechanism": "spline", "cause": "mixture", "noise": "heteroscedastic", "interventions": False}
    if label == "none":
        if rng.random() < 0.5:
            x, y = _gmm(rng, n), _gmm(rng, n)
            info.update(mechanism="independent", noise="")
        else:
            z = _gmm(rng, n)
            x, y = _rcc_effect(rng, z), _rcc_effect(rng, z)
            info.update(mechanism="confounded (spline/spline)")
    else:
        x = _gmm(rng, n)
        y = _rcc_effect(rng, x)
    info["readout"] = False
    if rng.random() < 0.3:  # ties, discretised levels, outliers and units, as real measurements have them
        x, y = _measured(rng, x), _measured(rng, y)
    return np.column_stack([x, y]), info


def causal_pairs(
    n_pairs: int = 1000,
    *,
    n_cells: int = 1000,
    seed: int = 0,
    p_none: float = 1 / 3,
    p_interventions: float | None = None,
    inhibition: float = 0.0,
    readout: float = 0.0,
    generator: str = "cells",
) -> AnnData:
    """Synthetic cause → effect pairs of many mechanisms, with their true direction.

    Each pair is two variables measured over the same ``n_cells`` samples: either a cause and its effect (in a
    random order, so ``a->b`` and ``b->a`` are equally frequent) or two variables with no causal link ("none").
    Pairs are independent of each other (a row of the AnnData is a sample of every pair, not one cell seen by
    all variables). ``cnnc-causal`` is trained on pairs of both generators, in the spirit of RCC (Lopez-Paz et
    al., ICML 2015) and NCC (Lopez-Paz et al., CVPR 2017).

    ``generator="varied"``: pairs as varied as real measurements. A cause is a mixture of 1-5 components of
    random families (``VARIED_COMPONENTS``: Gaussian, uniform, Laplace, Student t with 1.5-5 degrees of freedom,
    log-normal, gamma, beta), weights, locations and scales; a mechanism is linear, a random spline or a draw of a
    Gaussian process (random length scale), monotone or not (``VARIED_MECHANISMS``), with a random sign; the
    noise (Gaussian, uniform, Laplace, Student t or a mixture, 0.05-1.2 times the signal's sd) is additive,
    multiplicative, heteroscedastic (its sd a Gaussian-process draw over the cause) or inside a random monotone
    function (post-nonlinear) (``VARIED_NOISES``). Each variable is then measured in its own units (random
    scale and offset); 10% are discretised to 2-12 levels, 20% rounded to a grid (ties), 15% get 0.1-2% outliers
    at 3-10 sd. "none" pairs: two independent mixtures, or two effects of a hidden mixture. The options
    ``p_interventions``, ``inhibition`` and ``readout`` belong to the ``"cells"`` generator.

    ``generator="rcc"``: the generator of RCC (Lopez-Paz et al. 2015) with its own settings. A cause is a Gaussian
    mixture of 1-5 components (means N(0, r²), sds the absolute values of N(0, s²), r and s uniform on 0-5, Dirichlet weights),
    standardized; the effect is ``f(x) + s(x) e``, ``f`` a cubic spline through 4-5 random knots over
    ``[min(x) - sd, max(x) + sd]`` with N(0, 1) values, ``s`` the absolute value of another with U(0, 5) values
    (heteroscedastic noise), ``e`` Gaussian of random variance (0.05-0.6 times U(0, 5)^½), standardized. 30% of
    the pairs are then measured as in the varied generator (units, ties, levels, outliers). "none" pairs: two
    independent mixtures, or two effects of a hidden mixture.

    ``generator="cells"`` (the default) describes single cells pooled over perturbations. Causal pairs: ``effect = mechanism(cause)`` with

    - a cause of one of ``CAUSES``: Gaussian, uniform, Gaussian mixture (2-5 modes), skewed (log-normal or
      gamma), heavy-tailed (Student t) or discrete (2-10 levels);
    - a function of one of ``FUNCTIONS``: linear, monotone (a random increasing spline), saturating (Hill
      kinetics), non-monotone (a random smooth curve) or threshold (a steep sigmoid); random sign;
    - a noise model of one of ``NOISES``: additive, multiplicative (log-normal), heteroscedastic (the noise sd a
      random function of the cause), post-nonlinear (a random monotone function of ``f(cause) + noise``) or
      Poisson counts with a rate ``exp(f(cause))``; the noise is Gaussian, uniform or Laplace with a random
      scale of 0.1-1 times the signal's.

    "none" pairs: two independent variables, or two effects of a hidden confounder (each with its own random
    function and noise): dependent but not causally linked.

    With probability ``p_interventions`` a pair is a pool of 2-8 perturbation regimes (as single-cell data
    pooled over treatments, e.g. activators and inhibitors): regime 0 is unperturbed; in each other regime one
    variable is intervened on, by a shift or by new values drawn from a random family (a hard intervention).
    When the cause is intervened on, its effect follows through the mechanism; when the effect is, the cause
    does not move. For confounded pairs the confounder or one of the two variables is intervened on; for
    independent pairs each variable in its own cells. With probability ``inhibition`` an intervention on a cause
    is an inhibitor of its activity (as kinase inhibitors act): the effect then sees a low activity of the cause
    while the cause's measured level is shifted or redrawn on its own.

    With probability ``readout`` both variables of a pair are read as a flow cytometer would: positive intensities
    ``exp(mu + s * level)`` with log-normal measurement noise of their own (the cause too is measured with error),
    a detection floor (the lowest 0-10% of the cells read as the same value) and rounding to a grid (ties).

    Parameters
    ----------
    n_pairs
        Number of pairs.
    n_cells
        Samples of each pair.
    seed
        Seed of :func:`numpy.random.default_rng`: the same seed gives the same pairs.
    p_none
        Fraction of pairs without a causal link (half independent, half confounded).
    p_interventions
        Fraction of pairs pooled over perturbation regimes.
    inhibition
        Fraction of the interventions on a cause that inhibit its activity rather than move it.
    readout
        Fraction of the pairs measured through a cytometer-like readout (noise, floor and rounding on both).
    generator
        ``"cells"`` (cells pooled over perturbation regimes, the options above; ``p_interventions`` defaults to
        0.3), ``"varied"`` (mixtures, splines, Gaussian processes, four noise models, ties and outliers) or
        ``"rcc"`` (Gaussian mixtures, cubic splines, heteroscedastic Gaussian noise, as RCC's generator).

    Returns
    -------
    Samples × ``2 * n_pairs`` float32 AnnData; variables ``pair00000_a``, ``pair00000_b``, ... with

    - ``var["pair"]``: the pair of each variable.
    - ``uns["pairs"]``: DataFrame with one row per pair: ``gene_a``, ``gene_b`` (the variable names), ``label``
      (``"none"``, ``"a->b"`` or ``"b->a"``), ``mechanism`` (the function family, ``"independent"`` or
      ``"confounded (...)"``), ``cause`` (distribution family), ``noise``, ``interventions``, ``readout``.
    - ``uns["ground_truth"]``: the causal pairs as ``regulator`` (cause), ``target`` (effect).
    - ``uns["dataset"]``: ``source``, ``name``, ``species`` ("synthetic"), ``seed``.

    Examples
    --------
    >>> import cnnc
    >>> adata = cnnc.datasets.causal_pairs(6, n_cells=500, seed=1)
    >>> adata.shape
    (500, 12)
    >>> adata.uns["pairs"]["label"].isin(["none", "a->b", "b->a"]).all()
    np.True_
    """
    n_pairs = as_integer(n_pairs, "n_pairs", low=1, example=1000)
    n_cells = as_integer(n_cells, "n_cells", low=10, example=1000)
    seed = as_seed(seed)
    if generator not in GENERATORS:
        raise ValueError(f"generator must be one of {GENERATORS}, got {generator!r}.")
    if generator != "cells" and (p_interventions is not None or inhibition != 0 or readout != 0):
        msg = (
            "p_interventions, inhibition and readout are options of the 'cells' generator; the 'varied' generator "
            "has no perturbation regimes or cytometer readout: leave them at their defaults."
        )
        raise ValueError(msg)
    p_interventions = 0.3 if p_interventions is None else p_interventions
    p_none, p_interventions, inhibition, readout = (
        as_number(value, name, low=0, high=1, example=0.3)
        for name, value in (
            ("p_none", p_none),
            ("p_interventions", p_interventions),
            ("inhibition", inhibition),
            ("readout", readout),
        )
    )
    n_pairs, n_cells = int(n_pairs), int(n_cells)
    start = logg.info(f"generating {n_pairs:,} synthetic cause-effect pairs of {n_cells:,} samples")
    rng = np.random.default_rng(seed)
    values = np.empty((n_cells, 2 * n_pairs), dtype=np.float32)
    rows = []
    for i in range(n_pairs):
        label = "none" if rng.random() < p_none else ("a->b" if rng.random() < 0.5 else "b->a")
        if generator == "varied":
            xy, info = _varied_pair(rng, n_cells, label)
        elif generator == "rcc":
            xy, info = _rcc_pair(rng, n_cells, label)
        else:
            xy, info = _one_pair(rng, n_cells, label, p_interventions, inhibition, readout)
        if label == "b->a":
            xy = xy[:, ::-1]
        if label == "none" and rng.random() < 0.5:
            xy = xy[:, ::-1]
        xy = np.where(np.isfinite(xy), xy, 0.0)
        values[:, 2 * i : 2 * i + 2] = xy
        rows.append({"gene_a": f"pair{i:05d}_a", "gene_b": f"pair{i:05d}_b", "label": label, **info})
    pairs = pd.DataFrame(rows)
    pairs.index = pairs.index.astype(str)
    names = pairs[["gene_a", "gene_b"]].to_numpy().ravel()
    adata = AnnData(
        X=values,
        obs=pd.DataFrame(index=pd.RangeIndex(n_cells).astype(str)),
        var=pd.DataFrame({"pair": np.repeat(np.arange(n_pairs), 2)}, index=pd.Index(names, dtype=str)),
    )
    causal = pairs[pairs["label"] != "none"]
    forward = causal["label"] == "a->b"
    adata.uns["pairs"] = pairs
    adata.uns["ground_truth"] = pd.DataFrame(
        {
            "regulator": np.where(forward, causal["gene_a"], causal["gene_b"]),
            "target": np.where(forward, causal["gene_b"], causal["gene_a"]),
        }
    )
    adata.uns["dataset"] = {"source": "cnnc.datasets.causal_pairs", "name": "causal pairs", "species": "synthetic"}
    adata.uns["dataset"]["seed"] = int(seed)
    adata.uns["dataset"]["generator"] = generator
    logg.info("    finished", time=start, deep=f"{len(causal):,} causal and {n_pairs - len(causal):,} unlinked pairs")
    return adata
