from __future__ import annotations

import numpy as np
import pytest

import cnnc


@pytest.mark.parametrize(
    ("name", "n_pairs", "n_blocks", "one_regulator_per_block"),
    [
        ("mesc_gene_pairs_400", 261873, 38, True),
        ("bone_marrow_gene_pairs_200", 80253, 13, True),
        ("dendritic_gene_pairs_200", 44148, 16, True),
        ("mmukegg_new_new_unique_rand_labelx", 92472, 3057, False),
    ],
)
def test_pairs_labels_and_blocks(name, n_pairs, n_blocks, one_regulator_per_block, data_dir, no_download):
    pairs = cnnc.datasets.cnnc_pairs(name)
    assert list(pairs.columns) == ["gene_a", "gene_b", "label", "block"]
    assert len(pairs) == n_pairs
    assert pairs["label"].value_counts().to_dict() == dict.fromkeys([0, 1, 2], n_pairs // 3)
    assert np.all(np.diff(pairs["block"].to_numpy()) >= 0)
    assert pairs["block"].min() == 0 and pairs["block"].max() == n_blocks - 1
    assert (pairs["gene_a"].str.len() > 0).all() and (pairs["gene_b"].str.len() > 0).all()
    positive = pairs[pairs["label"] == 1]
    swapped = pairs[pairs["label"] == 2]
    assert set(zip(positive["gene_b"], positive["gene_a"], strict=True)) == set(
        zip(swapped["gene_a"], swapped["gene_b"], strict=True)
    )
    if one_regulator_per_block:
        assert (positive.groupby("block")["gene_a"].nunique() == 1).all()
        assert positive.groupby("block").ngroups == n_blocks


def test_first_rows_are_the_published_ones(data_dir, no_download):
    pairs = cnnc.datasets.cnnc_pairs("bone_marrow_gene_pairs_200.txt")
    assert pairs.head(3).to_numpy().tolist() == [
        ["bcl6", "il1a", 1, 0],
        ["il1a", "bcl6", 2, 0],
        ["bcl6", "ebi3", 0, 0],
    ]
    assert (pairs["block"] == 0).sum() == 183


def test_unknown_name(data_dir, no_download):
    with pytest.raises(ValueError, match=r"Unknown CNNC pair set 'mesc'.*'mesc_gene_pairs_400'"):
        cnnc.datasets.cnnc_pairs("mesc")
