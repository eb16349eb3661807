"""pruning_lib: the thin library behind the pruning reproducibility notebooks (`import pruning_lib as pl`).

Submodules load on first use (`pl.data`, `pl.train`, `pl.magnitude`, ...), so `python -m pruning_lib.data`
and friends run without importing the rest.
"""

import importlib

from .malloc import keep_freed_memory

keep_freed_memory()  # freed tensors stay in the process: repeated steps stop page-faulting (PRUNING_MALLOC=0: off)

__version__ = "0.1.0"
_MODULES = {
    "bench",
    "cache",
    "checks",
    "compare",
    "data",
    "dense",
    "exercises",
    "files",
    "frontier",
    "inference",
    "jobs",
    "latency",
    "malloc",
    "masks",
    "methods",
    "metrics",
    "models",
    "paths",
    "plots",
    "plotting",
    "readme",
    "reference",
    "report",
    "run",
    "stats",
    "timings",
    "train",
    "verdicts",
}
_ALIASES = {"magnitude": "methods.magnitude"}
__all__ = sorted(_MODULES | set(_ALIASES) | {"setup_run"})


def __getattr__(name: str):
    if name == "setup_run":
        return importlib.import_module(".run", __name__).setup_run
    if name in _MODULES or name in _ALIASES:
        module = importlib.import_module(f".{_ALIASES.get(name, name)}", __name__)
        globals()[name] = module
        return module
    raise AttributeError(f"module 'pruning_lib' has no attribute {name!r}")
