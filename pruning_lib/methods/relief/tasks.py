"""Notebook 03's training runs as one `pl.jobs` plan: the dense LeNets, three iterative runs, the α/rule ablation.

`dense_authors` (the authors' pretraining) and `run_kwargs` (the keywords of one iterative run) are what the
notebook calls too, so the tasks and the notebook's cells share every cache key.
"""

from __future__ import annotations

from collections.abc import Mapping

from ...dense import profile_data, reference_model, train_dense
from ...jobs import EPOCH_SECONDS, Task
from . import ablation
from .inputs import pruning_set, theta0
from .loop import iterative_pruning
from .network import variant_options

RECIPE = {
    "adam": dict(opt="adam", lr=1e-3),
    "sgd": dict(opt="sgd", lr=0.1),
}  # + momentum 0.9, wd 5e-4, batch 120


def dense_authors(name: str, opt: str, epochs: float, milestones, profile: str, seed: int = 0, device="cpu"):
    """The authors' pretraining from a seeded kaiming θ0 (the suite's cached dense trainer): (model, θ0, info)."""
    splits = profile_data(profile)
    recipe = dict(**RECIPE[opt], momentum=0.9, weight_decay=5e-4, batch_size=120, schedule="multistep",
                  milestones=list(milestones))  # fmt: skip
    data_key = {"dataset": "mnist", "data": splits.sizes(), "split_seed": 0}
    net, info = train_dense(name, splits, epochs=epochs, recipe=recipe, data_key=data_key, seed=seed,
                            device=device, init="kaiming_normal")  # fmt: skip
    return net, theta0(name, seed).state_dict(), info  # θ0: the seeded init the training started from


def dense_of(spec: Mapping, profile: str, seed: int, device="cpu"):
    """(model, θ0 state or None) of a dense spec: {"kind": "authors", name, opt, epochs, milestones} or canonical."""
    if spec["kind"] == "canonical":
        return reference_model(spec["name"], profile, seed, device)[0], None
    net, theta, _ = dense_authors(spec["name"], spec["opt"], spec["epochs"], spec["milestones"], profile, seed,
                                  device)  # fmt: skip
    return net, theta


def fill_dense(dense: Mapping, profile: str, seed: int, device: str) -> None:
    """The dense model of a spec (`dense_of`), for its cache entry."""
    dense_of(dense, profile, seed, device)


def dense_task(dense: Mapping, profile: str, seed: int, device: str) -> Task:
    """The task that trains (or finds) the dense model of a spec."""
    epochs = dense.get("epochs", 0) if dense["kind"] == "authors" else 10
    name = f"relief dense {dense['name']} {dense.get('opt', 'canonical')}"
    cost = epochs * EPOCH_SECONDS.get(dense["name"], 1.0)
    return Task(
        name,
        f"{__name__}:fill_dense",
        dict(dense=dict(dense), profile=profile, seed=seed, device=device),
        cost,
        net=dense["name"],
    )


def run_kwargs(opt: str, epochs: float, milestones, theta, *, settings: Mapping, prune_X, test, seed: int,
               desc: str = "NNrelief") -> dict:  # fmt: skip
    """The keywords of one iterative NNrelief run: `settings` holds alpha_fc, alpha_conv, variant and rewind."""
    return dict(alpha_fc=settings["alpha_fc"], alpha_conv=settings["alpha_conv"], prune_X=prune_X, epochs=epochs,
                milestones=milestones, momentum=0.9, weight_decay=5e-4, batch_size=120,
                theta0_state=theta if settings["rewind"] else None, variant=settings["variant"], test=test,
                seed=seed, desc=desc, **RECIPE[opt])  # fmt: skip


def fill_relief_run(dense: Mapping, opt: str, iterations: int, epochs: float, milestones, settings: Mapping, n_prune: int,
             profile: str, seed: int, device: str) -> None:  # fmt: skip
    """One iterative run from the dense model of `dense` (a spec), every iteration cached."""
    net, theta = dense_of(dense, profile, seed, device)
    splits = profile_data(profile)
    prune_X, _ = pruning_set(splits.train, n_prune, seed)
    kw = run_kwargs(
        opt, epochs, milestones, theta, settings=settings, prune_X=prune_X, test=splits.test, seed=seed
    )
    iterative_pruning(net, splits.train, splits.val, iterations=iterations, progress_bar=False, **kw)


def fill_ablation(dense: Mapping, settings: Mapping, alpha_fc: float, n_prune: int, profile: str, seed: int,
                  device: str, alphas, iterations: int, epochs: float) -> None:  # fmt: skip
    """The α sweep and the rule ablation (`ablation.alpha_and_rules`), for their cache entries."""
    net, _ = dense_of(dense, profile, seed, device)
    splits = profile_data(profile)
    prune_X, _ = pruning_set(splits.train, n_prune, seed)
    ablation.alpha_and_rules(net, prune_X, splits.train, splits.test, alphas=alphas, alpha_fc=alpha_fc,
                             iterations=iterations, epochs=epochs, seed=seed,
                             cut=variant_options(settings["variant"], net)["cut"])  # fmt: skip


def relief_plan(
    S: Mapping, settings: Mapping, profile: str, seed: int, device="cpu", networks: str = "all"
) -> list[Task]:
    """Every training run of notebook 03 (quick and paper: LeNet-300-100 Adam and SGD, LeNet-5, the ablation).

    `networks` "lenet300" or "lenet5" plans that network's runs alone; the dense Adam LeNet-300-100 is always
    planned (section 1 and the exercises read it).
    """
    device = str(device)
    common = dict(n_prune=S["n_prune"], profile=profile, seed=seed, device=device, settings=dict(settings))
    l300 = {o: dict(kind="authors", name="lenet300", opt=o, epochs=S["l300_dense_epochs"],
                    milestones=list(S["l300_dense_milestones"])) for o in RECIPE}  # fmt: skip
    l5 = (dict(kind="canonical", name="lenet5") if S["lenet5_dense"] == "canonical" else
          dict(kind="authors", name="lenet5", opt="adam", epochs=S["l5_dense_epochs"],
               milestones=list(S["l5_dense_milestones"])))  # fmt: skip
    e300, e5 = EPOCH_SECONDS["lenet300"], EPOCH_SECONDS["lenet5"]
    runs = [("lenet300_adam", l300["adam"], "adam", "l300", e300), ("lenet300_sgd", l300["sgd"], "sgd", "l300", e300),
            ("lenet5", l5, "adam", "l5", e5)]  # fmt: skip
    chosen = {name: networks in ("all", name.split("_")[0]) for name, *_ in runs}
    denses = [dense_task(d, profile, seed, device) for d in (l300["adam"], l300["sgd"], l5)]
    tasks = [dt for (name, *_), dt in zip(runs, denses) if chosen[name] or name == "lenet300_adam"]
    for (name, dense, opt, key, epoch_s), dt in zip(runs, denses):
        if not chosen[name]:
            continue
        kwargs = dict(dense=dense, opt=opt, iterations=S[f"{key}_iterations"], epochs=S[f"{key}_epochs"],
                      milestones=list(S[f"{key}_milestones"]), **common)  # fmt: skip
        cost = 1.2 * S[f"{key}_iterations"] * S[f"{key}_epochs"] * epoch_s
        tasks.append(
            Task(f"relief {name}", f"{__name__}:fill_relief_run", kwargs, cost, (dt.name,), dense["name"])
        )
    if not chosen["lenet300_adam"]:  # the α sweep and rule ablation prune LeNet-300-100
        return tasks
    abl = dict(dense=l300["adam"], alpha_fc=settings["alpha_fc"], alphas=list(S["ablation_alphas"]),
               iterations=S["ablation_iterations"], epochs=S["ablation_epochs"], **common)  # fmt: skip
    arms = len(S["ablation_alphas"]) + 3
    cost = arms * S["ablation_iterations"] * max(S["ablation_epochs"], 0.1) * e300
    tasks.append(
        Task("relief alpha and rules", f"{__name__}:fill_ablation", abl, cost, (denses[0].name,), "lenet300")
    )
    return tasks
