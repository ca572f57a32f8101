"""Tools: pair images, training, prediction and evaluation."""

from ._evaluate import evaluate
from ._pair_histograms import pair_histograms
from ._predict import predict_interactions
from ._train import recipes, train
