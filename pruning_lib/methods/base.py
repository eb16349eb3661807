"""The one interface every pruning method implements, and the `Point` it returns.

A method turns a dense network into operating points: `points(dense, splits, *, values, budget, seed)`, one
`Point` per value of its one knob (a compression, a lambda, an iteration, a removed fraction). A Point holds an
ordinary `nn.Module` whose pruning is `torch.nn.utils.prune` masks, so metrics, evaluation, plots and the
head-to-head treat every method alike. `budget` is the training the method may spend, in epochs (passes over
the training set after the dense model), in the method's own terms (documented by each method). Settings beyond
the knob and the budget are the method's dataclass fields: `dataclasses.replace(METHODS[name], field=...)`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, Protocol, runtime_checkable

from torch import nn

from ..models import MODELS

FAMILIES = ("unstructured", "structured")


@dataclass
class Point:
    """One operating point: a pruned model, the knob value, the training it cost, seconds, cache provenance."""

    method: str
    knob: str
    value: float
    model: nn.Module
    epochs: float  # passes over the training set this point cost after the dense model
    seconds: float  # wall-clock seconds to reach it (as recorded when computed, also when loaded from cache)
    cache_hit: bool = False


@runtime_checkable
class Method(Protocol):
    """A pruning method: a name, a family, its one knob, and the operating points it reaches from a dense net."""

    name: str
    family: Literal["unstructured", "structured"]
    knob: str

    def points(self, dense: nn.Module, splits, *, values, budget, seed: int = 0) -> list[Point]:
        """The method's operating points on `dense`, one per knob value (train on splits.train, choose on val)."""
        ...


def network_of(model: nn.Module) -> str:
    """The registry name of a network ('lenet300', 'lenet5', ...) from its class (see `pl.models.MODELS`)."""
    for name, cls in MODELS.items():
        if type(model) is cls:
            return name
    raise ValueError(f"{type(model).__name__} is not one of the suite's networks: {sorted(MODELS)}")
