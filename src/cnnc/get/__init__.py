"""Getters: results as tables."""

from ._edges import edges, network_diff
