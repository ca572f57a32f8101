"""Ranking metrics of scored gene pairs against known edges (as scanpy's ``sc.metrics``): for any method's scores.

:func:`cnnc.tl.evaluate` computes them for a network predicted into an AnnData; these take the labels and scores
of any ranking (a baseline's, a benchmark's) directly.
"""

from .._metrics import auprc, auroc, early_precision, summarize

__all__ = ["auprc", "auroc", "early_precision", "summarize"]
