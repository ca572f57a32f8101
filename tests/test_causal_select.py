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


def test_field_family_is_seeded_causal_and_tied():
    pairs = causal_select.field_pairs(60, 300, seed=2)
    again = causal_select.field_pairs(60, 300, seed=2)
    assert all(np.array_equal(c, c2) and np.array_equal(e, e2) for (c, e), (c2, e2) in zip(pairs, again, strict=True))
    assert all(len(c) == len(e) == 300 and np.isfinite(c).all() and np.isfinite(e).all() for c, e in pairs)
    # the effect depends on the cause: a smooth function of its ranks explains part of its ranks' variance
    ranks = [(np.argsort(np.argsort(c)) / 300.0, np.argsort(np.argsort(e)) / 300.0) for c, e in pairs]
    fits = [1 - _pairwise._poly_mse(c, e, 5) / e.var() for c, e in ranks]
    assert np.median(fits) > 0.2
    # records rounded to a few significant digits or censored: many variables hold ties
    tied = [len(np.unique(v)) < 0.9 * len(v) for pair in pairs for v in pair]
    assert 0.2 < np.mean(tied) < 0.95


def test_rule_needs_every_family():
    def entry(sim, field, sachs):
        return {"sim": {"accuracy": sim}, "field": {"accuracy": field}, "sachs": {"correct": sachs}}

    result = {
        "methods": {
            "cnnc-causal-1": entry(0.75, 0.60, 12),
            "first family only": entry(0.80, 0.55, 13),
            "second family only": entry(0.70, 0.70, 13),
            "all": entry(0.76, 0.61, 13),
        }
    }
    assert causal_select.passing(result) == ["all"]


def test_tuebingen_runs_only_what_meets_the_rule(tmp_path):
    import pytest

    def entry(sim, field, sachs):
        return {"sim": {"accuracy": sim}, "field": {"accuracy": field}, "sachs": {"correct": sachs}}

    none_pass = {"methods": {"cnnc-causal-1": entry(0.75, 0.6, 12), "weak": entry(0.7, 0.7, 13)}}
    assert causal_select.tuebingen_check(none_pass, tmp_path) == {}  # nothing to run: no data read
    one_passes = {"methods": {"cnnc-causal-1": entry(0.75, 0.6, 12), "strong": entry(0.8, 0.7, 13)}}
    with pytest.raises(FileNotFoundError, match="strong meets the rule"):
        causal_select.tuebingen_check(one_passes, tmp_path)
    result = {**one_passes, "sizes": [100], "pairs_per_size": 1, "families": {"sim": [100]}}
    result["methods"]["strong"]["sim_by_size"] = {"100": 0.8}
    result["methods"]["strong"]["sim"].update(ci=[0.7, 0.9])
    result["tuebingen"] = {
        "strong": {w: {"accuracy": 0.6, "ci": [0.5, 0.7]} for w in ("weighted", "continuous weighted")}
    }
    text = causal_select.markdown({**result, "methods": {"strong": result["methods"]["strong"]}})
    assert "Tübingen run of strong: weighted 0.600" in text and "met by: none" in text
