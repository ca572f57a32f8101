"""Sphinx configuration of cnnc's documentation.

Build (warnings are errors, works offline): ``bash .ci/docs.sh``, or by hand::

    pip install -e '.[doc]'
    sphinx-build -W --keep-going -b html docs docs/_build/html

Offline by default: intersphinx links to scanpy, anndata, mudata, numpy, pandas, scipy, matplotlib, torch and
Python are only switched on when the environment variable ``CNNC_DOCS_ONLINE=1`` is set (fetching the
inventories needs the network). Offline, references to those projects' types render as plain code, without a
warning (``nitpicky = False``).

Two things are generated here at every build, into git-ignored paths (see ``docs/.gitignore``):

- ``docs/tutorials/``: the notebooks of ``../tutorials/*.ipynb`` are copied in and ``docs/tutorials/index.md``
  lists them. The notebooks are stored without outputs (a test refuses stored outputs) and every build executes
  them (``nb_execution_mode = "force"``) with this source tree's cnnc (``src`` first on the kernel's
  ``PYTHONPATH``) and the public data of ``../shared/data`` when it is there (``CNNC_DATA_DIR``): every output shown
  comes from the code of the same commit. ``CNNC_DOCS_EXECUTE=0`` skips the execution for a quick look at the
  text (the tutorials then show no outputs); a notebook that fails fails the build.
- ``docs/_auto/benchmark_tables.md``: the benchmarks page's body. It includes every table the benchmark scripts
  wrote to ``docs/_generated/*.md``; a known table that is missing shows a short note naming the script to run.

Autosummary stubs of entries removed from ``api.md`` are deleted, and the build warns (fails, with ``-W``) when
a public function or class of ``cnnc.tl/pl/get/models/datasets`` is missing from ``api.md``.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import sys
import warnings
from datetime import date
from pathlib import Path

from sphinx.ext.napoleon.docstring import NumpyDocstring

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT / "src"))  # document the source tree, installed or not

import cnnc  # noqa: E402

# sphinx-autodoc-typehints calls an API that Sphinx 10 removes; nothing for cnnc to fix.
warnings.filterwarnings("ignore", message=r".*_RstSnippetParser\.set_application.*")

# -- Project -----------------------------------------------------------------------------------------------------
project = "cnnc"
author = "cnnc developers"
copyright = f"{date.today().year}, {author}"
release = cnnc.__version__
version = ".".join(release.split(".")[:2])

# -- Extensions --------------------------------------------------------------------------------------------------
ONLINE = os.environ.get("CNNC_DOCS_ONLINE", "") == "1"

extensions = [
    "myst_nb",
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.napoleon",
    "sphinx_autodoc_typehints",  # after napoleon
    "sphinx.ext.mathjax",
    "sphinx.ext.viewcode",
]
if ONLINE:
    extensions.append("sphinx.ext.intersphinx")

intersphinx_mapping = {
    "python": ("https://docs.python.org/3", None),
    "anndata": ("https://anndata.readthedocs.io/en/stable/", None),
    "mudata": ("https://mudata.readthedocs.io/en/latest/", None),
    "scanpy": ("https://scanpy.readthedocs.io/en/stable/", None),
    "numpy": ("https://numpy.org/doc/stable/", None),
    "pandas": ("https://pandas.pydata.org/pandas-docs/stable/", None),
    "scipy": ("https://docs.scipy.org/doc/scipy/", None),
    "matplotlib": ("https://matplotlib.org/stable/", None),
    "torch": ("https://docs.pytorch.org/docs/stable/", None),
}
intersphinx_timeout = 10

# Unresolved cross-references (offline: every external type) render as code and do not warn.
nitpicky = False

# .rst first: autosummary writes its stub pages (reStructuredText) with the first suffix.
source_suffix = {".rst": "restructuredtext", ".md": "myst-nb", ".ipynb": "myst-nb"}
root_doc = "index"
templates_path = ["_templates"]
exclude_patterns = ["_build", "_generated", "_auto", "**.ipynb_checkpoints", ".gitignore", "Thumbs.db", ".DS_Store"]

# -- MyST / myst-nb ----------------------------------------------------------------------------------------------
myst_enable_extensions = ["colon_fence", "deflist", "dollarmath", "amsmath", "html_image", "substitution"]
myst_heading_anchors = 3
myst_substitutions = {"version": release}
# Tutorials are executed at every build: their outputs always come from the code being documented.
EXECUTE = os.environ.get("CNNC_DOCS_EXECUTE", "1") != "0"
nb_execution_mode = "force" if EXECUTE else "off"
nb_execution_timeout = 1800  # seconds per notebook (the slowest takes ~1-2 min on 2 busy cores)
nb_execution_raise_on_error = True
nb_execution_show_tb = True
nb_merge_streams = True
# The kernel imports the documented source tree and reads the project's public data when it sits beside the checkout.
os.environ["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT / "src"), os.environ.get("PYTHONPATH", "")]))
if (ROOT.parent / "shared" / "data").is_dir():
    os.environ.setdefault("CNNC_DATA_DIR", str((ROOT.parent / "shared" / "data").resolve()))

# -- autodoc / autosummary / napoleon ----------------------------------------------------------------------------
autosummary_generate = True
autosummary_imported_members = False
autodoc_member_order = "bysource"
autodoc_default_options = {"members": True, "show-inheritance": True}
autodoc_typehints = "description"  # sphinx-autodoc-typehints puts the types into the parameter list
autoclass_content = "class"
napoleon_numpy_docstring = True
napoleon_google_docstring = False
napoleon_include_init_with_doc = False
napoleon_use_rtype = True
napoleon_use_param = True
napoleon_custom_sections = [("Params", "Parameters")]
typehints_defaults = "braces"
always_use_bars_union = True
typehints_document_rtype = True


def _parse_returns_section(self: NumpyDocstring, section: str) -> list[str]:
    """Read a numpydoc ``Returns`` section as prose, as scanpy writes them (the type is in the signature).

    Napoleon takes the first line of ``Returns`` for the return *type*; cnnc's docstrings describe what is returned
    (and what is written into the AnnData) instead, and sphinx-autodoc-typehints adds the type from the annotation.
    (sphinx-autodoc-typehints marks such sections with a lone ``:`` line, which is dropped here.)
    """
    lines = self._strip_empty(self._dedent(self._consume_to_next_section()))
    if lines and lines[0].strip() == ":":
        lines = self._strip_empty(lines[1:])
    return [*self._format_block(":returns: ", lines), ""] if lines else []


NumpyDocstring._parse_returns_section = _parse_returns_section


def _skip_member(app, what: str, name: str, obj, skip: bool, options) -> bool | None:
    """Leave torch's ``extra_repr`` hook (printing only) out of the API reference."""
    return True if name == "extra_repr" else None


# -- HTML --------------------------------------------------------------------------------------------------------
html_theme = "sphinx_book_theme"
html_title = "cnnc"
html_static_path: list[str] = []
html_theme_options = {"navigation_with_keys": False, "show_toc_level": 2}
html_show_sourcelink = False

# -- Generated inputs --------------------------------------------------------------------------------------------
AUTO = HERE / "_auto"
GENERATED = HERE / "_generated"
TUTORIALS_SRC = ROOT / "tutorials"
TUTORIALS_DST = HERE / "tutorials"
TUTORIAL_ASSETS = (".png", ".jpg", ".jpeg", ".gif", ".svg")

# Tables the benchmarks write (``docs/_generated/<file>``): file → (section title, command that makes it, run from the
# repository root).
# Any other ``docs/_generated/*.md`` is included too, after these, under its own headings.
BENCHMARK_TABLES = {
    "accuracy.md": ("Within a data set: the faithful CNNC, regulator-disjoint CV", "python -m benchmarks.accuracy"),
    "transfer.md": ("Unseen cell types: the default model", "python -m benchmarks.transfer"),
    "histograms.md": ("Pair-image engine speed", "python -m benchmarks.histograms"),
    "limits.md": ("Against the machine's limits", "python -m benchmarks.limits"),
    "scale.md": ("Scale: 10⁴ cells in memory, 10⁶ cells from disk", "python -m benchmarks.scale --part all"),
    "transfer_probes.md": (
        "What limits the default on unseen cell types: per-truth images, stacking, clusters",
        "python -m benchmarks.transfer_probes",
    ),
    "time_lag.md": ("Direction from time-lagged trajectories", "python -m benchmarks.time_lag"),
    "direction.md": (
        "Direction from pair images: a rule chosen on training cell types",
        "python -m benchmarks.direction",
    ),
    "direction_time.md": (
        "Direction from time (time_key): simulations and real time courses",
        "python -m benchmarks.direction_time",
    ),
    "direction_cost.md": (
        "Do the pair images pay for themselves? Cost against the prior alone",
        "python -m benchmarks.direction_cost",
    ),
    "original_cv.md": (
        "The faithful CNNC by its paper's protocol: regulator-disjoint CV",
        "python -m benchmarks.original_cv",
    ),
    "function.md": (
        "Gene function: hidden WikiPathways and Hallmark members",
        "python -m benchmarks.function && python -m benchmarks.function --explain",
    ),
    "pathways.md": (
        "Pathway edges: CNNC's KEGG pairs, gene-disjoint CV",
        "the retired benchmarks/pathways.py (repository history, commit 1f39d38 and earlier)",
    ),
    "causal.md": ("Cause and effect on single-cell protein data (Sachs)", "python -m benchmarks.causal"),
    "causal_select.md": (
        "Choosing a cause-effect model: two held-out synthetic families and Sachs",
        "python -m benchmarks.causal_select",
    ),
    "causal_select_round3.md": (
        "Choosing a cause-effect model, third round: a held-out synthetic family and Sachs",
        "python -m benchmarks.causal_select (third round's candidates, results in causal_select_round3.json)",
    ),
}


def _write_if_changed(path: Path, text: str) -> None:
    """Write ``text`` unless the file already holds it (keeps Sphinx's incremental rebuilds incremental)."""
    if not path.exists() or path.read_text(encoding="utf-8") != text:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")


def _read_notebook(path: Path) -> dict:
    try:
        nb = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as e:
        raise RuntimeError(f"Tutorial {path} is not a readable notebook ({e}); fix or remove it.") from e
    if not isinstance(nb, dict) or not isinstance(nb.get("cells"), list):
        raise RuntimeError(f"Tutorial {path} is not a Jupyter notebook (no list of cells); fix or remove it.")
    return nb


def _notebook_title(nb: dict) -> str | None:
    """The first level-1 markdown heading of a notebook, or ``None``."""
    for cell in nb["cells"]:
        if cell.get("cell_type") != "markdown":
            continue
        source = cell.get("source", "")
        for line in (source if isinstance(source, str) else "".join(source)).splitlines():
            if line.startswith("# "):
                return line[2:].strip()
    return None


def copy_tutorials() -> list[Path]:
    """Mirror ``../tutorials/*.ipynb`` (and images beside them) into ``docs/tutorials``; write its index page.

    A notebook must start its page with a level-1 markdown heading (its title in the menu). Notebooks saved
    without language metadata get ``language_info.name = "python"`` in the copy, for syntax highlighting.
    """
    TUTORIALS_DST.mkdir(exist_ok=True)
    sources = sorted(TUTORIALS_SRC.glob("*.ipynb")) if TUTORIALS_SRC.is_dir() else []
    assets = [p for p in TUTORIALS_SRC.iterdir() if p.suffix.lower() in TUTORIAL_ASSETS] if sources else []
    wanted = {p.name for p in sources + assets} | {"index.md"}
    for stale in TUTORIALS_DST.iterdir():  # the folder is generated: drop what left ../tutorials
        if stale.name not in wanted:
            shutil.rmtree(stale) if stale.is_dir() else stale.unlink()
    for src in assets:
        dst = TUTORIALS_DST / src.name
        if not dst.exists() or dst.read_bytes() != src.read_bytes():
            shutil.copy2(src, dst)
    for src in sources:
        nb = _read_notebook(src)
        if _notebook_title(nb) is None:
            raise RuntimeError(
                f"Tutorial {src} has no title: add a markdown cell with a '# <title>' heading at its top."
            )
        meta = nb.setdefault("metadata", {})
        if not meta.get("language_info") and not meta.get("kernelspec"):
            meta["language_info"] = {"name": "python"}
        _write_if_changed(TUTORIALS_DST / src.name, json.dumps(nb, indent=1, ensure_ascii=False) + "\n")

    lines = [
        "<!-- Generated by docs/conf.py from ../tutorials/*.ipynb at every build; edit the notebooks there. -->",
        "",
        "# Tutorials",
        "",
    ]
    if sources:
        lines += [
            "Notebooks from the repository's `tutorials/` folder, executed when this documentation was built: every"
            " output comes from the documented version of cnnc.",
            "",
            "```{toctree}",
            ":maxdepth: 1",
            "",
            *(nb.stem for nb in sources),
            "```",
            "",
        ]
    else:
        lines += [
            "No tutorial notebooks yet. Notebooks added to the repository's `tutorials/` folder appear here at the",
            "next build.",
            "",
        ]
    _write_if_changed(TUTORIALS_DST / "index.md", "\n".join(lines))
    return sources


def write_benchmark_tables() -> None:
    """Write ``docs/_auto/benchmark_tables.md``: every generated table, or a note naming the script to run."""
    lines = ["<!-- Generated by docs/conf.py at every build from docs/_generated/*.md; do not edit. -->", ""]
    for name, (title, command) in BENCHMARK_TABLES.items():
        lines += [f"## {title}", ""]
        if (GENERATED / name).is_file():
            lines += [f"```{{include}} /_generated/{name}", "```", ""]
        else:
            lines += [
                ":::{note}",
                f"Not yet generated — `{command}` produces `docs/_generated/{name}`; run it, then rebuild the docs.",
                ":::",
                "",
            ]
    extra = (
        sorted(p.name for p in GENERATED.glob("*.md") if p.name not in BENCHMARK_TABLES) if GENERATED.is_dir() else []
    )
    for name in extra:  # a table without a heading of its own gets one from its file name
        text = (GENERATED / name).read_text(encoding="utf-8").lstrip()
        if not text.startswith("#"):
            lines += [f"## {Path(name).stem.replace('_', ' ').capitalize()}", ""]
        lines += [f"```{{include}} /_generated/{name}", "```", ""]
    _write_if_changed(AUTO / "benchmark_tables.md", "\n".join(lines))


NAMESPACES = ("tl", "pl", "get", "metrics", "models", "datasets")


def _public_api() -> set[str]:
    """``namespace.name`` of every public function and class the namespaces of cnnc export."""
    import importlib
    import inspect

    names = set()
    for ns in NAMESPACES:
        module = importlib.import_module(f"cnnc.{ns}")
        exported = getattr(module, "__all__", [n for n in vars(module) if not n.startswith("_")])
        for name in exported:
            obj = getattr(module, name)
            if (inspect.isfunction(obj) or inspect.isclass(obj)) and obj.__module__.startswith("cnnc."):
                names.add(f"{ns}.{name}")
    return names


def _listed_in_api_page() -> set[str]:
    """``namespace.name`` of every autosummary entry of ``api.md``."""
    text = (HERE / "api.md").read_text(encoding="utf-8")
    return set(re.findall(rf"^\s+((?:{'|'.join(NAMESPACES)})\.\w+)\s*$", text, flags=re.MULTILINE))


def remove_stale_stubs() -> None:
    """Delete autosummary stubs (``docs/generated``) of entries no longer in ``api.md`` (renamed, removed)."""
    listed = _listed_in_api_page()
    for stub in (HERE / "generated").glob("cnnc.*.rst"):
        if stub.stem.removeprefix("cnnc.") not in listed:
            stub.unlink()


def _check_api_page(app) -> None:
    """Warn (an error with ``-W``) when a public function or class is missing from ``api.md``, or vice versa."""
    from sphinx.util import logging

    listed = _listed_in_api_page()
    logger = logging.getLogger("cnnc.docs")
    for name in sorted(_public_api() - listed):
        logger.warning(f"cnnc.{name} is public but not in docs/api.md: add it to the autosummary of its section.")
    for name in sorted(listed - _public_api()):
        logger.warning(f"docs/api.md lists cnnc.{name}, which cnnc does not export: remove it.")


# Generate the build inputs (see the module docstring).
copy_tutorials()
write_benchmark_tables()
remove_stale_stubs()


def setup(app) -> None:
    app.connect("autodoc-skip-member", _skip_member)
    app.connect("builder-inited", _check_api_page)
