"""Head-to-head harness (notebook 05): every registered method's points on one network, split and seed.

`operating_points` loops over `pl.methods.registry.METHODS` (no method code here); `measure` then computes every
number the same way for all methods: counts, compression, FLOPs, validation and test accuracy (cached per
model). `plan_points` lists the same work as `pl.jobs` tasks, one per (network, seed, regime, method), so that it
can run in parallel before the notebook's loop reads every result from the cache (`seed_points`,
`measured_rows`). Timing the points on the CPU is `pl.latency`'s.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace

from torch import nn

from . import cache
from .jobs import EPOCH_SECONDS, Task
from .methods import registry
from .methods.base import Point
from .metrics import check_sparsity, sparsity, summary
from .train import evaluate

EVAL_SECONDS = {"lenet300": 0.05, "lenet5": 1.3}  # validation + test pass of one point
_SPLIT_KEYS: dict[int, tuple] = {}


def split_key(splits) -> str:
    """A fingerprint of the validation and test split (computed once per Splits object in a process)."""
    hit = _SPLIT_KEYS.get(id(splits))
    if hit is None or hit[0] is not splits:
        hit = _SPLIT_KEYS[id(splits)] = (splits, cache.fingerprint(splits.val, splits.test))
    return hit[1]


def accuracies(model: nn.Module, splits) -> dict:
    """Validation and test accuracy of `model`, cached by the model's and the splits' fingerprints."""
    cfg = {"model": cache.fingerprint(model), "splits": split_key(splits)}

    def compute() -> dict:
        return {
            "val_acc": evaluate(model, *splits.val)["acc"],
            "test_acc": evaluate(model, *splits.test)["acc"],
        }

    payload = cache.cached("h2h-accuracy", cfg, compute)[0]
    return {k: payload[k] for k in ("val_acc", "test_acc")}


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
        **accuracies(point.model, splits),
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


def task_cost(net: str, method: str, spec: Mapping) -> float:
    """Estimated seconds of one method's points on `net` (training epochs x epoch cost, plus measuring)."""
    m = registry.METHODS[method]
    n = len(list(spec["values"]))
    budget = spec.get("budget", 0)
    epochs = sum(budget) if isinstance(budget, tuple | list) else float(budget)
    total = epochs * (max(spec["values"]) if getattr(m, "one_run", False) else n)
    return (total * getattr(m, "epoch_cost", 1.0) * EPOCH_SECONDS[net] + n * EVAL_SECONDS[net]) or 1.0


def fill_points(net: str, profile: str, seed: int, device: str, method: str, spec: Mapping) -> None:
    """A task: one method's points on the dense reference of (net, profile, seed), trained and measured, cached."""
    from .dense import profile_data, reference_model

    dense, _ = reference_model(net, profile, seed, device)
    splits = profile_data(profile)
    for p in operating_points(dense, splits, {method: spec}, seed=seed):
        accuracies(p.model, splits)


def plan_points(
    plans: Mapping[str, Mapping[str, Mapping]], seeds: Mapping[str, list], profile: str, device: str,
    run_once: Mapping[str, list] | None = None,
) -> list[Task]:  # fmt: skip
    """The head-to-head's tasks: per network and seed its dense model, each (regime, method), Han (rebuilt).

    plans = {net: {regime: {method: spec}}}; run_once[net] lists the methods whose spec is the same in every
    regime (planned once, under the first regime).
    """
    from .dense import reference_task, reference_task_name
    from .methods.han import rebuilt_task

    tasks = []
    for net, regimes in plans.items():
        once = set((run_once or {}).get(net, ()))
        for s in seeds[net]:
            common = {"net": net, "profile": profile, "seed": s, "device": device}
            tasks += [reference_task(net, profile, s, device), rebuilt_task(net, profile, s, device)]
            for i, (regime, methods) in enumerate(regimes.items()):
                for method, spec in methods.items():
                    if i > 0 and method in once:
                        continue
                    tasks.append(Task(f"{method} {net} seed {s} {regime}", "pruning_lib.compare:fill_points",
                                      {**common, "method": method, "spec": dict(spec)},
                                      task_cost(net, method, spec), (reference_task_name(net, s),), net))  # fmt: skip
    return tasks


def same_in_both(regimes: Mapping[str, Mapping]) -> list[str]:
    """The methods whose spec is the same in the short and the own regime (run once, counted in both), sorted."""
    short, own = regimes["short"], regimes["own"]
    return sorted(m for m in own if short.get(m) == own[m])


def seed_points(net: str, profile: str, seed: int, device, splits, regimes: Mapping[str, Mapping], once=()):
    """(dense, info, [(regime, Point)]): the dense reference of (net, profile, seed), then each regime's points
    (a method in `once` only under the first regime), then Han (rebuilt) under "own"; all read from the cache."""
    from .dense import reference_model
    from .methods.han import rebuilt

    dense, info = reference_model(net, profile, seed, device)
    out = [("dense", dense_point(dense, info))]
    for i, (regime, methods) in enumerate(regimes.items()):
        wanted = {m: spec for m, spec in methods.items() if i == 0 or m not in once}
        out += [(regime, p) for p in operating_points(dense, splits, wanted, seed=seed)]
    model, _, run = rebuilt(net, profile, seed, device)
    out.append(
        ("own", Point("han_rebuilt", "-", 1.0, model, float(run["epochs"]), run["seconds"], run["cache_hit"]))
    )
    return dense, info, out


def measured_rows(points, network: str, seed: int, splits, family: Mapping[str, str], once=()) -> list[tuple]:
    """(row, model) per (regime, Point): masks checked, `measure`d, with family, unmasked weights and regime.

    A point of a method in `once` measured under "short" gets a row in both regimes (short, then own).
    """
    out = []
    for regime, p in points:
        kept = check_sparsity(
            p.model, sparsity(p.model)["weights_unmasked"], f"{p.method} {p.value:g} ({network}, seed {seed})"
        )
        row = {
            **measure(p, network, seed, splits),
            "family": family[p.method],
            "weights_unmasked": kept["weights_unmasked"],
        }
        both = regime == "short" and p.method in once
        out += [({**row, "regime": r}, p.model) for r in (("short", "own") if both else (regime,))]
    return out
