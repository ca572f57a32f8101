"""Plotting: pair images, ROC/PR curves, networks and gene-set membership."""

from ._function import function_candidates, function_heatmap
from ._network import network
from ._network_diff import network_diff
from ._pair import pair_histogram, pair_histograms
from ._roc import pr, roc
