"""Preprocessing (none needed yet: cnnc reads log-normalized expression as scanpy leaves it)."""
