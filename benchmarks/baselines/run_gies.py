"""Run GIES (PyPI ``gies``, Hauser & Bühlmann 2012) on environments given in an .npz; write the essential graph.

Runs inside its own venv (numpy + gies): ``python run_gies.py IN.npz OUT.npy``. ``IN.npz`` holds ``X`` (samples ×
variables), ``env`` (each sample's environment index) and ``targets`` (a JSON list, per environment, of the
intervened variable indices). ``OUT.npy``: the adjacency of the I-essential graph (``A[i, j] != 0``: ``i -> j``;
both ways: undirected).
"""

import json
import sys

import gies
import numpy as np

if __name__ == "__main__":
    data = np.load(sys.argv[1])
    env, x = data["env"], data["X"]
    targets = json.loads(str(data["targets"]))
    estimate, _ = gies.fit_bic([x[env == k] for k in range(len(targets))], targets)
    np.save(sys.argv[2], np.asarray(estimate))
