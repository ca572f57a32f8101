"""Project-wide fixtures: the public data folder beside the checkout, used by cnnc.datasets through CNNC_DATA_DIR."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest
import torch

import cnnc

SHARED_DATA = Path(__file__).parents[1].parent / "shared" / "data"


@pytest.fixture(autouse=True, scope="session")
def _cnnc_data_dir():
    """Point CNNC_DATA_DIR at the shared data folder (unless set) so that datasets are read, not downloaded."""
    if SHARED_DATA.is_dir() and not os.environ.get("CNNC_DATA_DIR"):
        os.environ["CNNC_DATA_DIR"] = str(SHARED_DATA)
        yield
        os.environ.pop("CNNC_DATA_DIR", None)
    else:
        yield


@pytest.fixture
def shared_data() -> Path:
    """The shared data folder; tests that need it fail (not skip) when it is missing."""
    if not SHARED_DATA.is_dir():
        pytest.fail(
            f"The public data folder is missing: expected it at {SHARED_DATA} (beside the checkout, "
            "as ../shared/data). Copy it there, or run the tests from a checkout that has it."
        )
    return SHARED_DATA


@pytest.fixture(scope="session")
def gsd():
    """BEELINE's synthetic GSD data (2,000 cells × 19 genes) with its known network."""
    return cnnc.datasets.gsd()


@pytest.fixture(scope="session")
def tiny_model(gsd):
    """A small CNNC really trained (2 epochs) on the GSD network: real weights, cheap to run."""
    torch.set_num_threads(1)
    adata = gsd.copy()
    return cnnc.tl.train(
        adata,
        adata.uns["ground_truth"],
        folds=0,
        epochs=2,
        architecture={"filters": [4, 8, 8], "dense": 16},
        recipe="cnnc-original",
        name="tiny-gsd",
        random_state=0,
    )


@pytest.fixture
def regulators(gsd):
    return sorted(gsd.uns["ground_truth"]["regulator"].unique().tolist())


@pytest.fixture
def rng():
    return np.random.default_rng(0)
