"""The pruning methods: `base` (Method, Point), `registry` (METHODS), the magnitude baselines, one package per paper.

Submodules load on first use (`pl.methods.registry`, `pl.methods.relief`, ...).
"""

import importlib

_MODULES = {
    "base",
    "baselines",
    "registry",
    "magnitude",
    "han",
    "gradual",
    "gumbel",
    "thresholds",
    "relief",
    "neurons",
}


def __getattr__(name: str):
    if name in _MODULES:
        module = importlib.import_module(f".{name}", __name__)
        globals()[name] = module
        return module
    raise AttributeError(f"module 'pruning_lib.methods' has no attribute {name!r}")
