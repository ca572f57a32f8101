#!/usr/bin/env bash
# Docs CI: install the doc dependencies and build the HTML documentation with warnings as errors. Works offline
# (intersphinx is only switched on with CNNC_DOCS_ONLINE=1; see docs/conf.py). The build executes every tutorial
# (their outputs are never stored: they come from this commit's code); CNNC_DOCS_EXECUTE=0 skips that.
#
# The doc tools go into a virtual environment that sees the system site-packages (torch, scanpy, cnnc ...), so
# their pins (e.g. a newer docutils) never change the system Python. Set CNNC_DOCS_VENV to put it elsewhere.
# (pip may report that a system package, e.g. awscli, wants an older docutils: that concerns this venv's view only.)
set -euo pipefail
cd "$(dirname "$0")/.."
start=$(date +%s)

venv="${CNNC_DOCS_VENV:-docs/_build/venv}"
if [ ! -x "$venv/bin/python" ]; then
    python -m venv --system-site-packages "$venv"
fi
py="$venv/bin/python"
# torch==2.13.0 first (the CPU build; an unpinned torch pulls a multi-GB CUDA build), then cnnc with its doc extra.
"$py" -m pip install -q --disable-pip-version-check torch==2.13.0
"$py" -m pip install -q --disable-pip-version-check -e '.[doc]'
# The build executes the tutorials (docs/conf.py): a kernel, and what the tutorials use beyond cnnc's dependencies.
"$py" -m pip install -q --disable-pip-version-check ipykernel ipywidgets "decoupler>=2,<3" igraph
# The kernel is started as `python -m ipykernel_launcher`: make `python` the virtual environment's.
export PATH="$(cd "$venv/bin" && pwd):$PATH"

"$py" -m sphinx -W --keep-going -b html docs docs/_build/html

echo "Docs built in docs/_build/html in $(( $(date +%s) - start )) s"
