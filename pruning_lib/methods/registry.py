"""METHODS: every pruning method of the suite, by name. A new method is one module plus one line here."""

from __future__ import annotations

from .base import Method
from .baselines import Han, OneShot
from .gradual import Gradual
from .gumbel.method import Gumbel
from .neurons.method import Neurons
from .relief.method import Relief
from .thresholds.method import Thresholds

METHODS: dict[str, Method] = {}


def register(method: Method) -> Method:
    """Add `method` to METHODS under its name (refusing a duplicate name) and return it."""
    if method.name in METHODS:
        raise ValueError(f"a method named {method.name!r} is already registered")
    if method.family not in ("unstructured", "structured"):
        raise ValueError(f"{method.name}: family={method.family!r} is not 'unstructured' or 'structured'")
    METHODS[method.name] = method
    return method


register(OneShot("magnitude_global"))
register(OneShot("random"))
register(Han())
register(Gradual())
register(Gumbel())
register(Thresholds())
register(Relief())
register(Neurons())
register(Neurons(finetune=True))
