"""cnnc: gene-gene regulatory interactions from single-cell expression with convolutional networks on pair images."""

from . import datasets, get, metrics, models, pl, tl
from ._version import __version__

__all__ = ["datasets", "get", "metrics", "models", "pl", "tl", "__version__"]
