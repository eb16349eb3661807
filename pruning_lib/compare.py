"""Head-to-head harness (notebook 05): every registered method's points on one network, split and seed.

`operating_points` loops over `pl.methods.registry.METHODS` (no method code here); `measure` then computes every
number the same way for all methods: counts, compression, FLOPs, validation and test accuracy.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace

from torch import nn

from .methods import registry
from .methods.base import Point
from .metrics import summary
from .train import evaluate


def measure(point: Point, network: str, seed: int, splits, input_shape=(1, 28, 28)) -> dict:
    """The numbers every method is compared on, computed the same way for all of them."""
    s = summary(point.model, input_shape)
    return {
        "method": point.method,
        "network": network,
        "seed": seed,
        "knob": point.knob,
        "value": point.value,
        "weights_pct": s["weights_pct"],
        "params_pct": s["params_pct"],
        "compression_weights": s["compression_weights"],
        "compression_params": s["compression_params"],
        "flops_dense": s["flops_dense"],
        "flops_effective": s["flops_effective"],
        "speedup_theoretical": s["speedup_theoretical"],
        "val_acc": evaluate(point.model, *splits.val)["acc"],
        "test_acc": evaluate(point.model, *splits.test)["acc"],
        "epochs": point.epochs,
        "seconds": point.seconds,
        "cache_hit": point.cache_hit,
    }


def dense_point(dense: nn.Module, info: Mapping) -> Point:
    """The dense reference as a Point (its training is the dense pretraining, so 0 epochs after it)."""
    return Point("dense", "-", 1.0, dense, 0.0, info["train_seconds"], info["cache_hit"])


def operating_points(
    dense: nn.Module, splits, plan: Mapping[str, Mapping], seed: int = 0, methods=None
) -> list:
    """Every planned method's points: plan = {name: {values, budget, **settings of the method's dataclass}}."""
    methods = registry.METHODS if methods is None else methods
    unknown = sorted(set(plan) - set(methods))
    if unknown:
        raise ValueError(f"no method named {unknown}; registered: {sorted(methods)}")
    points = []
    for name, spec in plan.items():
        spec = dict(spec)
        values, budget = spec.pop("values"), spec.pop("budget", 0)
        method = replace(methods[name], **spec) if spec else methods[name]
        points += method.points(dense, splits, values=values, budget=budget, seed=seed)
    return points
