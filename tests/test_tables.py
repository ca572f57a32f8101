"""One reader for tables of gene pairs: every tool reads the same table the same way."""

import pandas as pd
import pytest

from cnnc._tables import pair_table, read_ground_truth, read_pairs
from cnnc._training._labels import edges_frame

from .tl.test_evaluate import TRUTH, _adata


@pytest.mark.parametrize(
    "columns",
    [("regulator", "target"), ("gene_a", "gene_b"), ("Gene1", "Gene2"), ("source", "target"), ("GENE_A", "Gene_B")],
)
def test_every_reader_accepts_the_same_columns(columns, tmp_path):
    table = pd.DataFrame({columns[0]: ["Tf1", "Tf2"], columns[1]: ["G1", "G3"], "weight": [1.0, 2.0]})
    pairs = [("Tf1", "G1"), ("Tf2", "G3")]
    assert read_pairs(table).values.tolist() == [list(p) for p in pairs]
    assert edges_frame(table).values.tolist() == [list(p) for p in pairs]
    assert read_ground_truth(table).values.tolist() == [["tf1", "g1"], ["tf2", "g3"]]
    path = tmp_path / "pairs.csv"
    table.to_csv(path, index=False)
    for source in (pairs, path, str(path)):
        assert read_pairs(source).values.tolist() == [list(p) for p in pairs]
        assert read_ground_truth(source).values.tolist() == [["tf1", "g1"], ["tf2", "g3"]]


def test_unnamed_columns_are_pairs_to_score_but_not_edges():
    table = pd.DataFrame({"x": ["A"], "y": ["B"]})
    assert read_pairs(table).values.tolist() == [["A", "B"]]
    for reader in (read_ground_truth, edges_frame):
        with pytest.raises(ValueError, match=r"named \(regulator, target\), \(gene_a, gene_b\)"):
            reader(table)
    with pytest.raises(ValueError, match="mixes"):
        pair_table([("a", "b"), ("a", "b", 1)], labels=True)


def test_evaluate_and_curves_accept_a_gene_a_gene_b_table():
    import cnnc

    truth = TRUTH.rename(columns={"Gene1": "gene_a", "Gene2": "gene_b"})
    expected = cnnc.tl.evaluate(_adata(), TRUTH)
    pd.testing.assert_frame_equal(cnnc.tl.evaluate(_adata(), truth), expected)
    ax = cnnc.pl.roc(_adata(), ground_truth=truth, show=False)
    assert ax.get_lines()


def test_any_iterable_of_pairs():
    assert read_pairs(zip(["A", "C"], ["B", "D"], strict=True)).values.tolist() == [["A", "B"], ["C", "D"]]
    with pytest.raises(TypeError, match="ground_truth must be"):
        read_ground_truth(42)


def test_a_2d_array_of_pairs_reads_like_a_list_of_tuples():
    import numpy as np

    pairs = [("A", "B"), ("C", "D"), ("A", "D")]
    expected = read_pairs(pairs)
    pd.testing.assert_frame_equal(read_pairs(np.array(pairs)), expected)
    pd.testing.assert_frame_equal(read_pairs(np.array(pairs, dtype=object)), expected)
    assert pair_table(np.array([("A", "B", 1)], dtype=object), labels=True)["label"].tolist() == [1]
    with pytest.raises(ValueError, match=r"\(gene_a, gene_b\) pairs"):
        read_pairs(np.array([("A", "B", "C")]))
