"""Gradual magnitude pruning (Zhu & Gupta 2017, *To prune, or not to prune*): sparsity grows while training.

The sparsity follows the cubic schedule s_t = s_f + (s_i - s_f)(1 - (t - t0) / (n Δt))^3 from s_i = 0 at the
dense reference to s_f = 1 - 1/compression: `events` mask updates spaced evenly over the first `ramp` of the
budget, each keeping the largest |w| (pruned weights stay pruned); the rest of the budget trains at the final
sparsity. Zhu & Gupta prune every layer to the same sparsity; we use one global threshold by default
(`scope="global"`), because at 100× and beyond a per-layer rule starves LeNet-300-100's 1,000-weight output
layer. Fine-tuning is SGD + momentum with a cosine learning rate over the whole budget, as Han's retraining.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from torch import nn

from .. import cache
from ..masks import apply_masks, clone, export_state, kept_weights, load_state
from ..metrics import check_sparsity
from ..models import build_model
from ..train import fit
from .base import Point, network_of
from .magnitude import global_magnitude_masks, layerwise_magnitude_masks

VERSION = 1  # bump when a change here alters cached results
SCOPES = ("global", "layerwise")


def cubic_sparsity(t: int, t0: int, n: int, dt: int, s_final: float, s_initial: float = 0.0) -> float:
    """Zhu & Gupta's Eq. 1: the sparsity at step t of a ramp of n updates every dt steps from step t0."""
    if t < t0:
        return s_initial
    frac = min(1.0, (t - t0) / (n * dt))
    return s_final + (s_initial - s_final) * (1 - frac) ** 3


def event_steps(total_steps: int, events: int, ramp: float) -> list[int]:
    """The optimiser steps after which the mask is updated: `events` evenly spaced, the last at ramp x total."""
    end = max(1, round(ramp * total_steps))
    return sorted({max(1, round(end * (i + 1) / events)) for i in range(events)})


def gradual_prune(
    model: nn.Module, train, *, compression: float, epochs: float, events: int = 20, ramp: float = 0.75,
    scope: str = "global", lr: float = 0.01, seed: int = 0, batch_size: int = 64,
) -> nn.Module:  # fmt: skip
    """Prune `model` in place to 1/compression of its weights along the cubic schedule while fine-tuning."""
    if scope not in SCOPES:
        raise ValueError(f"scope={scope!r} is not one of {SCOPES}")
    if compression < 1 or events < 1 or not 0 < ramp <= 1:
        raise ValueError(
            f"need compression >= 1, events >= 1, 0 < ramp <= 1; got {compression}, {events}, {ramp}"
        )
    n_train = len(train[1])
    total_steps = max(1, round(epochs * -(-n_train // batch_size)))
    steps = event_steps(total_steps, events, ramp)
    s_final = 1 - 1 / compression

    def after_step(step: int) -> None:
        if step in steps:
            keep = 1 - cubic_sparsity(step, 0, len(steps), steps[-1] / len(steps), s_final)
            if scope == "global":
                apply_masks(model, global_magnitude_masks(model, keep))
            else:
                apply_masks(model, layerwise_magnitude_masks(model, keep))

    fit(model, train, epochs=epochs, lr=lr, seed=seed, batch_size=batch_size, after_step=after_step,
        progress_bar=False, desc=f"gradual {compression:g}x")  # fmt: skip
    return model


@dataclass
class Gradual:
    """Gradual magnitude pruning from the dense reference; `values` are compressions, `budget` the epochs of each run."""

    name: str = "gradual"
    family: str = "unstructured"
    knob: str = "compression"
    events: int = 20
    ramp: float = 0.75
    scope: str = "global"
    lr: float = 0.01

    def points(self, dense: nn.Module, splits, *, values, budget, seed: int = 0) -> list[Point]:
        """One run of `budget` epochs per compression (each point costs `budget` epochs), cached."""
        points = []
        for c in values:
            cfg = {
                "method": "gradual", "dense": cache.fingerprint(dense), "data": cache.fingerprint(splits.train),
                "compression": float(c), "epochs": float(budget), "events": self.events, "ramp": self.ramp,
                "scope": self.scope, "lr": self.lr, "seed": seed,
            }  # fmt: skip

            def compute(c=c) -> dict:
                t0 = time.perf_counter()
                model = gradual_prune(
                    clone(dense), splits.train, compression=float(c), epochs=float(budget), events=self.events,
                    ramp=self.ramp, scope=self.scope, lr=self.lr, seed=seed,
                )  # fmt: skip
                return {"state": export_state(model), "seconds": time.perf_counter() - t0}

            payload, hit = cache.cached("gradual", cfg, compute, version=VERSION)
            model = load_state(build_model(network_of(dense)), payload["state"])
            check_sparsity(model, kept_weights(payload["state"]), f"gradual {c:g}x after reload")
            points.append(
                Point(self.name, self.knob, float(c), model, float(budget), payload["seconds"], hit)
            )
        return points
