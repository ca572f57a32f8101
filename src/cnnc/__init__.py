"""cnnc: gene-gene regulatory interactions from single-cell expression with convolutional networks on pair images."""

from importlib.metadata import PackageNotFoundError, version

from . import datasets, get, models, pl, tl

try:
    __version__ = version("cnnc")
except PackageNotFoundError:  # running from a source tree without installation
    __version__ = "0.0.0"

__all__ = ["datasets", "get", "models", "pl", "tl", "__version__"]
