"""The pipeline of Manessi et al. 2018 as rebuilt here: joint W/τ training, hard mask, fine-tuning.

Weights (SGD, cosine) and thresholds (Adam) are trained jointly on cross-entropy + λ·R while c is annealed from
c0 to c1; then the hard mask |W| > t is applied to the raw weights and the survivors are fine-tuned with the
mask fixed. Both phases run in `pl.train.fit`: the joint phase through its `loss_fn`, `params` and `after_step`
hooks (the τ step, the clamp at 0, the next c and the log).
"""

from __future__ import annotations

import math
import time

import pandas as pd
import torch
import torch.nn.functional as F
from torch import nn

from ...masks import apply_masks, prunable_layers
from ...metrics import check_sparsity, counts, layer_table
from ...train import evaluate, fit
from ..magnitude import error_pct
from .functions import BETA_MODES, REGULARIZERS, c_schedule
from .parametrize import SoftThreshold, attach, detach, hard_masks, hard_remaining, set_c, step_regularizer

DEFAULTS = {  # the project's settings (the paper's are not public); every one is a keyword of `threshold_prune`
    "lam": 2.0,
    "reg": "l0",
    "lr": 0.005,
    "lr_tau": 0.01,
    "tau0": 0.5,
    "c0": 50.0,
    "c1": 1000.0,
    "beta_mode": "anneal",
    "batch_size": 64,
    "momentum": 0.9,
    "weight_decay": 5e-4,
}


class JointPhase:
    """The joint phase's hooks for `fit`: loss CE + λ·R, then the Adam step on τ, the clamp, the next c, the log."""

    def __init__(self, model, params: dict[str, SoftThreshold], *, reg, lam, lr_tau, c0, c1, beta_mode, total,
                 steps_per_epoch, log_every):  # fmt: skip
        self.model, self.params, self.reg, self.lam = model, params, reg, 0.0 if reg == "none" else float(lam)
        self.schedule = (c0, c1, beta_mode)
        self.total, self.steps_per_epoch, self.log_every = total, steps_per_epoch, log_every
        self.opt_tau = torch.optim.Adam([p.tau for p in params.values()], lr=lr_tau)
        self.c = c_schedule(0, total, *self.schedule)
        set_c(params, self.c)
        self.history = [self.row(0)]
        self.t0, self.ce_sum, self.r_sum, self.seen = time.perf_counter(), 0.0, 0.0, 0

    def row(self, step: int, **extra) -> dict:
        """Thresholds, τ and hard % remaining per layer and in total at one joint step."""
        head = {"phase": "joint", "step": step, "epoch": step / self.steps_per_epoch, "c": self.c, **extra}
        return {**head, **hard_remaining(self.model, self.params)}

    def loss(self, out: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        """CE + λ·R for one step (CE alone when λ = 0); R_l0 reuses this forward pass."""
        ce = F.cross_entropy(out, y)
        r = step_regularizer(self.reg, self.model, self.params, self.c)
        self.ce_sum, self.seen = self.ce_sum + ce.item(), self.seen + 1
        self.r_sum += float(r.detach())
        return ce + self.lam * r if self.lam else ce

    def after_step(self, step: int) -> None:
        """Adam step on τ, τ <- max(τ, 0), the log every `log_every` steps, then c for the next step."""
        self.opt_tau.step()
        self.opt_tau.zero_grad(set_to_none=True)
        with torch.no_grad():
            for p in self.params.values():
                p.tau.clamp_(min=0.0)
                p.kept = None
        if step % self.log_every == 0 or step == self.total:
            extra = {"ce": self.ce_sum / self.seen, "reg": self.r_sum / self.seen}
            self.history.append(self.row(step, **extra, seconds=time.perf_counter() - self.t0))
            self.ce_sum, self.r_sum, self.seen = 0.0, 0.0, 0
        self.c = c_schedule(step, self.total, *self.schedule)
        set_c(self.params, self.c)


def check_options(reg: str, beta_mode: str, joint_epochs, finetune_epochs, lam, tau0) -> None:
    """Raise ValueError on an unknown regularizer or β mode, or on a negative budget, λ or τ0."""
    if reg not in REGULARIZERS:
        raise ValueError(f"reg={reg!r} is not one of {REGULARIZERS}")
    if beta_mode not in BETA_MODES:
        raise ValueError(f"beta_mode={beta_mode!r} is not one of {BETA_MODES}")
    if joint_epochs <= 0 or finetune_epochs < 0 or lam < 0 or tau0 < 0:
        raise ValueError("need joint_epochs > 0, finetune_epochs >= 0, lam >= 0 and tau0 >= 0")


def harden(model: nn.Module, params: dict[str, SoftThreshold]) -> dict:
    """Apply the hard mask |W| > t to the raw W (not to v(W)) and remove the parametrizations; τ, t, s, kept."""
    names = list(params)
    out = {
        "tau": {n: params[n].tau.item() for n in names},
        "t": {n: params[n].threshold().item() for n in names},
        "scale": {n: params[n].scale.item() for n in names},
    }
    masks = hard_masks(model, params)
    out["weights_kept"] = sum(int(m.sum()) for m in masks.values())
    detach(model)
    with torch.no_grad():
        for name, m in prunable_layers(model).items():
            m.weight.mul_(masks[name])
    apply_masks(model, masks)
    return out


def threshold_prune(
    model: nn.Module,
    train,
    *,
    joint_epochs: float = 6,
    finetune_epochs: float = 2,
    lam: float = 2.0,
    reg: str = "l0",
    lr: float = 0.005,
    lr_tau: float = 0.01,
    tau0: float = 0.5,
    c0: float = 50.0,
    c1: float = 1000.0,
    beta_mode: str = "anneal",
    batch_size: int = 64,
    momentum: float = 0.9,
    weight_decay: float = 5e-4,
    seed: int = 0,
    test=None,
    val=None,
    log_every: int = 50,
    progress_bar: bool = True,
):
    """Joint W/τ training, hard mask, fine-tune, in place; returns (model with prune masks, history DataFrame).

    history.attrs["summary"] holds the three test errors (soft, hard before fine-tuning, final; with `test`),
    the final τ and t per layer, counts and the wall time per phase.
    """
    check_options(reg, beta_mode, joint_epochs, finetune_epochs, lam, tau0)
    X, y = train
    sgd = {"batch_size": batch_size, "lr": lr, "momentum": momentum, "weight_decay": weight_decay}
    params = attach(model, tau0, c_schedule(0, 1, c0, c1, beta_mode))
    steps_per_epoch = math.ceil(len(y) / batch_size)
    total = max(1, round(joint_epochs * steps_per_epoch))
    joint = JointPhase(model, params, reg=reg, lam=lam, lr_tau=lr_tau, c0=c0, c1=c1, beta_mode=beta_mode,
                       total=total, steps_per_epoch=steps_per_epoch, log_every=log_every)  # fmt: skip
    fit(
        model, train, epochs=joint_epochs, schedule="cosine", seed=seed, **sgd, loss_fn=joint.loss,
        after_step=joint.after_step, params=[p for n, p in model.named_parameters() if not n.endswith(".tau")],
        progress_bar=progress_bar, desc=f"joint λ={lam:g} {reg}",
    )  # fmt: skip
    c_end = c_schedule(total, total, c0, c1, beta_mode)
    summary = {"joint_s": time.perf_counter() - joint.t0, "c_end": c_end}
    set_c(params, c_end)
    if test is not None:
        summary["error_soft_pct"] = error_pct(evaluate(model, *test)["acc"])
    t1 = time.perf_counter()
    summary.update(harden(model, params))
    if test is not None:
        summary["error_hard_pct"] = error_pct(evaluate(model, *test)["acc"])
    summary["hard_s"] = time.perf_counter() - t1
    t2 = time.perf_counter()
    ft = pd.DataFrame()
    if finetune_epochs > 0:
        ft = fit(
            model, train, epochs=finetune_epochs, schedule="cosine", seed=seed + 1, **sgd,
            progress_bar=progress_bar, desc="fine-tune",
        ).assign(phase="finetune")  # fmt: skip
    summary["finetune_s"] = time.perf_counter() - t2
    check_sparsity(model, summary["weights_kept"], f"thresholds λ={lam:g} after fine-tuning")
    if test is not None:
        summary["error_final_pct"] = error_pct(evaluate(model, *test)["acc"])
    if val is not None:
        summary["val_error_final_pct"] = error_pct(evaluate(model, *val)["acc"])
    summary["joint_weights_pct"] = joint.history[-1]["weights_pct"]
    summary["counts"] = counts(model)
    summary["per_layer"] = layer_table(model, tuple(X.shape[1:])).to_dict("records")
    hist = pd.concat([pd.DataFrame(joint.history), ft], ignore_index=True)
    hist.attrs["summary"] = summary
    return model, hist
