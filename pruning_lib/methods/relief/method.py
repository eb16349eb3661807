"""NNrelief as a suite `Method` (Dekhovich et al. 2024): every iteration of one iterative run is a point."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar, Literal

from torch import nn

from ..base import Point
from .inputs import pruning_set
from .loop import iteration_models


@dataclass
class Relief:
    """Iterative NNrelief (prune, retrain; final weights, no checkpoint choice) with the authors' optimizer settings.

    `values`: the iterations wanted (positive integers); one run goes to max(values) and the model after each
    wanted iteration is a point (knob "iteration"). `budget`: retraining epochs per iteration, so the point at
    iteration t cost `Point.epochs = t x budget`; the learning rate drops x0.1 at `milestone_fractions` of the
    budget (() for none). A point's seconds are the cumulative seconds of iterations 1..t (as measured when
    computed); cache_hit is True for the iterations loaded from the cache. The family is "unstructured": the
    masks are per connection, although dead and orphaned units go whole.
    """

    n_prune: int = 1000
    alpha_fc: float = 0.95
    alpha_conv: float = 0.9
    milestone_fractions: tuple[float, ...] = (0.5,)
    opt: str = "adam"
    lr: float = 1e-3
    momentum: float = 0.9
    weight_decay: float = 5e-4
    batch_size: int = 120
    variant: str = "paper"
    name: str = "relief"
    family: Literal["unstructured", "structured"] = "unstructured"
    knob: str = "iteration"
    one_run: ClassVar[bool] = True  # one run of max(values) iterations, `budget` epochs each (plan estimates)

    def points(self, dense: nn.Module, splits, *, values, budget, seed: int = 0) -> list[Point]:
        """The model after every wanted iteration of one cached run of max(values) iterations from `dense`."""
        wanted = sorted({int(v) for v in values})
        if not wanted or wanted[0] < 1 or any(float(v) != int(v) for v in values):
            raise ValueError(f"values must be positive whole iteration counts, got {list(values)}")
        prune_X, _ = pruning_set(splits.train, self.n_prune, seed)
        models, hist = iteration_models(
            dense,
            splits.train,
            splits.val,
            iterations=wanted[-1],
            alpha_fc=self.alpha_fc,
            alpha_conv=self.alpha_conv,
            prune_X=prune_X,
            epochs=budget,
            milestones=[f * budget for f in self.milestone_fractions],
            opt=self.opt,
            lr=self.lr,
            momentum=self.momentum,
            weight_decay=self.weight_decay,
            batch_size=self.batch_size,
            variant=self.variant,
            test=None,  # the harness measures every point's test accuracy itself (pl.compare.measure)
            seed=seed,
            progress_bar=False,
        )
        seconds = hist.set_index("iteration")["seconds"].fillna(0).cumsum()
        loaded = hist.attrs.get("resumed_from", 0)
        return [
            Point(
                self.name,
                self.knob,
                float(t),
                models[t - 1],
                t * float(budget),
                float(seconds.loc[t]),
                t <= loaded,
            )
            for t in wanted
        ]
