"""The magnitude baselines as Methods: one-shot global magnitude, one-shot random, Han et al.'s prune-retrain.

Han et al. (2015), Sec. 3: prune at a per-layer threshold, retrain the survivors, repeat. The iterations run
once per halving of the weights, so every iteration is an operating point (knob: compression).
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

from torch import nn

from .. import cache
from ..masks import apply_masks, clone, export_state, load_state
from ..models import build_model
from .base import Point, network_of
from .magnitude import ONESHOT, han_prune

VERSION = 1  # bump when a code change alters these baselines' cached results


@dataclass
class OneShot:
    """One-shot pruning without retraining: `values` are compressions (total / kept); `budget` is unused (0)."""

    name: str = (
        "magnitude_global"  # a key of pl.magnitude.ONESHOT: magnitude_global, magnitude_layerwise, random
    )
    family: str = "unstructured"
    knob: str = "compression"

    def points(self, dense: nn.Module, splits, *, values, budget=0, seed: int = 0) -> list[Point]:
        """One pruned copy of `dense` per compression (the random method is seeded by `seed`)."""
        fn, points = ONESHOT[self.name], []
        for c in values:
            t0 = time.perf_counter()
            masks = fn(dense, 1.0 / c, seed=seed) if self.name == "random" else fn(dense, 1.0 / c)
            model = apply_masks(clone(dense), masks)
            points.append(Point(self.name, self.knob, float(c), model, 0.0, time.perf_counter() - t0))
        return points


@dataclass
class Han:
    """Han et al.'s iterative prune-retrain, one iteration per halving down to 1/max(values) of the weights.

    `values` are compressions (powers of two: 2, 4, ...); `budget` is the retraining epochs per iteration, so
    the point at compression 2^k cost k x budget epochs. Cached; every iteration's model is kept.
    """

    name: str = "han"
    family: str = "unstructured"
    knob: str = "compression"
    lr: float = 0.01

    def points(self, dense: nn.Module, splits, *, values, budget, seed: int = 0) -> list[Point]:
        """Every iteration of one prune-retrain run whose compression is in `values`."""
        max_compression = max(values)
        iterations = round(math.log2(max_compression))
        cfg = {
            "method": "h2h-han",
            "dense": cache.fingerprint(dense),
            "data": cache.fingerprint(splits.train, splits.val),
            "iterations": iterations,
            "epochs": budget,
            "lr": self.lr,
            "seed": seed,
        }

        def compute() -> dict:
            states = []
            _, hist = han_prune(
                clone(dense),
                splits.train,
                r_final=1.0 / max_compression,
                iterations=iterations,
                retrain_epochs=budget,
                lr=self.lr,
                seed=seed,
                on_iteration=lambda k, m, row: states.append(export_state(m)),
            )
            return {"states": states, "history": hist}

        payload, hit = cache.cached("h2h-han", cfg, compute, version=VERSION)
        seconds = [sum(payload["history"]["seconds"][: k + 1]) for k in range(iterations)]
        wanted = {float(v) for v in values}
        return [
            Point(
                self.name,
                self.knob,
                float(2 ** (k + 1)),
                load_state(build_model(network_of(dense)), state),
                (k + 1) * float(budget),
                seconds[k],
                hit,
            )
            for k, state in enumerate(payload["states"])
            if float(2 ** (k + 1)) in wanted
        ]
