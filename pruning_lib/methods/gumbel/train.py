"""Training gated networks from scratch: cross-entropy + lambda x D_hat, one Adam (Zhang, Tao, Zhang 2023).

One Adam optimiser updates weights, biases and gate logits together, with no pre-training and no separate
pruning phase; at the end the mask is M* and the network is used without retraining. The loop stays bespoke
rather than `pl.train.fit`: it uses the fused Adam kernel (different float rounding from `fit`'s Adam), logs the
cross-entropy apart from the penalty and evaluates sampled masks each epoch, and allows epochs=0.
"""

from __future__ import annotations

import time

import numpy as np
import pandas as pd
import torch
import torch.nn.functional as F
from torch import nn
from torch.nn.utils import parametrize

from ...checks import check_range
from ...data import Batches
from ...models import LeNet300100, build_model
from ...train import evaluate, progress
from .gates import (
    expected_density,
    export_pruned,
    gate_layers,
    gate_linears,
    gate_mode,
    gates_of,
    kept_counts,
    n_gated,
    sampled_density,
    set_mode,
)

GATED_TYPES = {"lenet300": (nn.Linear,), "lenet5": (nn.Linear, nn.Conv2d)}  # LeNet-5: convs gated too


def adam(params, lr: float) -> torch.optim.Optimizer:
    """torch.optim.Adam (no weight decay), using the fused kernel where this PyTorch has one."""
    params = list(params)
    try:
        return torch.optim.Adam(params, lr=lr, fused=True)
    except (RuntimeError, TypeError, ValueError):
        return torch.optim.Adam(params, lr=lr)


def fork_devices(device: torch.device) -> list:
    """The devices whose random streams `torch.random.fork_rng` must save for work on `device`."""
    return [device] if device.type == "cuda" else []


def cuda_sync(device: torch.device) -> None:
    """Wait for queued CUDA work on `device` (for timing); nothing on other devices."""
    if device.type == "cuda":
        torch.cuda.synchronize(device)


@torch.no_grad()
def sampled_eval(model: nn.Module, X, y, repeats: int, seed: int, metric=None) -> list[float]:
    """`metric(model, X, y)` (default: accuracy) for `repeats` independent sampled masks, one mask per pass.

    Runs on a private random stream seeded by `seed`, so evaluation never changes the training run.
    """
    metric = metric or (lambda m, a, b: evaluate(m, a, b)["acc"])
    device = next(model.parameters()).device
    out = []
    with gate_mode(model, "sample"), torch.random.fork_rng(devices=fork_devices(device)):
        torch.manual_seed(seed)
        for _ in range(repeats):
            with parametrize.cached():  # one mask per layer for the whole pass
                out.append(metric(model, X, y))
    return out


def gated_eval(model, test, repeats: int, seed: int) -> dict:
    """Test accuracy with M* and mean / std over `repeats` sampled masks."""
    with gate_mode(model, "argmax"):
        row = {"acc_argmax": evaluate(model, *test)["acc"]}
    accs = sampled_eval(model, *test, repeats, seed) if repeats > 0 else []
    row["acc_sampled_mean"] = float(np.mean(accs)) if accs else float("nan")
    row["acc_sampled_std"] = float(np.std(accs)) if accs else float("nan")
    return row


def density_row(gates) -> dict:
    """Kept count (total and per layer), argmax density and expected density: one history row's sizes."""
    kept = kept_counts(gates)
    return {
        "kept": sum(kept.values()),
        **{f"kept_{k}": v for k, v in kept.items()},
        "density_argmax": sum(kept.values()) / n_gated(gates),
        "density_expected": expected_density(gates),
    }


def lenet300_gated(seed: int = 2050, tau: float = 3.0, init: str = "torch"):
    """(model, gates): a fresh LeNet-300-100 drawn after torch.manual_seed(seed), every Linear gated."""
    torch.manual_seed(seed)
    model = LeNet300100()
    return model, gate_linears(model, tau, init)


def train_gated(
    model: nn.Module,
    train,
    *,
    lam: float,
    epochs: int,
    batch_size: int = 128,
    lr: float = 1e-2,
    tau_density: float = 1.0,
    seed: int = 2050,
    test=None,
    sample_repeats: int = 10,
    progress_bar: bool = True,
    desc: str = "gated",
) -> pd.DataFrame:
    """Minimise cross-entropy + lam * D_hat with one Adam over weights, biases and gate logits; per-epoch history.

    Each row: train CE, last-step D_hat, argmax kept count and density, expected density, seconds, and with
    `test` the test accuracy under M* and over `sample_repeats` sampled masks. Row 0 is the initial network.
    """
    check_range("lam", lam, 0.0)
    check_range("epochs", epochs, 0, integer=True)
    gates = gates_of(model)
    device = next(model.parameters()).device
    X, y = train
    batches = Batches(X, y, batch_size, shuffle=True, seed=seed)
    opt = adam(model.parameters(), lr)
    set_mode(gates, "sample")
    with torch.no_grad(), torch.random.fork_rng(devices=fork_devices(device)):
        dhat0 = sampled_density(gates, tau_density).item()
    row = {"epoch": 0, "train_ce": float("nan"), "dhat_last": dhat0, **density_row(gates), "seconds": 0.0}
    if test is not None:
        row.update(gated_eval(model, test, sample_repeats, seed * 1000))
    history = [row]
    bar = progress(total=epochs * len(batches), desc=desc, **({} if progress_bar else {"disable": True}))
    for epoch in range(1, epochs + 1):
        model.train()
        t0, ce_sum = time.perf_counter(), torch.zeros((), device=device)
        for xb, yb in batches:
            xb, yb = xb.to(device, non_blocking=True), yb.to(device, non_blocking=True)
            ce = F.cross_entropy(model(xb), yb)
            dhat = sampled_density(gates, tau_density)
            loss = ce + lam * dhat if lam else ce
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            ce_sum += ce.detach()
            bar.update(1)
        seconds = time.perf_counter() - t0
        row = {
            "epoch": epoch,
            "train_ce": ce_sum.item() / len(batches),
            "dhat_last": dhat.item(),
            **density_row(gates),
            "seconds": seconds,
        }
        if test is not None:
            row.update(gated_eval(model, test, sample_repeats, seed * 1000 + epoch))
        history.append(row)
        bar.set_postfix(kept=row["kept"], acc=f"{row.get('acc_argmax', float('nan')):.4f}")
    bar.close()
    set_mode(gates, "argmax")
    return pd.DataFrame(history)


def prune_model(
    name: str,
    lam: float,
    train,
    *,
    epochs: int,
    test=None,
    seed: int = 2050,
    batch_size: int = 128,
    lr: float = 1e-2,
    tau: float = 3.0,
    tau_density: float = 1.0,
    init: str = "torch",
    sample_repeats: int = 10,
    device="cpu",
    progress_bar: bool = True,
):
    """Train a gated `name` network from scratch with penalty `lam` -> (plain model with prune masks M*, history)."""
    torch.manual_seed(seed)
    model = build_model(name)
    gate_layers(model, tau, init, GATED_TYPES[name])
    model.to(device)
    hist = train_gated(
        model,
        train,
        lam=lam,
        epochs=epochs,
        batch_size=batch_size,
        lr=lr,
        tau_density=tau_density,
        seed=seed,
        test=test,
        sample_repeats=sample_repeats,
        progress_bar=progress_bar,
        desc=f"gumbel {name} lambda={lam:g}",
    )
    return export_pruned(model, copy_model=False), hist


def prune_lenet300(lam: float, train, *, epochs: int, **kwargs):
    """Train a gated LeNet-300-100 from scratch with penalty `lam` -> (plain model with prune masks M*, history)."""
    return prune_model("lenet300", lam, train, epochs=epochs, **kwargs)
