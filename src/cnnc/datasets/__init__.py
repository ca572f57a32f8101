"""Public data sets: BEELINE's benchmarks, CNNC's labelled gene pairs and Sachs's protein signalling, fetched with pooch and hash-checked.

Files are looked up in ``$CNNC_DATA_DIR`` when it is set (a folder laid out like the registry, e.g. a copy of
the project's shared data folder), else in pooch's cache folder for cnnc, and downloaded there when missing.
"""

from ._beeline import beeline
from ._causal_pairs import causal_pairs
from ._cnnc_pairs import cnnc_pairs
from ._genesets import hallmark
from ._gsd import gsd
from ._sachs import sachs
from ._screen import simulate_screen
from ._tfs import tfs

__all__ = ["beeline", "causal_pairs", "cnnc_pairs", "gsd", "hallmark", "sachs", "simulate_screen", "tfs"]
