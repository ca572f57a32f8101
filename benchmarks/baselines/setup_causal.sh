#!/usr/bin/env bash
# Create the venv of the pairwise cause-effect baselines of benchmarks/causal.py (never package dependencies):
#   cdt 0.6.0 (IGCI, RECI, ANM, CDS), lingam (DirectLiNGAM), causal-learn, on the CPU build of torch 2.13.0.
# cdt 0.6.0 is installed without its dependency resolution (its GPU/R extras are not needed); the packages its
# pairwise methods import are installed by name. Point the benchmark at it with
#   CNNC_CAUSAL_BASELINES_PYTHON=$VENV/bin/python python -m benchmarks.causal
# (default venv: benchmarks/.venv-causal, or $VENV). The Tübingen pairs are the two CSV files of the same wheel
# (cdt/data/resources/Tuebingen_pairs.csv, Tuebingen_targets.csv): unpack them to $CNNC_TUEBINGEN_DIR.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
venv="${VENV:-$(dirname "$here")/.venv-causal}"
py="${PYTHON:-python3}"

if "$venv/bin/python" -c "import cdt, lingam, causallearn" 2> /dev/null; then
  echo "setup_causal.sh: $venv is ready"
  exit 0
fi
"$py" -m venv "$venv"
"$venv/bin/pip" install -q torch==2.13.0
"$venv/bin/pip" install -q numpy scipy scikit-learn joblib pandas statsmodels networkx skrebate tqdm GPUtil requests \
  lingam causal-learn
tmp="$(mktemp -d)"
"$venv/bin/pip" download -q cdt==0.6.0 --no-deps -d "$tmp"
"$venv/bin/pip" install -q "$tmp"/cdt-0.6.0-py3-none-any.whl --no-deps
rm -rf "$tmp"
"$venv/bin/python" -c "import cdt, lingam, causallearn; print('cdt', cdt.__version__, 'lingam', lingam.__version__)"
