"""Linear models that allow cycles, learnt from interventions: benchmark peers of the interventional rankings.

**backShift** (Rothenhäusler, Heinze, Peters & Meinshausen, NeurIPS 2015), shift interventions with unknown targets.
Model: in environment ``j``, ``x = B x + c_j + e``, the noise ``e`` the same in every environment and the shift
``c_j`` with independent components (which variables it hits is not given). Then
``(I - B) ΔΣ_j (I - B)ᵀ = ΔΣ_{c,j}`` is diagonal for the difference ``ΔΣ_j`` of two environments' covariance (or
Gram) matrices, so ``I - B`` is a joint diagonaliser of the ``ΔΣ_j``: found here by FFDiag (Ziehe, Laskov, Nolte &
Müller, JMLR 2004), started at the identity, then its rows permuted (no self-loops: the diagonal as far from zero
as possible, by the assignment that minimises ``Σ 1 / |V_ii|``) and scaled to a unit diagonal; ``B = I - V``.
Stability selection (as in the paper): refit on random halves of each environment's cells and count how often
each ``B_ba`` is among the ``q`` largest ``|B|``. The ranking of ``a → b`` is that frequency, ties broken by
``|B_ba|`` of the fit on all cells.

**LLC** (Hyttinen, Eberhardt & Hoyer, JMLR 2012), in its mean-shift form: in a linear cyclic model
``x = B x + c_j + e`` where environment ``j`` shifts its known targets ``T_j``, the mean shift ``Δ_j = E_j x - E_0 x``
against the controls satisfies ``(I - B) Δ_j = δ_j`` with ``δ_j`` zero outside ``T_j``, so for every variable
``u`` not in ``T_j``: ``Δ_j[u] = Σ_k B_uk Δ_j[k]``, one linear equation per environment on row ``u`` of ``B``
(LLC's equations with "experimental effects" read from means). Solved row by row by least squares with a ridge
penalty (fewer environments than variables leave the rows underdetermined).
"""

from __future__ import annotations

import numpy as np
from scipy.optimize import linear_sum_assignment


def ffdiag(mats: np.ndarray, n_iter: int = 200, tol: float = 1e-9, theta: float = 0.9) -> np.ndarray:
    """A non-orthogonal joint diagonaliser ``V`` of the symmetric ``mats`` (k × p × p): ``V C_k Vᵀ`` near diagonal."""
    c = np.array(mats, dtype=np.float64)
    p = c.shape[1]
    v = np.eye(p)
    for _ in range(n_iter):
        d = np.einsum("kii->ki", c)  # k × p diagonals
        z = d.T @ d  # z_ij = Σ_k d_ki d_kj
        y = np.einsum("kj,kij->ij", d, c)  # y_ij = Σ_k d_kj C_k[i, j]
        det = np.outer(np.diag(z), np.diag(z)) - z**2
        det[np.abs(det) < 1e-300] = np.inf
        w = (z * y.T - np.diag(z)[:, None] * y) / det  # W_ij = (z_ij y_ji - z_ii y_ij) / (z_jj z_ii - z_ij^2)
        np.fill_diagonal(w, 0.0)
        norm = np.linalg.norm(w)
        if norm > theta:
            w *= theta / norm
        step = np.eye(p) + w
        v = step @ v
        c = step @ c @ step.T
        if norm < tol:
            break
    return v


def off_diagonality(mats: np.ndarray, v: np.ndarray) -> float:
    """Share of the squared mass of ``V C_k Vᵀ`` off the diagonal (0: jointly diagonal)."""
    c = v @ mats @ v.T
    total = (c**2).sum()
    return float((total - (np.einsum("kii->ki", c) ** 2).sum()) / max(total, 1e-300))


def connectivity(v: np.ndarray) -> np.ndarray:
    """``B = I - V`` after permuting ``V``'s rows to the diagonal farthest from zero and scaling it to one."""
    rows, cols = linear_sum_assignment(1.0 / np.maximum(np.abs(v), 1e-12))
    perm = np.empty_like(cols)
    perm[cols] = rows
    v = v[perm]
    v = v / np.diag(v)[:, None]
    return np.eye(len(v)) - v


def deltas(values: np.ndarray, env: np.ndarray, base: int | None, gram: bool) -> np.ndarray:
    """Differences of the environments' covariance (``gram``: second moments about the base's mean) matrices:
    each environment against ``base`` or, without a base, against the mean of all environments."""
    centre = values[env == base].mean(0) if base is not None else values.mean(0)
    mats = {}
    for e in np.unique(env):
        x = values[env == e]
        x = x - (centre if gram else x.mean(0))
        mats[e] = x.T @ x / len(x)
    ref = mats[base] if base is not None else np.mean(list(mats.values()), axis=0)
    return np.array([m - ref for e, m in mats.items() if e != base])


def backshift(values: np.ndarray, env: np.ndarray, base: int | None = None, gram: bool = False) -> np.ndarray:
    """The connectivity matrix ``B`` (``B[b, a]``: effect of ``a`` on ``b``) from cells × variables ``values`` and
    each cell's environment ``env`` (integers; ``base`` the reference environment, e.g. the controls)."""
    values = (values - values.mean(0)) / np.maximum(values.std(0), 1e-12)
    return connectivity(ffdiag(deltas(values, env, base, gram)))


def stability(
    values: np.ndarray,
    env: np.ndarray,
    base: int | None = None,
    gram: bool = False,
    q: int | None = None,
    n_sub: int = 50,
    seed: int = 0,
) -> tuple[np.ndarray, np.ndarray]:
    """Selection frequency of each ``B[b, a]`` among the ``q`` largest (default ``p``) over ``n_sub`` fits on
    random halves of each environment's cells, and ``B`` fitted on all cells."""
    rng = np.random.default_rng(seed)
    p = values.shape[1]
    q = p if q is None else q
    off = ~np.eye(p, dtype=bool)
    freq = np.zeros((p, p))
    groups = [np.flatnonzero(env == e) for e in np.unique(env)]
    for _ in range(n_sub):
        idx = np.concatenate([rng.choice(g, size=len(g) // 2, replace=False) for g in groups])
        b = np.abs(backshift(values[idx], env[idx], base, gram))
        b[~off] = -np.inf
        top = np.argsort(b, axis=None)[::-1][:q]
        freq.flat[top] += 1
    return freq / n_sub, backshift(values, env, base, gram)


def pair_scores(b: np.ndarray, freq: np.ndarray | None = None) -> np.ndarray:
    """Ordered-pair scores (``[a, b]`` for ``a → b``): ``|B[b, a]|``, or the selection frequency with ``|B|`` as
    tie-break; zero diagonal."""
    s = np.abs(b).T
    if freq is not None:
        s = freq.T + 1e-3 * s / max(s.max(), 1e-12)
    s = s.copy()
    np.fill_diagonal(s, 0.0)
    return s


def mean_shifts(values: np.ndarray, env: np.ndarray, base: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Each non-base environment's mean shift against ``base`` in units of the base's standard deviation, and the
    environments' labels (rows)."""
    ctrl = values[env == base]
    envs = np.array([e for e in np.unique(env) if e != base])
    shift = np.array([values[env == e].mean(0) - ctrl.mean(0) for e in envs])
    return shift / np.maximum(ctrl.std(0), 1e-12), envs


def llc(shift: np.ndarray, targets: list, ridge: float = 0.1) -> np.ndarray:
    """``B`` (``B[u, k]``: effect of ``k`` on ``u``) from the environments' mean shifts (rows of ``shift``) and the
    variables each environment targets (``targets[j]``, a list of column indices), row by row by ridge least
    squares on the environments that do not target ``u``."""
    n_env, p = shift.shape
    b = np.zeros((p, p))
    for u in range(p):
        rows = [j for j in range(n_env) if u not in targets[j]]
        if not rows:
            continue
        cols = np.flatnonzero(np.arange(p) != u)
        a, y = shift[np.ix_(rows, cols)], shift[rows, u]
        b[u, cols] = np.linalg.solve(a.T @ a + ridge * np.eye(len(cols)), a.T @ y)
    return b
