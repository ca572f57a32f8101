"""cnnc.get."""
