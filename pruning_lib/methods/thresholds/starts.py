"""Dense starting points of notebook 02: the suite's reference models or Caffe's LeNet solver, one trainer.

Han et al. 2015 started from Caffe's reference LeNets; `dense_recipe="caffe_inv"` mimics Caffe's LeNet solver
(lr 0.01, inv decay γ = 1e-4, power 0.75, 10,000 iterations at batch 64). Both go through `pl.dense.train_dense`.
"""

from __future__ import annotations

import math

from torch import nn

from ...cache import fingerprint
from ...dense import RECIPES, profile_data, reference_model, train_dense

CAFFE_ITERATIONS = 10_000  # Caffe's LeNet solver: max_iter


def dense_on(
    name: str, splits, epochs: float, *, seed: int = 0, recipe: str = "cosine", num_classes: int = 10,
    device="cpu",
) -> tuple[nn.Module, dict]:  # fmt: skip
    """(model, info): a dense `name` trained on splits.train with a named recipe of `pl.dense.RECIPES`, cached.

    The data is keyed by its fingerprint; without a validation split (the transfer task) nothing is monitored.
    """
    data_key = {"data": fingerprint(splits.train, splits.val, splits.test)}
    return train_dense(
        name, splits, epochs=epochs, recipe=RECIPES[recipe], data_key=data_key, seed=seed, device=device,
        model_kwargs={"num_classes": num_classes},
    )  # fmt: skip


def dense_start(name: str, profile: str, seed: int = 0, recipe: str = "cosine", device="cpu"):
    """(model, info): the suite's shared reference ('cosine') or Caffe's LeNet solver ('caffe_inv', 10k steps)."""
    if recipe == "cosine":
        return reference_model(name, profile, seed, device)
    splits = profile_data(profile)
    steps = math.ceil(len(splits.train[1]) / RECIPES[recipe]["batch_size"])
    epochs = 1 if profile == "smoke" else CAFFE_ITERATIONS / steps
    return dense_on(name, splits, epochs, seed=seed, recipe=recipe, device=device)
