"""The version of cnnc: the single source (the package metadata reads it from here at build time)."""

__version__ = "0.2.0"
