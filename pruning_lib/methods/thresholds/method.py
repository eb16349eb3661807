"""Differentiable thresholds as a `Method` of the head-to-head: one operating point per λ."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from torch import nn

from ..base import Point
from .prune import DEFAULTS
from .runs import split_budget, threshold_run


@dataclass
class Thresholds:
    """Manessi et al. 2018's learned per-layer thresholds (joint W/τ training, hard mask, fine-tune), per λ.

    `values` are the λ's (weight of the regularizer R; larger λ, sparser network). `budget` is the training
    after the dense model in epochs: a pair (joint, fine-tune) or a total split 3:1; each Point's `epochs` is
    joint + fine-tune, and its `seconds` the recorded joint + hard-mask + fine-tune time. The other fields are
    `threshold_prune` options (defaults: the project's settings).
    """

    name: ClassVar[str] = "thresholds"
    family: ClassVar[str] = "unstructured"
    knob: ClassVar[str] = "lambda"
    epoch_cost: ClassVar[float] = 4.0  # a parametrized epoch against a plain one (plan estimates)

    reg: str = DEFAULTS["reg"]
    beta_mode: str = DEFAULTS["beta_mode"]
    lr: float = DEFAULTS["lr"]
    lr_tau: float = DEFAULTS["lr_tau"]
    tau0: float = DEFAULTS["tau0"]
    c0: float = DEFAULTS["c0"]
    c1: float = DEFAULTS["c1"]
    batch_size: int = DEFAULTS["batch_size"]
    momentum: float = DEFAULTS["momentum"]
    weight_decay: float = DEFAULTS["weight_decay"]
    progress_bar: bool = False

    def options(self) -> dict:
        """The `threshold_run` keywords of these settings."""
        return {k: getattr(self, k) for k in DEFAULTS if k != "lam"}

    def points(self, dense: nn.Module, splits, *, values, budget, seed: int = 0) -> list[Point]:
        """One Point per λ in `values`: the cached threshold run of `dense` on `splits` at that λ."""
        joint, ft = split_budget(budget)
        points = []
        for lam in values:
            model, hist = threshold_run(
                dense, splits, lam, budget, seed=seed, progress_bar=self.progress_bar, **self.options()
            )
            s = hist.attrs["summary"]
            seconds = s["joint_s"] + s["hard_s"] + s["finetune_s"]
            points.append(
                Point(self.name, self.knob, float(lam), model, joint + ft, seconds, s.get("cache_hit", False))
            )
        return points
