"""Direction from interventions: the reader of conditions, controls and targets, the method, and a real screen."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import scanpy as sc
import torch
from anndata import AnnData

import cnnc
from cnnc._interventions import parse_interventions

CROP_SEQ = Path(__file__).resolve().parents[3] / "shared" / "bench-data" / "crop-seq-small"


@pytest.fixture(scope="module", autouse=True)
def _threads():
    torch.set_num_threads(1)


def _screen(seed: int = 3, **kw) -> AnnData:
    screen = cnnc.datasets.simulate_screen(14, seed=seed, cells_per_guide=120, control_cells=800, **kw)
    sc.pp.normalize_total(screen, target_sum=1e2)
    sc.pp.log1p(screen)
    return screen[:, screen.var["in_network"].to_numpy()].copy()


@pytest.fixture(scope="module")
def screen() -> AnnData:
    return _screen()


def test_simulate_screen_knocks_down_its_genes_and_their_targets():
    raw = cnnc.datasets.simulate_screen(10, seed=3, cells_per_guide=120, control_cells=800)
    sim = raw.uns["simulation"]
    assert len(sim["perturbed"]) == 6 and sim["n_edges"] == 20 and raw.n_vars == 10 + 200
    control = raw.obs["guide"] == "non-targeting"
    for gene in sim["perturbed"]:
        cells = raw.obs["guide"] == gene
        assert raw[cells, gene].X.mean() < 0.4 * raw[control, gene].X.mean()
    truth = raw.uns["ground_truth"]
    assert set(truth["regulator"]) | set(truth["target"]) <= set(raw.var_names[:10])
    again = cnnc.datasets.simulate_screen(10, seed=3, cells_per_guide=120, control_cells=800)
    assert np.array_equal(raw.X, again.X)


def test_parser_reads_guides_named_by_their_gene(screen):
    design = parse_interventions(screen, np.asarray(screen.var_names), "guide", "non-targeting", None)
    perturbed = screen.uns["simulation"]["perturbed"]
    assert sorted(design.targets) == sorted(perturbed)
    assert all(screen.var_names[design.targets[g][0]] == g for g in perturbed)
    assert design.control_mask.sum() == 800 and len(design.labels) == 800 + 120 * len(perturbed)
    assert parse_interventions(screen, np.asarray(screen.var_names), None, None, None) is None


def _errors(screen):
    names = np.asarray(screen.var_names)
    one = screen.uns["simulation"]["perturbed"][0]
    numeric = screen.copy()
    numeric.obs["code"] = numeric.obs["guide"].cat.codes
    unlabelled = screen.copy()
    unlabelled.obs["guide"] = unlabelled.obs["guide"].astype(object)
    unlabelled.obs.iloc[0, 0] = np.nan
    few = screen[(screen.obs["guide"] != one).to_numpy() | (np.arange(screen.n_obs) % 10 == 0)].copy()
    perturbed_only = screen[(screen.obs["guide"] != "non-targeting").to_numpy()].copy()
    mapping = {g: g for g in screen.uns["simulation"]["perturbed"]}
    return [
        (numeric, {"interventions": "code", "control": "0"}, TypeError, "holds numbers"),
        (unlabelled, {"interventions": "guide", "control": "non-targeting"}, ValueError, "no label"),
        (screen, {"interventions": "nope", "control": "non-targeting"}, KeyError, "not a column"),
        (screen, {"interventions": "guide"}, ValueError, "needs control="),
        (screen, {"interventions": "guide", "control": "ctrl"}, ValueError, "have no cells"),
        (perturbed_only, {"interventions": "guide", "control": "non-targeting"}, ValueError, "Every cell is perturbed"),
        (
            screen,
            {"interventions": "guide", "control": "non-targeting", "intervention_targets": {**mapping, one: "GENEX"}},
            ValueError,
            "not among the variables",
        ),
        (
            screen.copy(),
            {"interventions": "guide", "control": "non-targeting", "intervention_targets": {one: one}},
            ValueError,
            "neither in control= nor in intervention_targets",
        ),
        (few, {"interventions": "guide", "control": "non-targeting"}, ValueError, "fewer than 20 cells"),
        (screen, {"control": "non-targeting"}, ValueError, "need interventions="),
    ], names


def test_parser_errors_name_the_problem_and_write_nothing(screen):
    cases, names = _errors(screen)
    for data, kw, error, message in cases:
        with pytest.raises(error, match=message):
            parse_interventions(data, names, kw.get("interventions"), kw.get("control"), kw.get("intervention_targets"))
        before = set(data.uns)
        with pytest.raises(error, match=message):
            cnnc.tl.causal_network(data, **kw)
        assert set(data.uns) == before


def test_unknown_label_without_targets_is_refused(screen):
    renamed = screen.copy()
    renamed.obs["guide"] = renamed.obs["guide"].cat.rename_categories(
        lambda c: "sg-" + c if c != "non-targeting" else c
    )
    with pytest.raises(ValueError, match="neither control labels nor the names"):
        cnnc.tl.causal_scores(renamed, interventions="guide", control="non-targeting", n_boot=0)
    assert "cnnc_causal" not in renamed.uns


def _oriented(edges: pd.DataFrame, truth: pd.DataFrame, regulators) -> tuple[int, int]:
    called = set(zip(edges["regulator"], edges["target"], strict=True))
    true = [(r, t) for r, t in zip(truth["regulator"], truth["target"], strict=True) if r in regulators]
    return sum(e in called for e in true), len(true)


def test_network_orients_edges_of_perturbed_regulators(screen):
    net = cnnc.tl.causal_network(screen, interventions="guide", control="non-targeting", alpha=0.05, copy=True)
    edges = net.uns["cnnc_network"]["edges"]
    assert (edges["oriented_by"] == "intervention").sum() >= 5
    right, total = _oriented(edges, screen.uns["ground_truth"], screen.uns["simulation"]["perturbed"])
    assert right >= 0.7 * total
    params = net.uns["cnnc_network"]["params"]
    assert params["interventions"] == "guide" and params["control"] == ["non-targeting"]
    # without the interventions, the same data orient fewer of these edges right
    plain = cnnc.tl.causal_network(screen, alpha=0.05, copy=True).uns["cnnc_network"]["edges"]
    assert _oriented(plain, screen.uns["ground_truth"], screen.uns["simulation"]["perturbed"])[0] < right


def test_scores_take_direction_from_interventions(screen):
    out = cnnc.tl.causal_scores(screen, interventions="guide", control="non-targeting", n_boot=2, copy=True)
    edges = out.uns["cnnc_causal"]["edges"]
    assert set(edges["direction_evidence"]) <= {"intervention", "images"}
    decided = edges[edges["direction_evidence"] == "intervention"]
    assert len(decided) > 0 and decided["score_low"].isna().all()
    truth = set(zip(screen.uns["ground_truth"]["regulator"], screen.uns["ground_truth"]["target"], strict=True))
    top = decided.head(10)
    assert sum((r, t) in truth for r, t in zip(top["regulator"], top["target"], strict=True)) >= 7


@pytest.fixture(scope="module")
def crop_seq() -> AnnData:
    if not CROP_SEQ.is_dir():
        pytest.fail(f"The CROP-seq test data are missing: expected {CROP_SEQ} (../shared/bench-data/crop-seq-small).")
    counts = pd.read_csv(CROP_SEQ / "counts_28genes_x_6229cells.csv.gz", index_col=0)
    meta = pd.read_csv(CROP_SEQ / "cell_metadata.csv", index_col=0)
    adata = AnnData(counts.T.to_numpy(dtype=np.float32), obs=meta, var=pd.DataFrame(index=counts.index))
    sc.pp.normalize_total(adata, target_sum=1e2)
    sc.pp.log1p(adata)
    return adata


def test_crop_seq_guides_to_edge_table(crop_seq):
    adata = crop_seq.copy()
    # cells without a guide and non-targeting cells are the controls; guides name their gene
    adata.obs["guide"] = adata.obs["geneID"].astype(object).fillna("no guide").astype("category")
    measured = [g for g in adata.var_names if adata[:, g].X.std() > 0]
    with pytest.raises(ValueError, match=r"\['CDKN2A', 'MLL2', 'MLL3', 'NonTargeting.*'PTPRD'\] are neither control"):
        cnnc.tl.causal_network(adata, variables=measured, interventions="guide", control=["no guide"])
    controls = ["no guide", "NonTargetingControlGuideForHuman"]
    targets = {g: (g if g in measured else None) for g in adata.obs["guide"].cat.categories if g not in controls}
    assert targets["MLL2"] is None and targets["CDKN2A"] is None  # not measured, or never detected
    # a knocked-down gene falls in its own guide's cells
    control = adata.obs["guide"].isin(controls).to_numpy()
    falls = [
        adata[(adata.obs["guide"] == g).to_numpy(), g].X.mean() < adata[control, g].X.mean()
        for g, t in targets.items()
        if t is not None
    ]
    assert np.mean(falls) > 0.6
    cnnc.tl.causal_network(
        adata, variables=measured, interventions="guide", control=controls, intervention_targets=targets, alpha=0.05
    )
    edges = adata.uns["cnnc_network"]["edges"]
    assert {"regulator", "target", "oriented_by", "partial_corr"} <= set(edges.columns)
    assert set(edges["regulator"]) | set(edges["target"]) <= set(measured)
    assert adata.uns["cnnc_network"]["params"]["intervention_targets"]["TP53"] == ["TP53"]


@pytest.fixture(scope="module")
def screen_1e4() -> AnnData:
    """The simulated screen log-normalised as expression models expect (all genes, background included)."""
    raw = cnnc.datasets.simulate_screen(14, seed=3, cells_per_guide=120, control_cells=800)
    sc.pp.normalize_total(raw, target_sum=1e4)
    sc.pp.log1p(raw)
    return raw


def _calls(edges: pd.DataFrame, truth: set) -> tuple[int, int]:
    called = edges[edges["direction_evidence"] == "intervention"]
    pointed = [
        (r, t) if d == 1 else (t, r)
        for r, t, d in zip(called["regulator"], called["target"], called["direction"], strict=True)
        if d
    ]
    return sum(p in truth for p in pointed), sum(p[::-1] in truth for p in pointed)


def test_predict_interactions_directions_from_guides(screen_1e4, tiny_model):
    adata = screen_1e4.copy()
    genes = list(adata.var_names[adata.var["in_network"].to_numpy()])
    cnnc.tl.predict_interactions(
        adata, model=tiny_model, tfs=genes, targets=genes, interventions="guide", control="non-targeting"
    )
    edges = adata.uns["cnnc"]["edges"]
    assert {"direction", "direction_evidence", "intervention_shift", "intervention_pvalue"} <= set(edges.columns)
    truth = set(zip(adata.uns["ground_truth"]["regulator"], adata.uns["ground_truth"]["target"], strict=True))
    right, wrong = _calls(edges, truth)
    assert right >= 15 and wrong <= 2
    untouched = edges[edges["direction_evidence"] != "intervention"]
    assert (untouched["direction"] == 0).all()
    assert adata.uns["cnnc"]["params"]["control"] == ["non-targeting"]


def test_cli_interventions(screen_1e4, tiny_model, tmp_path):
    import subprocess
    import sys

    src = Path(cnnc.__file__).parents[1]
    data = tmp_path / "screen.h5ad"
    screen_1e4.write_h5ad(data)
    model = tiny_model.save(tmp_path / "tiny.safetensors")
    genes = ",".join(screen_1e4.var_names[screen_1e4.var["in_network"].to_numpy()])
    perturbed = screen_1e4.uns["simulation"]["perturbed"]
    targets = tmp_path / "targets.tsv"
    targets.write_text("condition\ttarget\n" + "".join(f"{g}\t{g}\n" for g in perturbed))
    env = {"PYTHONPATH": str(src), "OMP_NUM_THREADS": "1", "PATH": "/usr/bin:/bin"}

    def cli(*extra):
        args = ["predict", data, "--model", model, "--tfs", genes, "--targets", genes, "--interventions", "guide"]
        return subprocess.run(
            [sys.executable, "-m", "cnnc", *map(str, [*args, *extra])], capture_output=True, text=True, env=env
        )

    bad = cli("--control", "ctrl", "--edges", tmp_path / "bad.csv")
    assert bad.returncode == 1 and "have no cells" in bad.stderr and not (tmp_path / "bad.csv").exists()
    ok = cli("--control", "non-targeting", "--intervention-targets", targets, "--edges", tmp_path / "edges.csv")
    assert ok.returncode == 0, ok.stderr
    table = pd.read_csv(tmp_path / "edges.csv")
    truth = set(zip(screen_1e4.uns["ground_truth"]["regulator"], screen_1e4.uns["ground_truth"]["target"], strict=True))
    right, wrong = _calls(table, truth)
    assert right >= 15 and wrong <= 2


def test_pair_scores_rank_by_tier_then_total_effect_directness_and_direct_effect():
    from cnnc.tl._intervention_rankings import pair_scores

    p = 4
    adjacent = np.zeros((p, p), dtype=bool)
    adjacent[0, 1] = adjacent[1, 0] = adjacent[2, 3] = adjacent[3, 2] = True
    directed = np.zeros((p, p), dtype=bool)
    directed[2, 3] = True  # one directed edge, one undirected link
    shift = np.zeros((p, p))
    shift[0, 1], shift[2, 3] = 0.9, 0.1  # the undirected link moves much more
    partial = np.full((p, p), 0.2)
    graph = {"adjacent": adjacent, "directed": directed, "shift": shift, "direct_z": np.zeros((p, p))}
    score = pair_scores({**graph, "partial": partial})
    assert score[2, 3] > score[0, 1] > score[3, 2]  # directed first, then the undirected link, then against
    assert score[0, 1] == score[1, 0]  # an undirected link scores the same both ways: total effect either way
    assert score[0, 1] > score[0, 2] and np.isneginf(np.diag(score)).all()
    # equal tiers: the larger total effect ranks higher, and so does the larger |partial correlation|
    directed[2, 3] = False
    score = pair_scores({**graph, "directed": directed, "partial": partial})
    assert score[0, 1] > score[2, 3]
    partial[2, 3] = partial[3, 2] = 0.9
    shift[2, 3] = 0.9
    score = pair_scores({**graph, "directed": directed, "shift": shift, "partial": partial})
    assert score[2, 3] > score[0, 1]  # same total effect, more direct


def test_cli_intervention_targets_file_reads_acts_on(tmp_path):
    from cnnc._cli import CliError, _intervention_targets

    path = tmp_path / "targets.csv"
    path.write_text("condition,target,acts_on\nU0126,mek,activity\nLY,pip3\nboth,a,level\nboth,b,level\nICAM,none\n")
    assert _intervention_targets(str(path)) == {
        "U0126": {"targets": ["mek"], "acts_on": "activity"},
        "LY": ["pip3"],
        "both": {"targets": ["a", "b"], "acts_on": "level"},
        "ICAM": None,
    }
    path.write_text("U0126,mek,activity\nU0126,raf,level\n")
    with pytest.raises(CliError, match="two acts_on values"):
        _intervention_targets(str(path))
    path.write_text("U0126,mek,activity,extra\n")
    with pytest.raises(CliError, match="optionally acts_on"):
        _intervention_targets(str(path))
