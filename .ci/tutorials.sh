#!/usr/bin/env bash
# Tutorials CI: execute every notebook in tutorials/ from top to bottom, offline, and fail on the first error.
# Notebooks are stored without outputs (tests/test_docs.py refuses stored outputs; the docs build executes them, see
# docs/conf.py); here they are executed into a temporary folder, with this checkout's cnnc.
#
# The notebook tools and the tutorials' own dependencies (decoupler, igraph for Leiden clustering) go into a virtual
# environment that sees the system site-packages (torch, scanpy, cnnc ...), so they never change the system Python.
# Set CNNC_TUTORIALS_VENV to put it elsewhere. Real data come from ../shared/data when it is there (else
# cnnc.datasets downloads them).
set -euo pipefail
cd "$(dirname "$0")/.."
start=$(date +%s)

venv="${CNNC_TUTORIALS_VENV:-.venv-tutorials}"
if [ ! -x "$venv/bin/python" ]; then
    python -m venv --system-site-packages "$venv"
fi
py="$venv/bin/python"
pip_install() { "$py" -m pip install -q --disable-pip-version-check "$@"; }
# torch==2.13.0 first (the CPU build; an unpinned torch pulls a multi-GB CUDA build), then cnnc itself.
pip_install torch==2.13.0
pip_install -e .
# Notebook execution, progress bars without warnings, and what the tutorials use beyond cnnc's dependencies.
pip_install nbconvert ipykernel ipywidgets "decoupler>=2,<3" igraph

# The kernel is started as `python -m ipykernel_launcher`: make `python` the virtual environment's.
export PATH="$(cd "$venv/bin" && pwd):$PATH"
export PYTHONPATH="$(pwd)/src${PYTHONPATH:+:$PYTHONPATH}"
if [ -d ../shared/data ]; then export CNNC_DATA_DIR="$(cd ../shared/data && pwd)"; fi

out="$(mktemp -d)"
trap 'rm -rf "$out"' EXIT
shopt -s nullglob
notebooks=(tutorials/*.ipynb)
if [ ${#notebooks[@]} -eq 0 ]; then
    echo "No notebooks in tutorials/." >&2
    exit 1
fi
for nb in "${notebooks[@]}"; do
    t0=$(date +%s)
    # The kernel's working directory is the notebook's own folder (tutorials/), as when a user opens it.
    "$py" -m nbconvert --to notebook --execute --output-dir "$out" \
        --ExecutePreprocessor.timeout=900 --ExecutePreprocessor.kernel_name=python3 "$nb" \
        || { echo "FAILED: $nb (the cell and its error are above)." >&2; exit 1; }
    echo "executed $nb in $(( $(date +%s) - t0 )) s"
done

echo "Tutorials executed in $(( $(date +%s) - start )) s"
