"""Epoch times measured on the machine a plan runs on, so that the plan's printed estimate is this machine's.

A task's `cost` is written in the units of `pl.jobs.EPOCH_SECONDS`: seconds of a training epoch on the 2-core CPU
the suite was written on. `mnist_epochs` times a few Adam steps of each network on the chosen device, with the
torch threads each worker will have, and scales them to an epoch of the 55,000 training images; `factors` divides
them by the table, and `pl.jobs.estimate` multiplies each task's cost by its network's factor. A measurement is
cached per machine (device name, CPU count, threads, torch version), so it costs a few seconds once.
"""

from __future__ import annotations

import math
import os
import time

import torch
import torch.nn.functional as F

from .cache import cached
from .models import build_model
from .timings import cpu_model

NETWORKS = ("lenet300", "lenet5")
TRAIN_IMAGES, BATCH = 55_000, 64  # the suite's MNIST training split and dense batch size


def device_name(device) -> str:
    """The device in words: the GPU's name, or the CPU's (with its core count)."""
    device = torch.device(device)
    if device.type == "cuda":
        return torch.cuda.get_device_name(device)
    return f"{cpu_model()}, {os.cpu_count()} cores"


def _sync(device: torch.device) -> None:
    """Wait for the device's queued work (a no-op on the CPU)."""
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def step_seconds(model: torch.nn.Module, device, steps: int = 20, batch: int = BATCH, warmup: int = 3,
                 shape: tuple = (1, 28, 28)) -> float:  # fmt: skip
    """Seconds per Adam step of `model` on one random batch of `shape` images on `device` (after `warmup` steps)."""
    device = torch.device(device)
    model = model.to(device)
    X, y = torch.randn(batch, *shape, device=device), torch.randint(0, 10, (batch,), device=device)
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)

    def step():
        opt.zero_grad(set_to_none=True)
        F.cross_entropy(model(X), y).backward()
        opt.step()

    for _ in range(warmup):
        step()
    _sync(device)
    t0 = time.perf_counter()
    for _ in range(steps):
        step()
    _sync(device)
    return (time.perf_counter() - t0) / steps


def measured_epoch(name: str, images: int, batch: int, device="cpu", threads: int | None = None, steps: int = 20,
                   warmup: int = 3, shape: tuple = (1, 28, 28), **model_kwargs) -> float:  # fmt: skip
    """Seconds of one training epoch (`images` in batches of `batch`) of `build_model(name)` on `device`, cached.

    Measured with `threads` torch threads (default: the current number) and the caller's random stream untouched.
    """
    threads = threads or torch.get_num_threads()
    cfg = {"network": name, "model_kwargs": model_kwargs, "shape": list(shape), "images": images, "batch": batch,
           "device": device_name(device), "cpus": os.cpu_count(), "threads": threads, "torch": torch.__version__,
           "steps": steps, "warmup": warmup}  # fmt: skip

    def compute() -> dict:
        old = torch.get_num_threads()
        torch.set_num_threads(threads)
        try:
            with torch.random.fork_rng(devices=[]):
                torch.manual_seed(0)
                model = build_model(name, **model_kwargs)
                sec = step_seconds(model, device, steps, batch, warmup, tuple(shape))
        finally:
            torch.set_num_threads(old)
        return {"seconds": sec * math.ceil(images / batch)}

    return cached("epoch-seconds", cfg, compute)[0]["seconds"]


def mnist_epochs(device="cpu", threads: int | None = None, steps: int = 20) -> dict:
    """Measured seconds of one MNIST training epoch of each network on `device` with `threads` torch threads."""
    return {net: measured_epoch(net, TRAIN_IMAGES, BATCH, device, threads, steps) for net in NETWORKS}


def factors(measured: dict, table: dict) -> dict:
    """Per network, measured epoch seconds over `table`'s (`pl.jobs.EPOCH_SECONDS`: the units of a task's cost)."""
    return {net: measured[net] / table[net] for net in table if net in measured}
