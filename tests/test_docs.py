"""Shared parameter docs are written once and land, indented, where a docstring names them."""

from pathlib import Path

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
    for func in (cnnc.tl.pair_histograms, cnnc.tl.predict_interactions):
        assert first_line in func.__doc__ and "{doc_" not in func.__doc__
    for func in (cnnc.pl.roc, cnnc.pl.pr, cnnc.pl.network, cnnc.pl.pair_histogram, cnnc.pl.pair_histograms):
        assert "sc.settings.autosave" in func.__doc__ and "{doc_" not in func.__doc__


def test_tutorials_store_no_outputs():
    """Tutorial outputs come from the docs build's execution, never from a stored (possibly stale) run."""
    import json

    notebooks = sorted((Path(__file__).parents[1] / "tutorials").glob("*.ipynb"))
    assert notebooks
    for path in notebooks:
        for cell in json.loads(path.read_text(encoding="utf-8"))["cells"]:
            if cell["cell_type"] == "code":
                assert not cell.get("outputs") and cell.get("execution_count") is None, (
                    f"{path.name} stores outputs: clear them (e.g. jupyter nbconvert --clear-output --inplace "
                    f"{path.name}); the docs build executes the tutorials."
                )


def test_docs_execute_the_tutorials():
    text = (Path(__file__).parents[1] / "docs" / "conf.py").read_text(encoding="utf-8")
    assert 'nb_execution_mode = "force" if EXECUTE else "off"' in text
