#!/usr/bin/env bash
# Create the venv of the GIES baseline of benchmarks/interventions.py (never a package dependency):
#   benchmarks/.venv-gies   gies 0.0.3 (PyPI; Hauser & Bühlmann 2012) and numpy
# The benchmark uses it by default; another interpreter with `gies` installed can be named with
#   CNNC_GIES_PYTHON=/path/to/python python -m benchmarks.interventions
# Idempotent: a venv whose import check passes is left alone. Re-create it with FORCE=1. Python: $PYTHON if set,
# else `python3`; the venv lands in $VENV if set.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
venv="${VENV:-$(dirname "$here")/.venv-gies}"
py="${PYTHON:-python3}"
check='import importlib.metadata as m, gies, numpy; assert m.version("gies") == "0.0.3", m.version("gies")'

if [[ "${FORCE:-0}" != "1" && -x "$venv/bin/python" ]] && "$venv/bin/python" -c "$check" 2> /dev/null; then
  echo "setup_gies.sh: $venv already works: skipped (FORCE=1 to rebuild)"
  exit 0
fi
rm -rf "$venv"
"$py" -m venv "$venv"
printf '*\n' > "$venv/.gitignore"  # keep the venv out of git whatever the repo's .gitignore says
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check gies==0.0.3 numpy
"$venv/bin/python" -c "$check"
echo "setup_gies.sh: $venv ready"
