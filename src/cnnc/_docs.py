"""Parameter docs shared by several public functions, written once (as scanpy's ``_doc_params`` does).

A docstring names a shared block by ``{name}``, on a line of its own (a whole parameter, indented like one) or at the
end of a description's line; :func:`doc_params` puts the block there, its lines indented like that line. Only the
names given are replaced, so other braces in a docstring (``{truth name: table}``) stay as written.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import TypeVar

F = TypeVar("F", bound=Callable)

doc_expression = """\
layer
    Layer holding log-expression instead of ``.X``.
use_raw
    Use ``.raw`` (scanpy's semantics: by default when ``.raw`` is present and no ``layer`` is given)."""

doc_any_values = """\
layer, use_raw
    Where the values are (scanpy semantics; ``use_raw=None`` uses ``.raw`` when present)."""

doc_interventions = """\
interventions
    Column of ``adata.obs`` with each cell's condition (a guide or treatment label, strings or categories), or
    ``None``. Pairs with a perturbed variable on either side get their direction (and score) from how the
    perturbation moves the other variable; see :doc:`/interventions`.
control
    With ``interventions``: the label or labels of the unperturbed cells (e.g. ``"non-targeting"``).
intervention_targets
    With ``interventions``: a dict condition label → the perturbed variable (a name or a list of names), or
    ``None`` for an observational condition, or ``{"targets": name(s), "acts_on": "activity"}`` for a
    perturbation of the targets' activity (an inhibitor or activator: what the targets' own targets read changes,
    their measured level need not), against ``"level"`` (the default: a knock-down, CRISPRi guide, siRNA).
    Default: a label that names a variable perturbs its level (guides named by their gene); any other label must
    be a control."""

doc_uns_result = """\
batch_size
    Pairs per batch of images.
key_added
    Key of the results in ``adata.uns``. A previous result of the same function there is replaced (with a
    warning); another function's result or a user's entry is refused.
copy
    Return a modified copy instead of writing in place."""

doc_pair_table = """\
A table of gene pairs: a DataFrame whose gene columns are named ``regulator``/``target``, ``gene_a``/``gene_b``,
``Gene1``/``Gene2`` (BEELINE) or ``source``/``target`` (any case; the first of these found), a list of
``(gene_a, gene_b)`` tuples or a 2-d array of such rows, or the path of a CSV file with such columns."""

doc_chunk_cells = """\
chunk_cells
    Cells read at a time (default 20,000): memory is bounded by one block of cells, for large, backed or lazy data.
    Results do not depend on it."""

doc_ax = """\
ax
    Axes to draw into; default: a new figure."""

doc_show_save = """\
show
    Show the figure; default ``sc.settings.autoshow``.
save
    ``True`` writes the figure to ``sc.settings.figdir``, named after the plot (e.g. ``roc.pdf``); a suffix such as
    ``"_cnnc.png"`` is appended to that name (its extension sets the format); a path (a :class:`~pathlib.Path`, or a
    string with a directory part) is written as given. Default ``sc.settings.autosave``.
return_fig
    Return the :class:`~matplotlib.figure.Figure` instead of the Axes."""


def doc_params(**blocks: str) -> Callable[[F], F]:
    """Put ``blocks[name]`` where the decorated object's docstring says ``{name}``, its lines indented like that line."""

    def decorate(obj: F) -> F:
        doc = obj.__doc__
        for name, text in blocks.items():
            pattern = re.compile(rf"^(?P<indent>[ \t]*)(?P<before>.*?)\{{{name}\}}", re.M)
            if not pattern.search(doc):
                raise ValueError(f"{obj.__qualname__}'s docstring has no {{{name}}}.")
            doc = pattern.sub(
                lambda m, text=text: m["indent"] + m["before"] + _indent_after_first(text, m["indent"]), doc
            )
        obj.__doc__ = doc
        return obj

    return decorate


def _indent_after_first(text: str, indent: str) -> str:
    first, *rest = text.split("\n")
    return "\n".join([first, *(indent + line if line else line for line in rest)])
