"""pruning_lib."""
