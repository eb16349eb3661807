"""A transfer-learning proxy for Manessi et al. 2018's claim that pruned features transfer as well as dense ones.

The paper's transfer study is not public; the project's proxy freezes a LeNet-5 up to the fc1 ReLU and fits a
multinomial logistic-regression probe (L-BFGS, float64) on classes the network never saw.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from ...cache import cached, fingerprint
from ...data import subset
from .functions import VERSION


@torch.no_grad()
def fc1_features(model: nn.Module, X: torch.Tensor, batch_size: int = 4096) -> torch.Tensor:
    """LeNet-5 features up to the fc1 ReLU (500-d), in eval mode."""
    model.eval()
    device = next(model.parameters()).device
    out = [
        F.relu(model.fc1(model.features(X[i : i + batch_size].to(device)))).cpu()
        for i in range(0, len(X), batch_size)
    ]
    return torch.cat(out)


def linear_probe(
    f_train, y_train, f_test, y_test, *, l2: float = 1e-4, max_iter: int = 200, classes: int | None = None
) -> dict:
    """Multinomial logistic regression on standardized features (L-BFGS, float64); accuracy and per-image hits.

    Loss = mean cross-entropy + l2·||W||² (bias unpenalized); the standardization uses the training features.
    """
    mean, std = f_train.double().mean(0), f_train.double().std(0).clamp_min(1e-6)
    a, b = (f_train.double() - mean) / std, (f_test.double() - mean) / std
    labels = torch.unique(y_train)
    k = classes or len(labels)
    remap = torch.full((int(labels.max()) + 1,), -1, dtype=torch.long)
    remap[labels] = torch.arange(len(labels))
    ya, yb = remap[y_train], remap[y_test]
    W = torch.zeros(a.shape[1], k, dtype=torch.float64, requires_grad=True)
    bias = torch.zeros(k, dtype=torch.float64, requires_grad=True)
    opt = torch.optim.LBFGS(
        [W, bias], lr=1, max_iter=max_iter, tolerance_grad=1e-9, tolerance_change=1e-12,
        history_size=20, line_search_fn="strong_wolfe",
    )  # fmt: skip

    def objective():
        return F.cross_entropy(a @ W + bias, ya) + l2 * (W * W).sum()

    def closure():
        opt.zero_grad()
        loss = objective()
        loss.backward()
        return loss

    opt.step(closure)
    grad_norm = torch.cat([g.flatten() for g in torch.autograd.grad(objective(), [W, bias])]).norm().item()
    with torch.no_grad():
        logits = b @ W + bias
        hits = logits.argmax(1) == yb
        acc = hits.double().mean().item()
        train_acc = ((a @ W + bias).argmax(1) == ya).double().mean().item()
    return {"acc": acc, "train_acc": train_acc, "grad_norm": grad_norm, "iterations": opt.state[W]["n_iter"],
            "correct": hits}  # fmt: skip


def transfer_probe(
    model: nn.Module, train, test, *, l2: float = 1e-4, max_iter: int = 200, cache=True
) -> dict:
    """Linear probe on `model`'s frozen fc1 features: fit on `train`, score on `test` (cached by inputs)."""
    cfg = {
        "method": "probe",
        "model": fingerprint(model),
        "data": fingerprint(train, test),
        "l2": l2,
        "max_iter": max_iter,
        "per_image": True,  # the payload holds per-image correctness (for paired intervals)
    }

    def compute():
        fa, fb = fc1_features(model, train[0]), fc1_features(model, test[0])
        return linear_probe(fa, train[1], fb, test[1], l2=l2, max_iter=max_iter)

    if not cache:
        return {**compute(), "cache_hit": False}
    out, hit = cached("thresholds-probe", cfg, compute, version=VERSION)
    return {**{k: v for k, v in out.items() if k != "config"}, "cache_hit": hit}


def digits(X: torch.Tensor, y: torch.Tensor, keep, n: int | None = None, relabel: bool = False):
    """The images of the digits in `keep` (first n, stratified), labels optionally renumbered 0..len(keep)-1."""
    sel = torch.isin(y, torch.tensor(list(keep)))
    Xs, ys = subset(X[sel], y[sel], n)
    if relabel:
        lut = torch.full((10,), -1, dtype=torch.long)
        lut[torch.tensor(list(keep))] = torch.arange(len(keep))
        ys = lut[ys]
    return Xs, ys
