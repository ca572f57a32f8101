"""Private training machinery: labels, folds, the fit loop."""
