"""Notebook 01's expensive MNIST runs as `pl.jobs` tasks, one plan per stage of the notebook.

The stages follow the notebook's choices: the λ grid first; once the headline λ is chosen on validation, its
extra seeds and the magnitude baselines at the grid's sizes; then the baselines at the headline seeds' sizes;
then the pixel controls. Each task calls the function the notebook calls, with the same arguments, so the
notebook reads every run from the cache.
"""

from __future__ import annotations

import torch

from ...dense import profile_data, reference_model
from ...jobs import EPOCH_SECONDS, Task
from .controls import magnitude_run, pixel_run
from .runs import cached_model

GATED_FACTOR = 4.0  # a gated epoch against a plain one, with its per-epoch evaluations (measured: 3.5-4.5x)
N_WEIGHTS = 266_200  # LeNet-300-100's prunable weights (gradual's compression = N / kept)


def fill_mnist(lam: float, profile: str, epochs: int, seed: int, device: str, recipe: dict) -> None:
    """One gated LeNet-300-100 run (`cached_model`), for its cache entry."""
    cached_model(
        "lenet300", lam, profile, epochs=epochs, seed=seed, device=device, progress_bar=False, **recipe
    )


def mnist_task(lam: float, profile: str, *, epochs: int, seed: int, device="cpu", **recipe) -> Task:
    """The task of one gated LeNet-300-100 run from scratch (seed `seed`, penalty `lam`)."""
    kwargs = dict(
        lam=float(lam), profile=profile, epochs=epochs, seed=seed, device=str(device), recipe=recipe
    )
    cost = epochs * GATED_FACTOR * EPOCH_SECONDS["lenet300"]
    return Task(f"gumbel lambda={lam:g} seed {seed}", f"{__name__}:fill_mnist", kwargs, cost, net="lenet300")


def fill_magnitude_baseline(
    profile: str, kept: int, epochs: float, seed: int, dense_seed: int, device: str
) -> None:
    """Global magnitude to `kept` weights + fine-tuning (`magnitude_run`), for its cache entry."""
    dense, _ = reference_model("lenet300", profile, dense_seed, device)
    magnitude_run(dense, kept, profile_data(profile).train, epochs=epochs, seed=seed)


def fill_gradual_baseline(
    profile: str, kept: int, epochs: float, seed: int, dense_seed: int, device: str
) -> None:
    """Gradual magnitude pruning to `kept` weights, for its cache entry."""
    from ..registry import METHODS

    dense, _ = reference_model("lenet300", profile, dense_seed, device)
    METHODS["gradual"].points(
        dense, profile_data(profile), values=[N_WEIGHTS / kept], budget=epochs, seed=seed
    )


def baseline_task(
    kind: str, profile: str, kept: int, *, epochs: float, seed: int, dense_seed: int, device="cpu"
):
    """The task of one baseline at `kept` weights: kind "magnitude" (fine-tuned) or "gradual"."""
    if kind not in ("magnitude", "gradual"):
        raise ValueError(f"kind={kind!r} is not one of 'magnitude', 'gradual'")
    kwargs = dict(
        profile=profile, kept=int(kept), epochs=epochs, seed=seed, dense_seed=dense_seed, device=str(device)
    )
    cost = epochs * EPOCH_SECONDS["lenet300"]
    return Task(
        f"{kind} {int(kept)} weights seed {seed}",
        f"{__name__}:fill_{kind}_baseline",
        kwargs,
        cost,
        net="lenet300",
    )


def fill_pixels(profile: str, pixels: list, kept: int, epochs: float, seed: int, device: str) -> None:
    """One pixel control (`pixel_run` on the dense reference of `seed`), for its cache entry."""
    dense, _ = reference_model("lenet300", profile, seed, device)
    pixel_run(dense, torch.tensor(pixels), kept, profile_data(profile).train, epochs=epochs, seed=seed)


def pixel_task(name: str, profile: str, pixels, kept: int, *, epochs: float, seed: int, device="cpu") -> Task:
    """The task of one pixel control: the dense reference cut to `pixels`, then pruned to `kept` weights."""
    pixels = [int(p) for p in torch.as_tensor(pixels).tolist()]
    kwargs = dict(
        profile=profile, pixels=pixels, kept=int(kept), epochs=epochs, seed=seed, device=str(device)
    )
    return Task(
        f"pixel control: {name}",
        f"{__name__}:fill_pixels",
        kwargs,
        epochs * EPOCH_SECONDS["lenet300"],
        net="lenet300",
    )
