"""Seeding, device choice, a plain training loop over in-memory batches, evaluation, cached dense references."""

from __future__ import annotations

import copy
import math
import os
import random
import sys
import time
from collections.abc import Callable

import numpy as np
import pandas as pd
import torch
import torch.nn.functional as F
from torch import nn
from tqdm import tqdm

from . import cache
from .data import Batches, mnist_splits
from .models import build_model


def seed_everything(seed: int) -> None:
    """Seed Python, NumPy and torch (CPU runs are then bit-for-bit repeatable)."""
    random.seed(seed)
    np.random.seed(seed % 2**32)  # noqa: NPY002 (seeds the legacy global stream users may draw from)
    torch.manual_seed(seed)


def pick_device(device: str = "auto") -> torch.device:
    """'auto' -> cuda, then mps, then cpu; otherwise the named device (checked for availability)."""
    if device == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda")
        if getattr(torch.backends, "mps", None) and torch.backends.mps.is_available():
            return torch.device("mps")
        return torch.device("cpu")
    if device == "cuda" and not torch.cuda.is_available():
        raise ValueError("device='cuda' was asked for but CUDA is not available; use 'auto' or 'cpu'")
    if device == "mps" and not torch.backends.mps.is_available():
        raise ValueError("device='mps' was asked for but MPS is not available; use 'auto' or 'cpu'")
    return torch.device(device)


def progress(iterable=None, **kwargs):
    """tqdm with notebook-friendly defaults (no bar for short work, few updates); PRUNING_PROGRESS=0 hides it."""
    tty = sys.stderr.isatty()
    kwargs.setdefault("mininterval", 0.5 if tty else 15.0)
    kwargs.setdefault("delay", 0.0 if tty else 5.0)  # in notebooks, short loops print no bar at all
    kwargs.setdefault("disable", os.environ.get("PRUNING_PROGRESS", "1") == "0")
    kwargs.setdefault("leave", False)
    return tqdm(iterable, file=sys.stderr, **kwargs)


def make_optimizer(
    params, opt: str = "sgd", lr: float = 0.05, momentum: float = 0.9, weight_decay: float = 0.0
) -> torch.optim.Optimizer:
    """SGD (with momentum) or Adam (coupled L2 weight decay, as torch.optim.Adam does it)."""
    if opt == "sgd":
        return torch.optim.SGD(params, lr=lr, momentum=momentum, weight_decay=weight_decay)
    if opt == "adam":
        return torch.optim.Adam(params, lr=lr, weight_decay=weight_decay)
    raise ValueError(f"opt={opt!r} is not one of 'sgd', 'adam'")


def lr_factor(schedule: str, step: int, total: int, steps_per_epoch: int, milestones=(), gamma=0.1) -> float:
    """Learning-rate multiplier at `step`: constant, cosine to 0 over `total`, multistep at epoch milestones, inv."""
    if schedule == "constant":
        return 1.0
    if schedule == "cosine":
        return 0.5 * (1.0 + math.cos(math.pi * step / total))
    if schedule == "multistep":
        epoch = step / steps_per_epoch
        return gamma ** sum(epoch >= m for m in milestones)
    if (
        schedule == "inv"
    ):  # Caffe's "inv" policy (1 + gamma * step)^-power, power 0.75 as in Caffe's LeNet solver
        return (1.0 + gamma * step) ** -0.75
    raise ValueError(f"schedule={schedule!r} is not one of 'constant', 'cosine', 'multistep', 'inv'")


@torch.no_grad()
def evaluate(model: nn.Module, X: torch.Tensor, y: torch.Tensor, batch_size: int = 512) -> dict:
    """Accuracy and mean cross-entropy of `model` on (X, y), in eval mode."""
    was_training = model.training
    model.eval()
    device = next(model.parameters()).device
    correct, loss = 0, 0.0
    for i in range(0, len(y), batch_size):
        xb, yb = X[i : i + batch_size].to(device), y[i : i + batch_size].to(device)
        out = model(xb)
        loss += F.cross_entropy(out, yb, reduction="sum").item()
        correct += (out.argmax(1) == yb).sum().item()
    model.train(was_training)
    return {"acc": correct / len(y), "loss": loss / len(y)}


def accuracy(model: nn.Module, X: torch.Tensor, y: torch.Tensor) -> float:
    """Top-1 accuracy of `model` on (X, y)."""
    return evaluate(model, X, y)["acc"]


def fit(
    model: nn.Module,
    train: tuple[torch.Tensor, torch.Tensor],
    *,
    epochs: float,
    batch_size: int = 64,
    opt: str = "sgd",
    lr: float = 0.05,
    momentum: float = 0.9,
    weight_decay: float = 5e-4,
    schedule: str = "cosine",
    milestones=(),
    gamma: float = 0.1,
    seed: int = 0,
    val: tuple[torch.Tensor, torch.Tensor] | None = None,
    keep_best: bool = False,
    loss_fn: Callable[[torch.Tensor, torch.Tensor], torch.Tensor] = F.cross_entropy,
    extra_loss: Callable[[], torch.Tensor] | None = None,
    after_step: Callable[[int], None] | None = None,
    params=None,
    progress_bar: bool = True,
    desc: str = "train",
) -> pd.DataFrame:
    """Train on in-memory batches (cross-entropy unless `loss_fn`); `epochs` may be fractional; per-epoch history.

    `extra_loss()` is added to every step's loss (a regulariser); `after_step(step)` runs after every update;
    with `val` and `keep_best`, the weights of the best validation epoch are restored at the end.
    """
    if epochs <= 0:
        raise ValueError(f"epochs must be positive, got {epochs}")
    if keep_best and val is None:
        raise ValueError("keep_best=True needs a validation set (val=...)")
    device = next(model.parameters()).device
    X, y = train
    batches = Batches(X, y, batch_size, shuffle=True, seed=seed)
    steps_per_epoch = len(batches)
    total = max(1, round(epochs * steps_per_epoch))
    optimizer = make_optimizer(
        params if params is not None else model.parameters(), opt, lr, momentum, weight_decay
    )
    base_lrs = [g["lr"] for g in optimizer.param_groups]
    history, best, best_state = [], -1.0, None
    t0, step, running, seen = time.perf_counter(), 0, 0.0, 0
    model.train()
    bar = progress(total=total, desc=desc, **({} if progress_bar else {"disable": True}))
    while step < total:
        for xb, yb in batches:
            factor = lr_factor(schedule, step, total, steps_per_epoch, milestones, gamma)
            for g, base in zip(optimizer.param_groups, base_lrs):
                g["lr"] = base * factor
            xb, yb = xb.to(device, non_blocking=True), yb.to(device, non_blocking=True)
            loss = loss_fn(model(xb), yb)
            if extra_loss is not None:
                loss = loss + extra_loss()
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            step += 1
            running, seen = running + loss.item(), seen + 1
            if after_step is not None:
                after_step(step)
            bar.update(1)
            if step % steps_per_epoch == 0 or step == total:
                row = {
                    "epoch": step / steps_per_epoch,
                    "step": step,
                    "train_loss": running / seen,
                    "seconds": time.perf_counter() - t0,
                }
                running, seen = 0.0, 0
                if val is not None:
                    row["val_acc"] = evaluate(model, *val)["acc"]
                    if keep_best and row["val_acc"] > best:
                        best, best_state = row["val_acc"], copy.deepcopy(model.state_dict())
                    model.train()
                history.append(row)
                bar.set_postfix(
                    loss=f"{row['train_loss']:.3f}",
                    **({"val": f"{row['val_acc']:.4f}"} if val is not None else {}),
                )
            if step >= total:
                break
    bar.close()
    if keep_best and best_state is not None:
        model.load_state_dict(best_state)
    return pd.DataFrame(history)


# --- canonical dense references, shared by every notebook ---------------------------------------------

PROFILE_DATA = {  # MNIST sizes per profile: train (of the 55k), validation (of the 5k), test (of the 10k)
    "smoke": {"n_train": 2000, "n_val": 500, "n_test": 1000},
    "quick": {"n_train": None, "n_val": 5000, "n_test": None},
    "paper": {"n_train": None, "n_val": 5000, "n_test": None},
}
DENSE_RECIPE = {
    "opt": "sgd",
    "lr": 0.05,
    "momentum": 0.9,
    "weight_decay": 5e-4,
    "batch_size": 64,
    "schedule": "cosine",
}
DENSE_EPOCHS = {
    "lenet300": {"smoke": 1, "quick": 20, "paper": 60},
    "lenet5": {"smoke": 1, "quick": 8, "paper": 30},
}


def profile_data(profile: str):
    """The MNIST splits of a profile (smoke: small stratified subsets; quick/paper: 55k / 5k / 10k)."""
    return mnist_splits(**PROFILE_DATA[profile])


def reference_config(name: str, profile: str, seed: int = 0) -> dict:
    """The canonical dense schedule of (model, profile, seed), which is also its cache key."""
    if name not in DENSE_EPOCHS:
        raise ValueError(f"no reference schedule for model {name!r}; choose one of {sorted(DENSE_EPOCHS)}")
    if profile not in PROFILE_DATA:
        raise ValueError(f"profile={profile!r} is not one of {sorted(PROFILE_DATA)}")
    return {
        "model": name,
        "dataset": "mnist",
        "data": PROFILE_DATA[profile],
        "split_seed": 0,
        "epochs": DENSE_EPOCHS[name][profile],
        **DENSE_RECIPE,
        "seed": seed,
    }


def reference_model(name: str, profile: str, seed: int = 0, device: str | torch.device = "cpu"):
    """(model, info): the canonical dense model, trained once per (model, profile, seed) and then cached."""
    cfg = reference_config(name, profile, seed)

    def train_it() -> dict:
        splits = profile_data(profile)
        seed_everything(seed)
        model = build_model(name).to(device)
        t0 = time.perf_counter()
        hist = fit(
            model,
            splits.train,
            epochs=cfg["epochs"],
            seed=seed,
            val=splits.val,
            desc=f"dense {name}",
            **DENSE_RECIPE,
        )
        seconds = time.perf_counter() - t0
        info = {
            "test_acc": evaluate(model, *splits.test)["acc"],
            "val_acc": hist["val_acc"].iloc[-1],
            "train_seconds": seconds,
            "epoch_seconds": seconds / cfg["epochs"],
            "history": hist.to_dict("list"),
        }
        return {"state": {k: v.cpu() for k, v in model.state_dict().items()}, "info": info}

    payload, hit = cache.cached("dense", cfg, train_it)
    model = build_model(name)
    model.load_state_dict(payload["state"])
    return model.to(device), {**payload["info"], "cache_hit": hit, "config": cfg}
