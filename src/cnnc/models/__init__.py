"""Pre-trained CNNC models: the network, its spec, safe file format, and a registry of downloadable models."""

from .._training._causal import train_causal
from ._cnnc import CNNC
from ._io import load_file
from ._model import Model
from ._registry import available, info, load, register
from ._spec import ModelSpec

__all__ = ["CNNC", "Model", "ModelSpec", "available", "info", "load", "load_file", "register", "train_causal"]
