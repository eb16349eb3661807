"""Han et al. (rebuilt): one shared, cached run of Han et al. 2015's prune-retrain per (network, profile, seed).

Han, Pool, Tran, Dally, *Learning both Weights and Connections* (NeurIPS 2015) keep 8% of LeNet-300-100 at
1.59% test error and 8% of LeNet-5 at 0.77%. The rebuilt run starts from the suite's dense reference
(`pl.dense.reference_model`), prunes each layer to Han's published per-layer fraction (Tables 2 and 3) over
`iterations` geometric steps, and retrains the survivors after each step (SGD + momentum, weight decay 5e-4,
cosine within each phase). Its schedule was chosen on the validation split. Notebooks 00, 02 and 05 all load
this one run, so the suite reports one Han number per network and profile.
"""

from __future__ import annotations

import copy
import time

import pandas as pd
import torch
from torch import nn

from .. import stats
from ..cache import cached
from ..dense import profile_data, reference_config, reference_model, reference_task_name
from ..jobs import EPOCH_SECONDS, Task
from ..masks import export_state, kept_weights, load_state
from ..metrics import check_sparsity, counts, layer_table
from ..models import build_model
from ..reference import HAN_LAYER_TABLES, HAN_TABLE1
from ..train import evaluate
from .magnitude import han_prune

VERSION = 2  # bump when a change here alters the cached runs
NAME = "Han et al. (rebuilt)"
# per network and profile: prune-retrain iterations, retraining epochs per iteration, learning rate
SCHEDULE = {
    "lenet300": {"smoke": (2, 0.5, 0.01), "quick": (5, 4, 0.01), "paper": (8, 10, 0.01)},
    "lenet5": {"smoke": (2, 0.25, 0.01), "quick": (4, 2, 0.01), "paper": (8, 6, 0.01)},
}
INPUT = {"lenet300": (1, 28, 28), "lenet5": (1, 28, 28)}


TABLE1_ROW = {"lenet300": "LeNet-300-100", "lenet5": "LeNet-5"}
TARGET_ERROR_PCT = {"lenet300": 1.6, "lenet5": 0.8}  # the suite's bar: Han's published error, rounded up


def published(net: str) -> dict:
    """Han et al.'s published total: weights left (%, Tables 2-3) and test error (%, Table 1)."""
    total = next(r for r in HAN_LAYER_TABLES[net] if r["layer"] == "total")
    table1 = next(r for r in HAN_TABLE1 if r["network"] == TABLE1_ROW[net])
    return {"weights_pct": total["weights_left_pct"], "error_pct": table1["error_pruned_pct"]}


def schedule(net: str, profile: str) -> dict:
    """The rebuilt run's schedule: iterations, epochs per iteration, learning rate and the total epochs."""
    if net not in SCHEDULE:
        raise ValueError(f"no Han schedule for {net!r}; choose one of {sorted(SCHEDULE)}")
    if profile not in SCHEDULE[net]:
        raise ValueError(f"profile={profile!r} is not one of {sorted(SCHEDULE[net])}")
    iterations, epochs, lr = SCHEDULE[net][profile]
    return {"iterations": iterations, "retrain_epochs": epochs, "lr": lr, "epochs": iterations * epochs}


def rebuilt(net: str, profile: str, seed: int = 0, device="cpu"):
    """(model, history, summary): the shared Han run on the dense reference of (net, profile, seed), cached.

    The summary holds validation and test error (%), the test error's 95% Wilson interval, the verdict against
    Han's published error ('better' | 'tie' | 'worse', lower is better), counts, per-layer table, epochs, seconds.
    """
    sched = schedule(net, profile)
    dense, _ = reference_model(net, profile, seed, device)
    splits = profile_data(profile)
    cfg = {"dense": reference_config(net, profile, seed), "device": torch.device(device).type, **sched}

    def compute() -> dict:
        model = copy.deepcopy(dense)
        t0 = time.perf_counter()
        model, hist = han_prune(
            model, splits.train, r_final=published(net)["weights_pct"] / 100, iterations=sched["iterations"],
            retrain_epochs=sched["retrain_epochs"], lr=sched["lr"], val=splits.val, test=splits.test,
            mode="published_ratios",
            network=net, seed=seed, fit_kwargs={"progress_bar": False},
        )  # fmt: skip
        return {
            "model": export_state(model),
            "history": hist.to_dict("list"),
            "seconds": time.perf_counter() - t0,
        }

    payload, hit = cached("han-rebuilt", cfg, compute, version=VERSION)
    model = load_state(build_model(net), payload["model"]).to(next(dense.parameters()).device)
    check_sparsity(model, kept_weights(payload["model"]), f"{NAME} {net} after reload")
    return model, pd.DataFrame(payload["history"]), summarize(model, net, splits, sched, payload, hit)


def summarize(model: nn.Module, net: str, splits, sched: dict, payload: dict, hit: bool) -> dict:
    """The numbers every notebook shows for the rebuilt Han run (validation and test, with intervals)."""
    val, test = evaluate(model, *splits.val)["acc"], evaluate(model, *splits.test)["acc"]
    n_test = len(splits.test[1])
    lo, hi = stats.accuracy_interval([test], n_test)
    err_interval = (100 - hi, 100 - lo)
    ref = published(net)
    return {
        "name": NAME,
        "network": net,
        "val_error_pct": 100 * (1 - val),
        "test_error_pct": 100 * (1 - test),
        "test_error_interval": list(err_interval),
        "vs_published_error": stats.against_value(err_interval, ref["error_pct"], higher_is_better=False),
        "published": ref,
        "counts": counts(model),
        "per_layer": layer_table(model, INPUT[net]).to_dict("records"),
        "epochs": sched["epochs"],
        "schedule": sched,
        "seconds": payload["seconds"],
        "cache_hit": hit,
    }


def rebuilt_task(net: str, profile: str, seed: int = 0, device="cpu") -> Task:
    """A `pl.jobs` task that runs (or finds in the cache) the shared Han run of (net, profile, seed)."""
    kwargs = {"net": net, "profile": profile, "seed": seed, "device": str(device)}
    cost = schedule(net, profile)["epochs"] * EPOCH_SECONDS.get(net, 1.0)
    needs = (reference_task_name(net, seed),)
    return Task(
        f"han_rebuilt {net} seed {seed}", "pruning_lib.methods.han:fill_rebuilt", kwargs, cost, needs, net
    )


def fill_rebuilt(net: str, profile: str, seed: int, device: str) -> None:
    """The body of `rebuilt_task`: `rebuilt`, for its cache entry."""
    rebuilt(net, profile, seed, device)
