"""benchmarks/_cyclic.py: backShift and LLC recover a known linear cyclic model from its environments."""

from __future__ import annotations

import numpy as np
from benchmarks import _cyclic


def _cyclic_model(seed: int = 0, p: int = 6) -> np.ndarray:
    """``B[b, a]``: a directed cycle through every variable plus two chords, spectral radius below one."""
    rng = np.random.default_rng(seed)
    b = np.zeros((p, p))
    for i in range(p):
        b[(i + 1) % p, i] = rng.choice([-1, 1]) * rng.uniform(0.4, 0.8)
    b[3, 0], b[1, 4] = 0.6, -0.5
    assert np.abs(np.linalg.eigvals(b)).max() < 1
    return b


def _environments(b: np.ndarray, n: int = 3000, seed: int = 1, targeted: bool = False):
    """Cells of environment 0 (no shift) and one environment per shift: random variances on every variable
    (backShift's unknown targets) or, ``targeted``, a mean shift of one variable each (LLC's known targets)."""
    rng = np.random.default_rng(seed)
    p = len(b)
    inverse = np.linalg.inv(np.eye(p) - b)
    xs, env = [], []
    for j in range(p + 1):
        c = np.zeros((n, p))
        if j and targeted:
            c[:, j - 1] = 2.0
        elif j:
            c = rng.standard_normal((n, p)) * rng.uniform(0, 3, p)
        xs.append((c + rng.standard_normal((n, p))) @ inverse.T)
        env += [j] * n
    return np.vstack(xs), np.array(env)


def test_ffdiag_jointly_diagonalises():
    rng = np.random.default_rng(2)
    mix = np.eye(5) + 0.3 * rng.standard_normal((5, 5))
    mats = np.array([mix @ np.diag(rng.uniform(-2, 2, 5)) @ mix.T for _ in range(4)])
    assert _cyclic.off_diagonality(mats, np.eye(5)) > 0.05
    assert _cyclic.off_diagonality(mats, _cyclic.ffdiag(mats)) < 1e-8


def test_backshift_recovers_a_cyclic_model():
    b = _cyclic_model()
    values, env = _environments(b)
    sd = values.std(0)
    estimate = _cyclic.backshift(values, env, base=0) * sd[:, None] / sd[None, :]  # back from standardised units
    assert np.abs(estimate - b).max() < 0.15
    freq, _ = _cyclic.stability(values, env, base=0, q=int((b != 0).sum()), n_sub=10)
    assert (freq[b != 0] >= 0.9).all() and (freq[b == 0] <= 0.1).all()
    scores = _cyclic.pair_scores(b)
    assert scores[0, 1] == abs(b[1, 0]) and np.all(np.diag(scores) == 0)


def test_llc_recovers_a_cyclic_model_from_mean_shifts():
    b = _cyclic_model()
    values, env = _environments(b, targeted=True)
    shift, envs = _cyclic.mean_shifts(values, env)
    sd = values[env == 0].std(0)
    estimate = _cyclic.llc(shift, [[e - 1] for e in envs], ridge=1e-6) * sd[:, None] / sd[None, :]
    assert np.abs(estimate - b).max() < 0.1
