"""Invariance of dependence: which links a perturbation cuts, read from the cells of each condition.

A perturbation of ``a`` that acts on its **activity** (an inhibitor, an activator) cuts ``a``'s out-links: its
children no longer read ``a``, while ``a``'s measured level still follows its parents. So within the condition's
cells the dependence of ``a`` with a child fades, with a parent it stays. A knock-down (acts on the **level**)
keeps ``a``'s level a fraction of what its parents set, so its dependence with its parents also stays (less
cleanly: the lower counts add noise), while its children, reading a low level, depend on it less. Both say
``a → b`` where the dependence of ``a`` with ``b`` fades and ``b → a`` where it stays, unlike a mean shift, which
feedback can move upstream of the perturbed variable.

For a perturbing condition ``L`` with targets ``a`` and every other variable ``b``: ``z0``, ``zL`` the Fisher
``z`` (arctanh) of the correlation of normal scores of ``a`` and ``b`` in the control cells and in ``L``'s cells;
where the controls' dependence is clear (``|z0| sqrt(n0 - 3) > gate``), the vote for ``a → b`` is the z statistic
of ``keep · |z0| - |zL|`` (positive: the dependence fell below ``keep`` of the controls'); ``keep`` depends on
what the condition acts on (:data:`KEEP`).
"""

from __future__ import annotations

import numpy as np

from .._interventions import Interventions
from ._network import normal_scores

#: Share of the controls' dependence below which a link counts as cut, by what the perturbation acts on (chosen on
#: simulated screens: knock-downs also weaken the dependence with the parents, so their threshold is lower).
KEEP = {"level": 0.5, "activity": 0.7}
#: Controls' dependence (Fisher z statistic) below which a pair gets no vote.
GATE = 6.0


def _abs_z(values: np.ndarray) -> np.ndarray:
    corr = np.corrcoef(normal_scores(values).T)
    return np.abs(np.arctanh(np.clip(np.nan_to_num(corr), -0.999999, 0.999999)))


def dependence_votes(
    values: np.ndarray, design: Interventions, *, gate: float = GATE, keep: dict | None = None
) -> np.ndarray:
    """Variables × variables: the evidence for ``a → b`` from ``a``'s perturbations (see the module docstring).

    Antisymmetric: ``votes[a, b] = v(a, b) - v(b, a)``, where ``v(a, b)`` is the vote of the condition perturbing
    ``a`` with the largest |vote| (0 where ``a`` is never perturbed or the controls' dependence is not clear).
    """
    keep = KEEP if keep is None else keep
    p_vars = values.shape[1]
    control = design.control_mask
    n0 = int(control.sum())
    z0 = _abs_z(values[control])
    clear = z0 * np.sqrt(max(n0 - 3, 1)) > gate
    vote = np.zeros((p_vars, p_vars))
    for label, targets in design.targets.items():
        cells = design.labels == label
        c = keep[design.kind(label)]
        se = np.sqrt(c**2 / max(n0 - 3, 1) + 1 / max(int(cells.sum()) - 3, 1))
        s = np.where(clear, (c * z0 - _abs_z(values[cells])) / se, 0.0)
        for a in targets:
            better = np.abs(s[a]) > np.abs(vote[a])
            vote[a] = np.where(better, s[a], vote[a])
    np.fill_diagonal(vote, 0.0)
    return vote - vote.T
