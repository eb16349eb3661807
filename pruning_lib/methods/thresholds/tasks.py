"""Notebook 02's expensive runs as one `pl.jobs` plan: dense models, Han (rebuilt), gradual, our λ sweep, ablation.

Each task calls the same library function with the same arguments as the notebook's cells, so the notebook
finds every run in the cache afterwards.
"""

from __future__ import annotations

from collections.abc import Mapping

from ...dense import profile_data, reference_model, reference_task, reference_task_name
from ...jobs import EPOCH_SECONDS, Task
from ..han import rebuilt_task
from .runs import split_budget, threshold_run

COST_FACTOR = 4.0  # a parametrized epoch against a plain one (the soft threshold on every weight, every step)


def fill_threshold_run(
    net: str, profile: str, seed: int, device: str, lam: float, budget, options: Mapping
) -> None:
    """Our method at `lam` on the dense reference of (net, profile, seed): `threshold_run`, for its cache entry."""
    dense, _ = reference_model(net, profile, seed, device)
    threshold_run(dense, profile_data(profile), lam, tuple(budget), seed=seed, **options)


def fill_gradual_run(
    net: str, profile: str, seed: int, device: str, compression: float, budget: float
) -> None:
    """Gradual magnitude pruning to `compression` on the same dense reference, for its cache entry."""
    from ..registry import METHODS

    dense, _ = reference_model(net, profile, seed, device)
    METHODS["gradual"].points(dense, profile_data(profile), values=[compression], budget=budget, seed=seed)


def threshold_task(
    net: str, profile: str, seed: int, device: str, lam: float, budget, options: Mapping
) -> Task:
    """The task of one `threshold_run`."""
    kwargs = dict(net=net, profile=profile, seed=seed, device=device, lam=float(lam), budget=tuple(budget),
                  options=dict(options))  # fmt: skip
    tag = ",".join(f"{k}={v}" for k, v in sorted(options.items()) if k in ("reg", "beta_mode"))
    cost = sum(split_budget(budget)) * COST_FACTOR * EPOCH_SECONDS.get(net, 1.0)
    joint, ft = split_budget(budget)
    name = f"thresholds {net} seed {seed} lambda={lam:g} {tag} epochs={joint:g}+{ft:g}"
    return Task(name, f"{__name__}:fill_threshold_run", kwargs, cost, (reference_task_name(net, seed),), net)


def threshold_plan(
    settings: Mapping, nets, seeds, lams: Mapping, options: Mapping, ablation_options: Mapping, profile: str,
    device: str,
) -> list[Task]:  # fmt: skip
    """Every run of notebook 02's sections 2-4 and 6, from its settings (the profile table) and options.

    Only the networks in `nets` are planned; the regularizer ablation (section 6) only when LeNet-300-100 is.
    """
    device = str(device)
    tasks = []
    for net in nets:
        budget = settings[f"ours_{net}"]
        for s in seeds:
            tasks += [reference_task(net, profile, s, device), rebuilt_task(net, profile, s, device)]
            for c in settings[f"gradual_{net}"]:
                kwargs = dict(net=net, profile=profile, seed=s, device=device, compression=float(c),
                              budget=float(sum(budget)))  # fmt: skip
                cost = sum(budget) * EPOCH_SECONDS.get(net, 1.0)
                needs = (reference_task_name(net, s),)
                tasks.append(
                    Task(
                        f"gradual {net} seed {s} {c:g}x",
                        f"{__name__}:fill_gradual_run",
                        kwargs,
                        cost,
                        needs,
                        net,
                    )
                )
            tasks += [threshold_task(net, profile, s, device, lam, budget, options) for lam in lams[net]]
    for reg, lam in settings["ablation"] if "lenet300" in nets else []:  # the ablation runs on LeNet-300-100
        opts = {**ablation_options, "reg": reg}
        tasks.append(
            threshold_task("lenet300", profile, seeds[0], device, lam, settings["ablation_budget"], opts)
        )
    return tasks
