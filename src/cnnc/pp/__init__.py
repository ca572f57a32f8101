"""cnnc.pp."""
