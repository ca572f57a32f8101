"""Plotting: pair images, ROC/PR curves and networks."""

from ._pair import pair_histogram, pair_histograms
