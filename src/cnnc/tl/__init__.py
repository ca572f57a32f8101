"""Tools: pair images, training, prediction and evaluation."""

from ._pair_histograms import pair_histograms
