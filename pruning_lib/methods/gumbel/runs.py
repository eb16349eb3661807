"""Cached MNIST runs of the gated networks, and the cost of a gated epoch (Zhang, Tao, Zhang 2023: MNIST).

`cached_model(name, lam, profile, epochs=..., seed=2050)` trains a gated network from scratch on the suite's
MNIST split of `profile` (or given `splits`) and caches the exported model and its history under
cache/gumbel-mnist/, keyed by `mnist_config` and this package's cache `VERSION`.
"""

from __future__ import annotations

import time

import pandas as pd
import torch
import torch.nn.functional as F

from ...cache import cached
from ...data import Batches
from ...dense import profile_data, reference_config
from ...masks import export_state, kept_weights, load_state
from ...metrics import check_sparsity
from ...models import LeNet300100, build_model
from .gates import gate_linears, sampled_density
from .train import adam, cuda_sync, fork_devices, prune_model

VERSION = 1  # cache version of every gumbel result (these MNIST runs, notebook 01's toy runs and baselines)
RECIPE = {  # the defaults of every MNIST run's recipe (the authors' toy-code settings, minibatches of 128)
    "batch_size": 128,
    "lr": 1e-2,
    "tau": 3.0,
    "tau_density": 1.0,
    "init": "torch",
    "sample_repeats": 10,
}


def mnist_config(
    lam: float,
    profile: str,
    *,
    epochs: int,
    seed: int = 2050,
    device="cpu",
    model: str = "lenet300",
    **recipe,
) -> dict:
    """The cache key of one MNIST run: data split of `profile`, the recipe, lambda, seed and device type."""
    full = {**RECIPE, **recipe}
    data = reference_config(model, profile)
    return {
        "method": "gumbel",
        "model": model,
        "data": data["data"],
        "split_seed": data["split_seed"],
        "lam": float(lam),
        "epochs": epochs,
        "seed": seed,
        "device": torch.device(device).type,
        **full,
    }


def cached_model(
    name: str,
    lam: float,
    profile: str,
    *,
    epochs: int,
    seed: int = 2050,
    device="cpu",
    splits=None,
    progress_bar: bool = True,
    **recipe,
):
    """`prune_model` on the MNIST split of `profile`, cached -> (model with prune masks, history, cache hit).

    The kept count is checked against the history after training and after every reload (a lost mask raises).
    """
    cfg = mnist_config(lam, profile, epochs=epochs, seed=seed, device=device, model=name, **recipe)

    def compute() -> dict:
        """Train the run and return its cache payload (exported model, history)."""
        sp = splits if splits is not None else profile_data(profile)
        model, hist = prune_model(
            name,
            lam,
            sp.train,
            epochs=epochs,
            test=sp.test,
            seed=seed,
            device=device,
            progress_bar=progress_bar,
            **{k: cfg[k] for k in RECIPE},
        )
        check_sparsity(model, int(hist["kept"].iloc[-1]), f"gumbel {name} lambda={lam:g} after training")
        return {"model": export_state(model), "history": hist}

    payload, hit = cached("gumbel-mnist", cfg, compute, version=VERSION)
    model = load_state(build_model(name), payload["model"]).to(device)
    hist = pd.DataFrame(payload["history"])
    if kept_weights(payload["model"]) != int(hist["kept"].iloc[-1]):
        raise AssertionError(f"gumbel {name} lambda={lam:g}: the cached mask disagrees with its history")
    check_sparsity(
        model, int(hist["kept"].iloc[-1]), f"gumbel {name} lambda={lam:g} seed {seed} after reload"
    )
    return model, hist, hit


def cached_lenet300(lam: float, profile: str, *, epochs: int, **kwargs):
    """`cached_model` for LeNet-300-100 (notebook 01's runs) -> (model with prune masks, history, cache hit)."""
    return cached_model("lenet300", lam, profile, epochs=epochs, **kwargs)


def epoch_seconds(
    train,
    *,
    lam: float = 1.0,
    batch_size: int = 128,
    lr: float = 1e-2,
    tau: float = 3.0,
    tau_density: float = 1.0,
    seed: int = 0,
    device="cpu",
) -> dict:
    """Seconds of one training epoch of LeNet-300-100, plain and gated, with the same loop, batches and Adam."""
    device = torch.device(device)
    out = {}
    with torch.random.fork_rng(devices=fork_devices(device)):
        for kind in ("dense", "gated"):
            torch.manual_seed(seed)
            model = LeNet300100()
            gates = gate_linears(model, tau) if kind == "gated" else []
            model.to(device)
            opt = adam(model.parameters(), lr)
            cuda_sync(device)
            t0 = time.perf_counter()
            for xb, yb in Batches(*train, batch_size, shuffle=True, seed=seed):
                xb, yb = xb.to(device, non_blocking=True), yb.to(device, non_blocking=True)
                loss = F.cross_entropy(model(xb), yb)
                if gates:
                    loss = loss + lam * sampled_density(gates, tau_density)
                opt.zero_grad(set_to_none=True)
                loss.backward()
                opt.step()
            cuda_sync(device)
            out[kind] = time.perf_counter() - t0
    out["ratio"] = out["gated"] / out["dense"]
    return out
