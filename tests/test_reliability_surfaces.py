"""No silent wrong answer on the newer surfaces: gene function, the causal tools, groups and networks compared, the
command line, the data sets and the metrics. One test per kind of mistake (``docs/refusals.md``), then properties
over random inputs (hypothesis): every outcome is a correct result or an error of ours naming problem and fix."""

from __future__ import annotations

import gzip
import io
import sys
from contextlib import redirect_stderr

import anndata as ad
import numpy as np
import pandas as pd
import pytest
import scanpy as sc
from hypothesis import given, settings
from hypothesis import strategies as st

import cnnc
from cnnc._cli import main as cli
from cnnc._validate import as_integer, as_number
from cnnc.tl._causal import partial_correlation
from cnnc.tl._function import gene_sets_dict, read_gmt
from cnnc.tl._regulators import regulator_flags

from .test_properties import SETTINGS, assert_our_error

SETS = {"s1": ["G1", "G2", "G3", "G4", "G5"], "s2": ["G6", "G7", "G8", "G9", "G10"]}


def log_data(n_cells: int = 80, n_genes: int = 12, seed: int = 0) -> ad.AnnData:
    """Log-normalized-like values (non-integer, some zeros); G0 drives G1."""
    rng = np.random.default_rng(seed)
    X = np.log1p(rng.gamma(1.0, 2.0, (n_cells, n_genes)) * (rng.random((n_cells, n_genes)) > 0.3))
    X[:, 1] = np.log1p(np.expm1(X[:, 0]) * 1.3 + rng.gamma(1, 0.2, n_cells))
    adata = ad.AnnData(X.astype(np.float32))
    adata.var_names = [f"G{i}" for i in range(n_genes)]
    adata.obs_names = [f"c{i}" for i in range(n_cells)]
    return adata


def measured(n_cells: int = 300, seed: int = 0) -> ad.AnnData:
    """x0 -> x1 -> x2, x0 -> x3, x4 independent."""
    rng = np.random.default_rng(seed)
    x0 = rng.normal(size=n_cells)
    x1 = x0 + 0.5 * rng.normal(size=n_cells)
    x2 = np.tanh(x1) + 0.5 * rng.normal(size=n_cells)
    x3 = x0**2 + 0.5 * rng.normal(size=n_cells)
    adata = ad.AnnData(np.c_[x0, x1, x2, x3, rng.normal(size=n_cells)])
    adata.var_names = ["x0", "x1", "x2", "x3", "x4"]
    return adata


@pytest.fixture
def log():
    buffer = io.StringIO()
    verbosity = sc.settings.verbosity
    sc.settings.logfile, sc.settings.verbosity = buffer, 2
    yield buffer
    sc.settings.logfile, sc.settings.verbosity = sys.stderr, verbosity


def _state(adata) -> tuple:
    return (sorted(adata.uns), sorted(adata.varp), sorted(adata.varm))


def run_cli(argv) -> tuple[int, str]:
    err = io.StringIO()
    with redirect_stderr(err):
        code = cli([str(a) for a in argv])
    return code, err.getvalue()


# --- results overwritten without a word ----------------------------------------------------------------------------


def test_assign_function_does_not_replace_a_prediction():
    adata = log_data()
    cnnc.tl.predict_interactions(adata, tfs=["G0"], settings=cnnc.tl.ScoringSettings(min_cells=0))
    before = _state(adata)
    with pytest.raises(ValueError, match=r"holds a prediction.*key_added"):
        cnnc.tl.assign_function(adata, SETS, key_added="cnnc")
    assert _state(adata) == before and "edges" in adata.uns["cnnc"]


def test_a_users_own_entries_are_never_replaced():
    adata = log_data()
    adata.uns["mine"] = {"note": "keep"}
    adata.varm["theirs"] = np.zeros((adata.n_vars, 2))
    with pytest.raises(ValueError, match=r"uns\['mine'\] holds something .* did not write"):
        cnnc.tl.assign_function(adata, SETS, key_added="mine")
    with pytest.raises(ValueError, match=r"varm\['theirs'\] exists.*something else"):
        cnnc.tl.assign_function(adata, SETS, key_added="theirs")
    adata.varp["cnnc"] = np.eye(adata.n_vars)
    with pytest.raises(ValueError, match=r"varp\['cnnc'\] exists"):
        cnnc.tl.predict_interactions(adata, tfs=["G0"], settings=cnnc.tl.ScoringSettings(min_cells=0))
    assert adata.uns["mine"] == {"note": "keep"} and "cnnc" not in adata.uns


def test_causal_tools_do_not_replace_each_other():
    adata = measured()
    cnnc.tl.causal_scores(adata, n_boot=0, key_added="res")
    with pytest.raises(ValueError, match=r"holds causal scores .*causal_network would replace it"):
        cnnc.tl.causal_network(adata, key_added="res")
    assert adata.uns["res"]["params"]["function"] == "causal_scores"


def test_a_result_of_the_same_tool_is_replaced_with_a_warning(log):
    adata = log_data()
    cnnc.tl.assign_function(adata, SETS)
    cnnc.tl.assign_function(adata, {"s1": SETS["s1"]})
    assert list(adata.varm["cnnc_function"].columns) == ["s1"]
    assert "replacing the previous gene-set scores in adata.uns['cnnc_function'] and adata.varm" in log.getvalue()


# --- parameters silently ignored -----------------------------------------------------------------------------------


def test_network_diff_refuses_top_below_one():
    adata = log_data(120)
    adata.obs["grp"] = pd.Categorical(np.repeat(["A", "B"], 60))
    cnnc.tl.predict_interactions(adata, tfs=["G0", "G1"], groupby="grp", settings=cnnc.tl.ScoringSettings(min_cells=0))
    for top in (-1, 0, 2.5):
        with pytest.raises((ValueError, TypeError), match="top must be an integer >= 1"):
            cnnc.get.network_diff(adata, "A", "B", top=top)
    with pytest.raises(ValueError, match="two different groups"):
        cnnc.get.network_diff(adata, "A", "A")
    assert len(cnnc.get.network_diff(adata, "A", "B", top=np.int64(3))) >= 3


@pytest.mark.parametrize(
    ("kwargs", "ignored"),
    [
        ({"top_k": 3}, "top_k=3"),
        ({"aggregate": "top_k", "temperature": 2.0}, "temperature=2.0"),
        ({"method": "context", "model": "cnnc-context"}, "model='cnnc-context'"),
        ({"n_candidates": 10}, "n_candidates=10"),
    ],
)
def test_assign_function_refuses_parameters_it_would_ignore(kwargs, ignored):
    with pytest.raises(ValueError, match=rf"{ignored} has no effect"):
        cnnc.tl.assign_function(log_data(), SETS, **kwargs)


def test_cli_refuses_options_it_would_ignore(tmp_path):
    path = tmp_path / "in.h5ad"
    log_data().write_h5ad(path)
    code, err = run_cli(["predict", path, "--tfs", "G0", "--groups", "A", "--edges", tmp_path / "e.csv"])
    assert code == 1 and "--groups selects categories of --groupby" in err and "Traceback" not in err
    code, err = run_cli(["predict", path, "--tfs", "G0", "--top", "5", "-o", tmp_path / "o.h5ad"])
    assert code == 1 and "pass --edges" in err
    code, err = run_cli(["predict", path, "--tfs", "G0", "--top", "-1", "--edges", tmp_path / "e.csv"])
    assert code == 1 and "--top must be an integer >= 1" in err


# --- inputs taken at face value ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "flags",
    [
        ["True", "True"] + ["False"] * 10,
        ["yes", "YES"] + ["no"] * 10,
        [True, True] + [np.nan] * 10,
        pd.array([True, True] + [pd.NA] * 10, dtype="boolean"),
        pd.Categorical(["True", "True"] + ["False"] * 10),
        [1.0, 1.0] + [0.0] * 10,
    ],
)
def test_is_tf_is_parsed_not_taken_as_not_empty(flags):
    adata = log_data()
    adata.var["is_tf"] = flags
    cnnc.tl.predict_interactions(adata, settings=cnnc.tl.ScoringSettings(min_cells=0))
    assert set(adata.uns["cnnc"]["edges"]["regulator"]) == {"G0", "G1"}


@pytest.mark.parametrize("flags", [["TF", "TF"] + [""] * 10, [2, 1] + [0] * 10, [False] * 12])
def test_is_tf_that_cannot_be_read_is_refused(flags):
    adata = log_data()
    adata.var["is_tf"] = flags
    with pytest.raises(ValueError, match=r"adata.var\['is_tf'\]"):
        cnnc.tl.predict_interactions(adata, settings=cnnc.tl.ScoringSettings(min_cells=0))
    assert "cnnc" not in adata.uns


def test_a_constant_variable_has_no_confident_direction(log):
    adata = measured()
    adata.X[:, 4] = 3.0
    cnnc.tl.causal_scores(adata, n_boot=3)
    edges = adata.uns["cnnc_causal"]["edges"]
    constant = (edges["regulator"] == "x4") | (edges["target"] == "x4")
    assert (edges.loc[constant, "direction"] == 0).all() and (edges.loc[constant, "p_none"] == 1).all()
    assert (edges.loc[constant, "p_direction"] == 0.5).all()
    assert edges.loc[constant, "score"].max() < edges.loc[~constant, "score"].min()
    assert "['x4'] are constant" in log.getvalue()


def test_identical_variables_are_refused_and_keep_their_partial_correlation():
    adata = measured()
    adata.X[:, 4] = -2 * adata.X[:, 3] + 1
    for tool in (cnnc.tl.causal_scores, cnnc.tl.causal_network):
        with pytest.raises(ValueError, match=r"'x3' and 'x4' are identical up to scale and sign"):
            tool(adata)
    values = measured().X.copy()
    values[:, 4] = values[:, 3]
    partial = partial_correlation(values)
    assert partial[3, 4] == 1.0  # not -1 (the pseudo-inverse's answer)


@pytest.mark.parametrize("n_cells", [0, 5, 19])
def test_assign_function_refuses_too_few_cells(n_cells):
    adata = log_data()[:n_cells].copy()
    with pytest.raises(ValueError, match="cells"):
        cnnc.tl.assign_function(adata, SETS)
    assert "cnnc_function" not in adata.uns


# --- unhelpful errors ----------------------------------------------------------------------------------------------


def test_numpy_numbers_are_numbers():
    adata = log_data()
    cnnc.tl.assign_function(adata, SETS, temperature=np.float32(0.5), hub_correction=np.float32(0.25))
    cnnc.tl.causal_network(measured(), alpha=np.float32(0.05), max_cond=np.int64(2))
    cnnc.tl.causal_scores(measured(), n_boot=np.int64(1), seed=np.uint8(3))
    assert cnnc.datasets.causal_pairs(np.int64(2), n_cells=np.int32(20), p_none=np.float32(0.5)).n_vars == 4
    assert cnnc.metrics.early_precision([1, 0, 1], [0.9, 0.1, 0.5], k=np.int64(2)) == 1.0


def test_gene_sets_as_users_have_them(tmp_path):
    with gzip.open(tmp_path / "sets.gmt.gz", "wt") as fh:
        fh.writelines("\t".join([k, "desc", *v]) + "\n" for k, v in SETS.items())
    table = pd.DataFrame([(k, g) for k, v in SETS.items() for g in v], columns=["source", "target"])
    table.to_csv(tmp_path / "sets.tsv", sep="\t", index=False)
    table.to_csv(tmp_path / "sets.csv.gz", index=False)
    (tmp_path / "latin.gmt").write_bytes(("s1\tcaf\xe9\t" + "\t".join(SETS["s1"]) + "\n").encode("latin-1"))
    for name in ("sets.gmt.gz", "sets.tsv", "sets.csv.gz"):
        assert gene_sets_dict(tmp_path / name) == SETS
    assert read_gmt(tmp_path / "latin.gmt") == {"s1": SETS["s1"]}
    with pytest.raises(TypeError, match=r"Gene set 's1' is None, not a list of genes"):
        gene_sets_dict({"s1": None})
    (tmp_path / "binary.gmt").write_bytes(b"\x00\x01\x02" * 10)
    with pytest.raises(ValueError, match="not a text file"):
        gene_sets_dict(tmp_path / "binary.gmt")


def test_huge_values_get_a_clear_error():
    adata = measured()
    adata.X = adata.X * 1e200
    for tool in (cnnc.tl.causal_scores, cnnc.tl.causal_network):
        with pytest.raises(ValueError, match="overflow.*Rescale"):
            tool(adata)
    logs = log_data()
    logs.X = logs.X.astype(np.float64) * 1e200
    with pytest.raises(ValueError, match="overflow.*Rescale"):
        cnnc.tl.assign_function(logs, SETS)


def test_backed_variables_out_of_file_order(tmp_path):
    measured().write_h5ad(tmp_path / "m.h5ad")
    backed = ad.read_h5ad(tmp_path / "m.h5ad", backed="r")
    cnnc.tl.causal_scores(backed, variables=["x2", "x0", "x1"], n_boot=0)
    in_memory = measured()
    cnnc.tl.causal_scores(in_memory, variables=["x2", "x0", "x1"], n_boot=0)
    pd.testing.assert_frame_equal(backed.uns["cnnc_causal"]["edges"], in_memory.uns["cnnc_causal"]["edges"])


def test_cli_names_missing_files_and_gives_no_traceback(tmp_path):
    path = tmp_path / "in.h5ad"
    log_data().write_h5ad(path)
    code, err = run_cli(["predict", path, "--tfs", tmp_path / "regulators.txt", "--edges", tmp_path / "e.csv"])
    assert code == 1 and "regulators.txt: the gene list file does not exist" in err
    (tmp_path / "bad.h5ad").write_bytes(b"not hdf5")
    code, err = run_cli(["predict", tmp_path / "bad.h5ad", "--tfs", "G0", "--edges", tmp_path / "e.csv"])
    assert code == 1 and "cannot be read as an .h5ad file" in err
    (tmp_path / "afile").write_text("x")
    for argv in (["demo", "--out", tmp_path / "afile"], ["demo", "--top", "0", "--out", tmp_path / "d"]):
        code, err = run_cli(argv)
        assert code == 1 and "Traceback" not in err and err.count("\n") == 1


def test_metrics_refuse_missing_labels():
    with pytest.raises(ValueError, match=r"y_true holds 1 missing values .* at position 2: drop those pairs"):
        cnnc.metrics.auroc([1, 0, None, 1], [0.1, 0.2, 0.3, 0.4])
    with pytest.raises(ValueError, match="score holds 1 missing values"):
        cnnc.metrics.auprc([1, 0, 0, 1], [0.1, None, 0.3, 0.4])
    with pytest.raises(ValueError, match="y_true holds 1 missing"):
        cnnc.metrics.auroc(pd.array([1, 0, None, 1], dtype="Int64"), [0.1, 0.2, 0.3, 0.4])


# --- properties ----------------------------------------------------------------------------------------------------

NUMPY_NUMBERS = [np.float16, np.float32, np.float64, np.int8, np.int16, np.int32, np.int64, np.uint8, np.uint32]


@settings(max_examples=200, **SETTINGS)
@given(kind=st.sampled_from([*NUMPY_NUMBERS, float, int, bool, str]), value=st.floats(-1e6, 1e6) | st.just(np.nan))
def test_numbers_of_any_type_property(kind, value):
    """A number in range is accepted as itself whatever its type; anything else is refused, never coerced."""
    try:
        number = kind(value)
    except (ValueError, OverflowError):
        return
    if isinstance(number, float | np.floating) and not np.isfinite(number) and kind not in (str,):
        with pytest.raises(ValueError, match="finite number"):
            as_number(number, "x", low=0)
        return
    try:
        out = as_number(number, "x", low=0, example=1.0)
    except (ValueError, TypeError) as error:
        assert_our_error(error)
        assert kind in (bool, str) or float(number) < 0
        assert "x must be a finite number >= 0" in str(error)
        return
    assert kind not in (bool, str) and out == float(number) and out >= 0
    if float(number).is_integer() and out >= 1:
        assert as_integer(number, "n", low=1) == int(out)


@settings(max_examples=150, **SETTINGS)
@given(
    values=st.lists(
        st.sampled_from(
            [True, False, "True", "false", "yes", "No", 1, 0, 1.0, 0.0, None, np.nan, "TF", "", 2, "maybe", -1.0]
        ),
        min_size=1,
        max_size=12,
    )
)
def test_is_tf_property(values):
    """Flags are read as yes/no or refused; a value that is not yes/no never marks a regulator."""
    column = pd.Series(values, dtype=object)
    yes = {True, "True", "yes"}
    no = {False, "false", "No", ""}
    try:
        flags = regulator_flags(column)
    except ValueError as error:
        assert_our_error(error)
        readable = all((v in yes or v in no or v is None or v != v) for v in values if not isinstance(v, bool))
        assert not readable or not any(v in yes for v in values if v == v and v is not None)
        return
    expected = [v in yes and v is not False and v is not None and v == v for v in values]
    assert flags.tolist() == expected and any(expected)


@settings(max_examples=15, **SETTINGS)
@given(
    n_cells=st.integers(0, 60),
    seed=st.integers(0, 2**16),
    constant=st.booleans(),
    duplicate=st.sampled_from(["none", "none", "copy", "scaled"]),
    scale=st.sampled_from([1.0, 1.0, 1e-100, 1e200]),
)
def test_causal_scores_property(n_cells, seed, constant, duplicate, scale):
    """Any measured values: a result whose numbers are in range (constant variables with no direction), or a
    refusal that writes nothing."""
    adata = measured(max(n_cells, 1), seed)[:n_cells].copy()
    if constant:
        adata.X[:, 4] = 2.0
    if duplicate != "none":
        adata.X[:, 3] = adata.X[:, 2] * (1 if duplicate == "copy" else -3.0)
    adata.X = adata.X * scale
    try:
        cnnc.tl.causal_scores(adata, n_boot=2, seed=seed)
    except (ValueError, TypeError) as error:
        assert_our_error(error)
        assert "cnnc_causal" not in adata.uns
        assert n_cells < 20 or duplicate != "none" or scale > 1e150
        return
    assert n_cells >= 20 and duplicate == "none" and scale < 1e150
    edges = adata.uns["cnnc_causal"]["edges"]
    assert len(edges) == 10 and edges["partial_corr"].between(-1, 1).all()
    assert edges["score"].between(0, 1).all() and (edges["direction"] >= 0).all()
    if constant:
        still = (edges["regulator"] == "x4") | (edges["target"] == "x4")
        assert (edges.loc[still, "direction"] == 0).all()


@settings(max_examples=20, **SETTINGS)
@given(
    n_cells=st.integers(0, 50),
    temperature=st.sampled_from([0.5, np.float32(0.5), 0.0, -1.0, np.inf, np.nan, "0.5", True]),
    hub=st.sampled_from([0.25, np.float16(0.25), 0, -0.1, np.inf]),
    key=st.sampled_from(["cnnc_function", "cnnc", "mine", ""]),
)
def test_assign_function_property(n_cells, temperature, hub, key):
    """Bad numbers, too few cells and foreign keys are refused before anything is written; otherwise finite scores."""
    adata = log_data(max(n_cells, 1))[:n_cells].copy()
    adata.uns["mine"] = {"user": 1}
    before = _state(adata)
    try:
        cnnc.tl.assign_function(adata, SETS, temperature=temperature, hub_correction=hub, key_added=key)
    except (ValueError, TypeError) as error:
        assert_our_error(error)
        assert _state(adata) == before and adata.uns["mine"] == {"user": 1}
        return
    good_t = not isinstance(temperature, bool | str) and np.isfinite(float(temperature)) and float(temperature) > 0
    assert n_cells >= 20 and good_t and np.isfinite(float(hub)) and float(hub) >= 0 and key in ("cnnc_function", "cnnc")
    scores = adata.varm[key].to_numpy()
    assert np.isfinite(scores).all() and scores.shape == (12, 2)


@settings(max_examples=40, **SETTINGS)
@given(
    sets=st.dictionaries(
        st.text("abcXYZ_-.", min_size=1, max_size=8),
        st.lists(st.text("ABCDEFGH0123456789-", min_size=1, max_size=6), min_size=1, max_size=6, unique=True),
        min_size=1,
        max_size=4,
    ),
    form=st.sampled_from(["gmt", "gmt.gz", "tsv", "csv", "txt.gz"]),
)
def test_gene_set_files_property(tmp_path_factory, sets, form):
    """Gene sets written as GMT (plain or gzipped) or as a source/target table read back as they were."""
    path = tmp_path_factory.mktemp("sets") / f"sets.{form}"
    if form.startswith("gmt"):
        text = "".join("\t".join([k, "na", *v]) + "\n" for k, v in sets.items())
    else:
        sep = "," if form == "csv" else "\t"
        text = f"source{sep}target\n" + "".join(f"{k}{sep}{g}\n" for k, v in sets.items() for g in v)
    path.write_bytes(gzip.compress(text.encode()) if form.endswith(".gz") else text.encode())
    assert gene_sets_dict(path) == sets


# --- groups and MuData ---------------------------------------------------------------------------------------------


def grouped(groups=("A", "B"), n: int = 60) -> ad.AnnData:
    adata = log_data(n * len(groups), seed=3)
    adata.obs["grp"] = pd.Categorical(np.repeat(list(groups), n))
    return adata


def pair_of_modalities(prot_cells: int = 80):
    import mudata as md

    rna = log_data(80, seed=1)
    rna.var_names = [f"r{i}" for i in range(rna.n_vars)]
    prot = log_data(prot_cells, 4, seed=2)
    prot.var_names = [f"p{i}" for i in range(4)]
    return md.MuData({"rna": rna, "prot": prot})


def test_groups_without_groupby_same_words_everywhere(tmp_path):
    words = "selects categories of"
    for data, kwargs in ((grouped(), {}), (pair_of_modalities(), {"mod": ("prot", "rna"), "model": "cnnc-causal"})):
        with pytest.raises(ValueError, match=f"groups {words} groupby, but no groupby was given"):
            cnnc.tl.predict_interactions(data, tfs=["p0" if kwargs else "G0"], groups=["A"], **kwargs)
    path = tmp_path / "g.h5ad"
    grouped().write_h5ad(path)
    code, err = run_cli(["predict", path, "--tfs", "G0", "--groups", "A", "--edges", tmp_path / "e.csv"])
    assert code == 1 and f"--groups {words} --groupby, but no --groupby was given" in err


def test_group_names_that_give_one_key_keep_both_matrices(log):
    adata = grouped(("a/b", "a_b"))
    cnnc.tl.predict_interactions(adata, tfs=["G0", "G1"], groupby="grp", settings=cnnc.tl.ScoringSettings(min_cells=0))
    keys = adata.uns["cnnc"]["varp_keys"]
    assert keys == ["cnnc_a_b", "cnnc_a_b_2"] and all(k in adata.varp for k in keys)
    edges = adata.uns["cnnc"]["edges"]
    for group, key in zip(adata.uns["cnnc"]["params"]["groups"], keys, strict=True):
        assert adata.varp[key].nnz == (edges["group"] == group).sum()
    assert "would share adata.varp['cnnc_a_b']" in log.getvalue()


def test_a_group_key_owned_by_another_result_is_refused():
    adata = grouped()
    cnnc.tl.predict_interactions(adata, tfs=["G0"], settings=cnnc.tl.ScoringSettings(min_cells=0), key_added="cnnc_A")
    before = adata.varp["cnnc_A"].copy()
    with pytest.raises(ValueError, match=r"varp\['cnnc_A'\] exists and is not a matrix of the prediction"):
        cnnc.tl.predict_interactions(adata, tfs=["G0"], groupby="grp", settings=cnnc.tl.ScoringSettings(min_cells=0))
    assert (adata.varp["cnnc_A"] != before).nnz == 0 and "cnnc" not in adata.uns


def test_a_replaced_prediction_leaves_no_stale_matrix(log):
    adata = grouped()
    cnnc.tl.predict_interactions(adata, tfs=["G0"], groupby="grp", settings=cnnc.tl.ScoringSettings(min_cells=0))
    cnnc.tl.predict_interactions(adata, tfs=["G0"], settings=cnnc.tl.ScoringSettings(min_cells=0))
    assert sorted(adata.varp) == ["cnnc"]
    assert "adata.varp['cnnc_A'] and adata.varp['cnnc_B']" in log.getvalue()
    cnnc.tl.predict_interactions(adata, tfs=["G0"], groupby="grp", settings=cnnc.tl.ScoringSettings(min_cells=0))
    assert sorted(adata.varp) == ["cnnc_A", "cnnc_B"]


def test_a_continuous_groupby_column_is_named_as_such():
    adata = grouped()
    adata.obs["score"] = np.random.default_rng(0).random(adata.n_obs)
    with pytest.raises(ValueError, match=r"continuous values .* does not split the cells into groups.*pd.cut"):
        cnnc.tl.predict_interactions(adata, tfs=["G0"], groupby="score")
    with pytest.raises(ValueError, match="groups is empty"):
        cnnc.tl.predict_interactions(adata, tfs=["G0"], groupby=("grp", []))


def test_pairs_across_modalities_read_min_cells_cells_and_pairs_once():
    mdata = pair_of_modalities()
    cnnc.tl.predict_interactions(
        mdata, model="cnnc-causal", mod=("prot", "rna"), tfs=["p0"], settings=cnnc.tl.ScoringSettings(min_cells=45)
    )
    edges = mdata.uns["cnnc"]["edges"]
    prot, rna = mdata.mod["prot"].X, mdata.mod["rna"].X
    together = {f"r{j}": int(((prot[:, 0] > 0) & (rna[:, j] > 0)).sum()) for j in range(rna.shape[1])}
    assert set(edges["target"]) == {g for g, n in together.items() if n >= 45} and 0 < len(edges) < 12
    assert mdata.uns["cnnc"]["params"]["min_cells"] == 45
    twice = pair_of_modalities()
    cnnc.tl.predict_interactions(
        twice,
        model="cnnc-causal",
        mod=("prot", "rna"),
        pairs=[("p0", "r1"), ("p0", "r1"), ("p1", "r2")],
        settings=cnnc.tl.ScoringSettings(min_cells=0),
    )
    assert len(twice.uns["cnnc"]["edges"]) == 2
    with pytest.raises(ValueError, match="groupby='grp' has no effect for pairs across modalities"):
        cnnc.tl.predict_interactions(twice, model="cnnc-causal", mod=("prot", "rna"), tfs=["p0"], groupby="grp")


def test_a_modality_covering_few_cells_is_refused():
    mdata = pair_of_modalities(prot_cells=10)
    with pytest.raises(ValueError, match="Only 10 cells"):
        cnnc.tl.predict_interactions(mdata, model="cnnc-causal", mod=("prot", "rna"), tfs=["p0"])
    assert "cnnc" not in mdata.uns
