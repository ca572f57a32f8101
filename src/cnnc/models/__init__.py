"""Pre-trained CNNC models: the network, its spec, safe file format and a registry of downloadable models.

Also the context prior the models' features are made from (:class:`ContextStatistics`, :func:`context_z`,
:data:`MEASURES`, :data:`MARGINAL_FEATURES`).
"""

from .._prior import MARGINAL_FEATURES, MEASURES, ContextStatistics, context_z
from .._training._causal import train_causal, train_causal_resolutions
from ._cnnc import CNNC
from ._io import load_file
from ._model import Model
from ._registry import available, info, load, register
from ._spec import ModelSpec

__all__ = [
    "CNNC",
    "MARGINAL_FEATURES",
    "MEASURES",
    "ContextStatistics",
    "Model",
    "ModelSpec",
    "available",
    "context_z",
    "info",
    "load",
    "load_file",
    "register",
    "train_causal",
    "train_causal_resolutions",
]
