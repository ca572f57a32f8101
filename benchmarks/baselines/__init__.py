"""Benchmark-only baselines (GRNBoost2, regdiffusion), each run in its own venv; see README.md."""

from .api import BaselineUnavailableError, grnboost2, regdiffusion

__all__ = ["BaselineUnavailableError", "grnboost2", "regdiffusion"]
