"""Training the paper's nets on the mean per-sample squared error (Wolfe et al. 2017, Sec. 2 and Sec. 4).

`fit_sse` is `pl.train.fit` with Adam at a constant rate and the SSE loss. `fit_until` keeps its own loop: it
stops at the first check whose training accuracy reaches a target (the project's reproducible "under-trained"
one-vs-all nets), and `pl.train.fit` has no way to stop early. With `balanced=True` each sample's E_n is
weighted so that every class carries half the loss (`class_weights`): on raw pixels a one-vs-all net trained on
the plain SSE can sit on the plateau of the trivial "not this digit" answer, whose accuracy is the majority
share.
"""

from __future__ import annotations

import pandas as pd
import torch

from ...data import Batches
from ...train import fit
from .net import SigmoidMLP, mlp_accuracy, predicted_labels, target_labels


def mean_sse_loss(out: torch.Tensor, T: torch.Tensor) -> torch.Tensor:
    """Mean over the batch of E_n = 1/2 sum_i (o_i - t_i)^2 (the training loss for `pl.train.fit`)."""
    return 0.5 * (out - T).square().sum(1).mean()


def class_weights(T: torch.Tensor) -> torch.Tensor:
    """Per-sample weights n / (classes x n_class) of 0/1 targets T: every class present gets the same total weight."""
    labels = target_labels(T)
    counts = torch.bincount(labels, minlength=max(2, T.shape[1])).to(T.dtype)
    present = int((counts > 0).sum())
    return len(T) / (present * counts[labels])


def balanced_accuracy(net: SigmoidMLP, X, T) -> float:
    """Mean over the classes present in T of the share of that class predicted correctly (0.5: a constant answer)."""
    with torch.no_grad():
        pred, labels = predicted_labels(net(X), net), target_labels(T)
    recalls = [(pred[labels == c] == c).double().mean().item() for c in labels.unique()]
    return sum(recalls) / len(recalls)


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
    balanced: bool = False,
) -> pd.DataFrame:
    """Plain SGD on the batch mean of E_n; stop at the first check (every `check_every` batches) whose training-set
    accuracy reaches `target_acc`, or after `max_epochs` (the project's reproducible "under-trained" net).

    `balanced`: E_n weighted by `class_weights(T)` (computed on the whole training set), so each class counts
    alike."""
    opt = torch.optim.SGD(net.parameters(), lr=lr)
    W = class_weights(T) if balanced else torch.ones(len(T), dtype=T.dtype, device=T.device)
    batches = Batches(X, torch.cat([T, W[:, None]], 1), batch_size, shuffle=True, seed=seed)
    history, step = [], 0
    for _ in range(max_epochs):
        for xb, tw in batches:
            tb, wb = tw[:, :-1], tw[:, -1]
            loss = (0.5 * (net(xb) - tb).square().sum(1) * wb).mean()
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
