"""The authors' toy task: a gated 4-10-10-2 SiLU MLP, L1 + lambda x D_hat (Zhang, Tao, Zhang 2023, toy tutorial).

x1..x4 ~ U(-1, 1), y1 = 3 sin((x1 - x2)^2), y2 = (x3 + x4)^3 (`pl.data.gumbel_toy`); full-batch Adam for a few
thousand steps from seed 2050. The loop stays bespoke rather than `pl.train.fit`: it is full-batch without
shuffling (fit's shuffled minibatches change the float sums) and logs test losses every `test_every` steps.
"""

from __future__ import annotations

import pandas as pd
import torch
import torch.nn.functional as F

from ...checks import check_range
from ...data import gumbel_toy
from ...models import MLP
from ...train import progress
from .gates import gate_linears, gate_mode, sampled_density, set_mode
from .train import adam, density_row, sampled_eval

TOY_INPUTS = ("x1", "x2", "x3", "x4")
TOY_OUTPUTS = ("y1", "y2")


def toy_model(seed: int = 2050, tau: float = 3.0, init: str = "authors"):
    """(model, gates): the 4-10-10-2 SiLU MLP of the authors' tutorial, drawn after torch.manual_seed(seed)."""
    torch.manual_seed(seed)
    model = MLP([4, 10, 10, 2], activation="silu")
    return model, gate_linears(model, tau, init)


def train_toy(
    steps: int,
    *,
    seed: int = 2050,
    lam: float = 0.01,
    lr: float = 0.01,
    tau: float = 3.0,
    tau_density: float = 1.0,
    log_every: int = 10,
    test_every: int = 50,
    progress_bar: bool = True,
):
    """The authors' tutorial: L1 + lam * D_hat, full-batch Adam; returns (model, history DataFrame, data).

    Logged every `log_every` steps: train L1, D_hat, argmax and expected density; every `test_every`: test MSE
    with a sampled mask (as the authors' code logs it) and with M*.
    """
    check_range("steps", steps, 1, integer=True)
    torch.manual_seed(seed)
    (Xtr, Ytr), (Xte, Yte) = gumbel_toy(2000, seed)
    model, gates = toy_model(seed, tau)
    opt = adam(model.parameters(), lr)
    mse = lambda m, a, b: F.mse_loss(m(a), b).item()  # noqa: E731
    history = []
    for step in progress(range(1, steps + 1), desc="toy", **({} if progress_bar else {"disable": True})):
        l1 = F.l1_loss(model(Xtr), Ytr)
        dhat = sampled_density(gates, tau_density)
        loss = l1 + lam * dhat
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        if step % log_every == 0 or step == steps:
            row = {"step": step, "train_l1": l1.item(), "dhat": dhat.item(), **density_row(gates)}
            if step % test_every == 0 or step == steps:
                row["test_mse_sampled"] = sampled_eval(model, Xte, Yte, 1, seed * 100_000 + step, mse)[0]
                with gate_mode(gates, "argmax"), torch.no_grad():
                    row["test_mse_argmax"] = mse(model, Xte, Yte)
            history.append(row)
    set_mode(gates, "argmax")
    return model, pd.DataFrame(history), {"train": (Xtr, Ytr), "test": (Xte, Yte)}
