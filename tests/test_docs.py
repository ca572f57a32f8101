"""Shared parameter docs are written once and land, indented, where a docstring names them."""

import cnnc
from cnnc._docs import doc_chunk_cells, doc_params


def test_blocks_are_placed_at_the_placeholders_indentation():
    @doc_params(block="one\n    two", inline="first\nsecond")
    def f():
        """Title.

        Parameters
        ----------
        x
            Text. {inline}
        {block}
        y
            Braces of {another: kind} stay.
        """

    assert "        one\n            two\n" in f.__doc__
    assert "            Text. first\n            second\n" in f.__doc__
    assert "{another: kind}" in f.__doc__


def test_public_docstrings_share_one_text():
    first_line = doc_chunk_cells.splitlines()[1].strip()
    for func in (cnnc.tl.pair_histograms, cnnc.tl.ScoringSettings):
        assert first_line in func.__doc__ and "{doc_" not in func.__doc__
    for func in (cnnc.pl.roc, cnnc.pl.pr, cnnc.pl.network, cnnc.pl.pair_histogram, cnnc.pl.pair_histograms):
        assert "sc.settings.autosave" in func.__doc__ and "{doc_" not in func.__doc__
