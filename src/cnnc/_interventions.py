"""Which cells are perturbed, and which variable each perturbation hits: one reader for every entry point.

``interventions=`` (an obs column of condition labels), ``control=`` (the label or labels of unperturbed cells)
and ``intervention_targets=`` (label → perturbed variable(s), ``None`` for an observational condition) are read
and checked here, before anything is computed or written, for :func:`cnnc.tl.causal_network`,
:func:`cnnc.tl.causal_scores`, :func:`cnnc.tl.predict_interactions` and the command line.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from anndata import AnnData

#: Fewest cells of a condition (and of the controls) whose shift of a variable's distribution is tested.
MIN_CONDITION_CELLS = 20
#: What a perturbation acts on: the target's measured level (knock-down, CRISPRi, the default) or its activity
#: (an inhibitor or activator: what the target's targets read, its own measured level free to follow its parents).
ACTS_ON = ("level", "activity")


@dataclass(frozen=True)
class Interventions:
    """The perturbation design of the cells, checked against the variables scored.

    ``labels``: each cell's condition; ``control``: the control labels; ``targets``: condition → indices (into the
    scored variables) of the variables it perturbs, for every perturbing condition (observational conditions other
    than the controls are absent); ``column``: the obs column read; ``acts_on``: condition → ``"level"`` or
    ``"activity"`` (:data:`ACTS_ON`) for every perturbing condition.
    """

    labels: np.ndarray
    control: tuple[str, ...]
    targets: dict[str, tuple[int, ...]] = field(default_factory=dict)
    column: str = ""
    acts_on: dict[str, str] = field(default_factory=dict)

    def kind(self, label: str) -> str:
        """What the condition ``label`` acts on (``"level"`` unless given)."""
        return self.acts_on.get(label, "level")

    @property
    def control_mask(self) -> np.ndarray:
        """Cells of the control conditions."""
        return np.isin(self.labels, self.control)

    def perturbed(self) -> np.ndarray:
        """Indices of the variables perturbed in at least one condition."""
        return np.unique([i for t in self.targets.values() for i in t]).astype(int)

    def params(self, names: np.ndarray) -> dict:
        """The design as plain values, for ``uns[key]["params"]``."""
        return {
            "interventions": self.column,
            "control": list(self.control),
            "intervention_targets": {k: [str(names[i]) for i in v] for k, v in self.targets.items()},
            "acts_on": {k: self.kind(k) for k in self.targets},
        }


def _labels(adata: AnnData, column) -> np.ndarray:
    if not isinstance(column, str):
        raise TypeError(f"interventions must be the name of an obs column of condition labels, got {column!r}.")
    if column not in adata.obs.columns:
        raise KeyError(
            f"interventions={column!r} is not a column of adata.obs (columns: {list(adata.obs.columns)[:10]}); "
            "add each cell's condition or guide label there."
        )
    series = adata.obs[column]
    if pd.api.types.is_numeric_dtype(series) or pd.api.types.is_bool_dtype(series):
        raise TypeError(
            f"adata.obs[{column!r}] holds numbers ({series.dtype}), not condition labels: guide or condition names "
            f"are strings. If the numbers are codes, map them to names first, e.g. "
            f"adata.obs[{column!r}] = adata.obs[{column!r}].map({{0: 'non-targeting', 1: 'GATA1', ...}})."
        )
    if series.isna().any():
        raise ValueError(
            f"{int(series.isna().sum())} cells have no label in adata.obs[{column!r}] (NaN): give them one, e.g. "
            f"adata.obs[{column!r}] = adata.obs[{column!r}].astype(str).replace('nan', 'no guide') and list it in "
            "control= if those cells are unperturbed, or drop them."
        )
    return series.astype(str).to_numpy()


def _split_kind(value, label: str) -> tuple[object, str]:
    """``(targets, acts_on)`` of one ``intervention_targets`` value; a dict gives both, anything else the targets."""
    if not isinstance(value, Mapping):
        return value, "level"
    extra = sorted(set(map(str, value)) - {"targets", "acts_on"})
    if extra or "targets" not in value:
        raise ValueError(
            f"intervention_targets[{label!r}] is a dict, which must have the keys 'targets' (the perturbed "
            f"variable(s)) and optionally 'acts_on' ('level' or 'activity'); got keys {sorted(map(str, value))}."
        )
    kind = value.get("acts_on", "level")
    if kind not in ACTS_ON:
        raise ValueError(
            f"intervention_targets[{label!r}]['acts_on'] must be 'level' (a knock-down or CRISPRi guide lowers the "
            f"target's measured level) or 'activity' (an inhibitor or activator of the target's activity), got {kind!r}."
        )
    return value["targets"], kind


def _as_names(value, label: str) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        return (value,)
    if isinstance(value, Sequence | set | frozenset | np.ndarray | pd.Index):
        return tuple(str(v) for v in value)
    raise TypeError(f"intervention_targets[{label!r}] must be None, a variable name or a list of names, got {value!r}.")


def _targets(labels: np.ndarray, control: tuple[str, ...], mapping, names: np.ndarray) -> tuple[dict, dict]:
    """Condition → perturbed variable indices, and condition → what it acts on; every non-control label is mapped."""
    position = {str(v): k for k, v in enumerate(names)}
    present = [str(v) for v in pd.unique(labels)]
    if mapping is None:
        unknown = sorted(lab for lab in present if lab not in control and lab not in position)
        if unknown:
            raise ValueError(
                f"Conditions {unknown[:8]} are neither control labels nor the names of variables scored, so what they "
                "perturb is unknown. Pass intervention_targets={label: variable or [variables] or None} (None for an "
                "observational condition), add them to control=, or include the perturbed genes in variables=."
            )
        return {lab: (position[lab],) for lab in present if lab not in control}, {}
    if not isinstance(mapping, Mapping):
        raise TypeError(
            f"intervention_targets must be a dict label → variable(s) or None, got {type(mapping).__name__}."
        )
    mapping = {str(k): v for k, v in mapping.items()}
    absent = sorted(set(mapping) - set(present))
    if absent:
        raise ValueError(
            f"intervention_targets names conditions with no cells: {absent[:8]} (labels present: {present[:10]})."
        )
    missing = sorted(lab for lab in present if lab not in control and lab not in mapping)
    if missing:
        raise ValueError(
            f"Conditions {missing[:8]} are neither in control= nor in intervention_targets: map each to the "
            "variable(s) it perturbs, or to None for an observational condition."
        )
    out, kinds = {}, {}
    for lab, value in mapping.items():
        value, kinds[lab] = _split_kind(value, lab)
        hit = _as_names(value, lab)
        if lab in control and hit:
            raise ValueError(f"{lab!r} is a control label but intervention_targets says it perturbs {list(hit)}.")
        unknown = [h for h in hit if h not in position]
        if unknown:
            raise ValueError(
                f"intervention_targets[{lab!r}] names {unknown}, which are not among the variables scored: fix the "
                "name, include the variable in variables=, or map the condition to None if its target is not measured."
            )
        if hit:
            out[lab] = tuple(sorted({position[h] for h in hit}))
    return out, {lab: kinds[lab] for lab in out}


def parse_interventions(
    adata: AnnData,
    names: np.ndarray,
    interventions,
    control,
    intervention_targets,
    *,
    min_cells: int = MIN_CONDITION_CELLS,
) -> Interventions | None:
    """Read and check the perturbation design; ``None`` when ``interventions`` is ``None``.

    ``names``: the variables scored (the targets must be among them). Raises, naming the fix, on: a column that is
    missing, numeric or has unlabelled cells; a missing control, or control labels with no cells; labels whose
    target is unknown; targets that are not scored variables; no control cells; no perturbing condition; a
    perturbing condition (or the controls together) with fewer than ``min_cells`` cells.
    """
    if interventions is None:
        if control is not None or intervention_targets is not None:
            raise ValueError(
                "control= and intervention_targets= need interventions= (the obs column of condition labels)."
            )
        return None
    labels = _labels(adata, interventions)
    if control is None:
        raise ValueError(
            "interventions= needs control=: the label (or labels) of the unperturbed cells, e.g. 'non-targeting'."
        )
    control = (str(control),) if isinstance(control, str) else tuple(str(c) for c in control)
    if not control:
        raise ValueError("control= is empty: name the label(s) of the unperturbed cells.")
    present = set(labels)
    empty = [c for c in control if c not in present]
    if len(empty) == len(control):
        position = {str(v) for v in names}
        hits = {
            lab: (lab in position)
            if intervention_targets is None
            else bool(_split_kind(intervention_targets.get(lab), lab)[0])
            for lab in present
        }
        if all(hits.values()):
            raise ValueError(
                f"Every cell is perturbed (no cell has the control label(s) {list(control)}): the method compares "
                "perturbed cells with unperturbed ones. Include the control cells (e.g. non-targeting guides) and "
                "name their label in control=."
            )
    if empty:
        raise ValueError(
            f"control labels {empty} have no cells in adata.obs[{interventions!r}] (labels present: "
            f"{sorted(present)[:10]}): check the spelling."
        )
    targets, acts_on = _targets(labels, control, intervention_targets, np.asarray(names, dtype=object))
    if not targets:
        raise ValueError(
            "No condition perturbs a scored variable, so there is no interventional evidence: drop interventions= or "
            "map the conditions to the variables they perturb."
        )
    n_control = int(np.isin(labels, control).sum())
    counts = {lab: int((labels == lab).sum()) for lab in targets}
    small = {lab: c for lab, c in counts.items() if c < min_cells}
    if n_control < min_cells:
        small = {"control " + "+".join(control): n_control, **small}
    if small:
        raise ValueError(
            f"Conditions with fewer than {min_cells} cells cannot show a shift in distribution: {small}. Merge "
            "guides of the same gene into one label, or drop those cells."
        )
    return Interventions(labels=labels, control=control, targets=targets, column=interventions, acts_on=acts_on)
