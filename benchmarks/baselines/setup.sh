#!/usr/bin/env bash
# Create the two isolated venvs used by the benchmark-only baselines (never package dependencies):
#   benchmarks/.venv-grnboost2     arboreto 0.1.6 (GRNBoost2) on the last dask/pandas/scikit-learn it runs on unchanged
#   benchmarks/.venv-regdiffusion  regdiffusion 0.2.3 on the CPU build of torch 2.13.0
# (GIES, for benchmarks/interventions.py: its sibling setup_gies.sh makes benchmarks/.venv-gies.)
# Idempotent: a venv whose import check passes is left alone. Re-create one with FORCE=1.
# Python: $PYTHON if set, else `python3` (must be 3.9-3.11: numpy 1.24.4 has no wheels for newer Pythons).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
bench="$(dirname "$here")"
py="${PYTHON:-python3}"
force="${FORCE:-0}"

if ! command -v "$py" > /dev/null; then
  echo "setup.sh: '$py' not found; set PYTHON=/path/to/python3.11" >&2
  exit 1
fi
if ! "$py" -c 'import sys; sys.exit(0 if (3, 9) <= sys.version_info[:2] <= (3, 11) else 1)'; then
  echo "setup.sh: $("$py" --version) is not supported: the pinned numpy 1.24.4 needs Python 3.9-3.11;" \
       "set PYTHON=/path/to/python3.11" >&2
  exit 1
fi

# Pins of the GRNBoost2 venv. arboreto 0.1.6 (last release, 2021) fails on current dask/distributed; 2023.4.1 is the
# newest pair it runs on unchanged. scikit-learn >= 1.3 changed GradientBoostingRegressor's monitor/warm-start
# behaviour so arboreto's early-stopping window stops boosting after ~28 trees; 1.2.2 keeps the published behaviour.
# The transitive pins are the versions resolved and verified together (benchmarks/baselines/README.md).
grnboost2_pins=(
  arboreto==0.1.6
  dask==2023.4.1
  distributed==2023.4.1
  pandas==2.0.3
  numpy==1.24.4
  scikit-learn==1.2.2
  scipy==1.15.3
  pyarrow==26.0.1
  bokeh==3.9.2
  cloudpickle==3.1.3
  msgpack==1.2.4
  tornado==6.6.1
  toolz==1.2.0
  partd==1.4.2
  fsspec==2026.9.0
  joblib==1.6.0
  threadpoolctl==3.8.0
)
grnboost2_check='
import importlib.metadata as m
import arboreto.algo, dask, distributed, sklearn, pandas, numpy
want = {"arboreto": "0.1.6", "dask": "2023.4.1", "distributed": "2023.4.1", "scikit-learn": "1.2.2",
        "pandas": "2.0.3", "numpy": "1.24.4"}
bad = {k: m.version(k) for k, v in want.items() if m.version(k) != v}
assert not bad, bad
'

# Pins of the regdiffusion venv. torch first and always with ==2.13.0: a bare `torch` (regdiffusion requires an
# unpinned one) would pull a multi-GB CUDA build. pip takes the 2.13.0+cpu wheel where one lies in its find-links.
regdiffusion_pins=(
  regdiffusion==0.2.3
  torch==2.13.0
  numpy==2.4.6
  pandas==2.3.3
  scipy==1.17.1
  scikit-learn==1.9.1
  scanpy==1.11.5
  anndata==0.12.19
  h5py==3.16.0
  pyvis==0.3.2
  tqdm==4.70.1
)
regdiffusion_check='
import importlib.metadata as m
import regdiffusion, torch
assert m.version("regdiffusion") == "0.2.3", m.version("regdiffusion")
assert torch.__version__.split("+")[0] == "2.13.0", torch.__version__
'

make_venv() {  # name, check-code, pip-steps...
  local name="$1" check="$2"
  shift 2
  local venv="$bench/.venv-$name"
  local t0=$SECONDS
  if [[ "$force" != "1" && -x "$venv/bin/python" ]] && "$venv/bin/python" -c "$check" 2> /dev/null; then
    echo "[$name] $venv already works: skipped (FORCE=1 to rebuild)"
    return 0
  fi
  echo "[$name] creating $venv"
  rm -rf "$venv"
  "$py" -m venv "$venv"
  printf '*\n' > "$venv/.gitignore"  # keep the venv out of git whatever the repo's .gitignore says
  local step
  for step in "$@"; do
    echo "[$name] pip install $step"
    # shellcheck disable=SC2086
    "$venv/bin/python" -m pip install --quiet --disable-pip-version-check $step
  done
  if ! "$venv/bin/python" -c "$check"; then
    echo "[$name] import check failed after install" >&2
    return 1
  fi
  echo "[$name] ready in $((SECONDS - t0)) s"
}

t_all=$SECONDS
make_venv grnboost2 "$grnboost2_check" "${grnboost2_pins[*]}"
make_venv regdiffusion "$regdiffusion_check" "torch==2.13.0" "${regdiffusion_pins[*]}"
echo "setup.sh: both baseline venvs ready in $((SECONDS - t_all)) s"
