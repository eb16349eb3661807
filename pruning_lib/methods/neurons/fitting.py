"""Training the paper's nets on the mean per-sample squared error (Wolfe et al. 2017, Sec. 2 and Sec. 4).

`fit_sse` is `pl.train.fit` with Adam at a constant rate and the SSE loss. `fit_until` keeps its own loop: it
stops at the first check whose training accuracy reaches a target (the project's reproducible "under-trained"
one-vs-all nets), and `pl.train.fit` has no way to stop early.
"""

from __future__ import annotations

import pandas as pd
import torch

from ...data import Batches
from ...train import fit
from .net import SigmoidMLP, mlp_accuracy


def mean_sse_loss(out: torch.Tensor, T: torch.Tensor) -> torch.Tensor:
    """Mean over the batch of E_n = 1/2 sum_i (o_i - t_i)^2 (the training loss for `pl.train.fit`)."""
    return 0.5 * (out - T).square().sum(1).mean()


def fit_sse(
    net: SigmoidMLP,
    X,
    T,
    *,
    epochs: float,
    lr: float,
    batch_size: int,
    seed: int = 0,
    desc: str = "train",
    progress_bar: bool = True,
):
    """Adam (constant learning rate, no weight decay) on the batch mean of E_n; per-epoch history DataFrame."""
    return fit(
        net,
        (X, T),
        epochs=epochs,
        batch_size=batch_size,
        opt="adam",
        lr=lr,
        weight_decay=0.0,
        schedule="constant",
        loss_fn=mean_sse_loss,
        seed=seed,
        desc=desc,
        progress_bar=progress_bar,
    )


def fit_until(
    net: SigmoidMLP,
    X,
    T,
    *,
    lr: float,
    batch_size: int = 600,
    check_every: int = 10,
    target_acc: float = 0.95,
    max_epochs: int = 5,
    seed: int = 0,
) -> pd.DataFrame:
    """Plain SGD on the batch mean of E_n; stop at the first check (every `check_every` batches) whose training-set
    accuracy reaches `target_acc`, or after `max_epochs` (the project's reproducible "under-trained" net)."""
    opt = torch.optim.SGD(net.parameters(), lr=lr)
    batches = Batches(X, T, batch_size, shuffle=True, seed=seed)
    history, step = [], 0
    for _ in range(max_epochs):
        for xb, tb in batches:
            loss = mean_sse_loss(net(xb), tb)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            step += 1
            if step % check_every == 0:
                history.append(
                    {"step": step, "epoch": step / len(batches), "train_acc": mlp_accuracy(net, X, T)}
                )
                if history[-1]["train_acc"] >= target_acc:
                    return pd.DataFrame(history)
    return pd.DataFrame(history)
