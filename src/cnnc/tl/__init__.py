"""Tools: pair images, training, prediction, evaluation and gene function."""

from ._causal import causal_scores
from ._evaluate import evaluate
from ._function import assign_function
from ._function_settings import FunctionSettings
from ._network import causal_network
from ._pair_histograms import pair_histograms
from ._predict import predict_interactions
from ._settings import ScoringSettings
from ._train import recipes, train
