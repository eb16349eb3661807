"""One plotting module per notebook, for figures that take more than a few lines (the notebooks call them)."""

import importlib

_MODULES = {"basics", "gumbel", "thresholds", "relief", "neurons", "head_to_head"}


def __getattr__(name: str):
    if name in _MODULES:
        module = importlib.import_module(f".{name}", __name__)
        globals()[name] = module
        return module
    raise AttributeError(f"module 'pruning_lib.plots' has no attribute {name!r}")
