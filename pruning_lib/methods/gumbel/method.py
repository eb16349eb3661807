"""Gumbel-softmax gates as a suite `Method` (Zhang, Tao, Zhang 2023): one point per lambda, trained from scratch."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import ClassVar, Literal

from torch import nn

from ..base import Point, network_of
from .runs import cached_model


@dataclass
class Gumbel:
    """Gumbel-softmax gates trained from scratch (the method learns weights and topology together), per lambda.

    `values`: the sparsity weights lambda, one cached run and one point each. `budget`: epochs of gated training
    per lambda (an integer); every run starts from scratch, not from `dense`, so each point costs
    `Point.epochs = budget`. `dense` only names the network (`network_of`). Runs use seed 2050 + seed, the MNIST
    split of `profile` (or the given splits) and `recipe` (any of batch_size, lr, tau, tau_density, init,
    sample_repeats; see `runs.RECIPE`); a point's seconds are the run's training seconds.
    """

    profile: str = "quick"
    recipe: dict = field(default_factory=dict)
    device: str = "cpu"
    name: str = "gumbel"
    family: Literal["unstructured", "structured"] = "unstructured"
    knob: str = "lambda"
    epoch_cost: ClassVar[float] = (
        4.0  # a gated epoch with its evaluations, against a plain one (plan estimates)
    )

    def points(self, dense: nn.Module, splits, *, values, budget, seed: int = 0) -> list[Point]:
        """One point per lambda in `values`: a gated network trained `budget` epochs from scratch, extracted M*."""
        network = network_of(dense)
        points = []
        for lam in values:
            model, hist, hit = cached_model(
                network,
                lam,
                self.profile,
                epochs=budget,
                seed=2050 + seed,
                device=self.device,
                splits=splits,
                progress_bar=False,
                **self.recipe,
            )
            seconds = float(hist["seconds"].sum())
            points.append(Point(self.name, self.knob, float(lam), model, float(budget), seconds, hit))
        return points
