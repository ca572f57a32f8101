"""benchmarks/causal_select.py: its validation family is seeded and causal, and its rule picks what it says."""

from __future__ import annotations

import numpy as np
from benchmarks import _pairwise, causal_select


def test_validation_family_is_seeded_and_causal():
    pairs = causal_select.sim_pairs(60, 500, seed=1)
    again = causal_select.sim_pairs(60, 500, seed=1)
    assert all(np.array_equal(c, c2) and np.array_equal(e, e2) for (c, e), (c2, e2) in zip(pairs, again, strict=True))
    # the effect depends on the cause (a smooth function of it explains much of its variance) ...
    fits = [1 - _pairwise._poly_mse(c, e, 5) / e.var() for c, e in pairs]
    assert np.median(fits) > 0.3
    # ... and a classic score finds the direction above chance, as the table reports for RECI
    assert np.mean([_pairwise.reci(c, e) > 0 for c, e in pairs]) > 0.6


def test_rule_needs_both_the_family_and_sachs():
    def entry(sim, sachs):
        return {"sim": {"accuracy": sim}, "sachs": {"correct": sachs}}

    result = {
        "methods": {
            "cnnc-causal-1": entry(0.75, 12),
            "family only": entry(0.80, 12),
            "sachs only": entry(0.70, 14),
            "both": entry(0.76, 13),
            "RECI": {"sim": {"accuracy": 0.9}},
        }
    }
    assert causal_select.passing(result) == ["both"]
