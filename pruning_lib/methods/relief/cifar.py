"""CIFAR-10 for NNrelief (Dekhovich et al. 2024, Sec. 4: VGG-like and ResNet-20; only when the data is on disk).

In-memory tensors normalised with ImageNet statistics (as the authors do), their training-time crop and flip,
and `cifar_run`: pretrain (the suite's cached dense trainer, kaiming theta0), then iterative NNrelief.
"""

from __future__ import annotations

from pathlib import Path

import torch
from torch import nn

from ...cache import fingerprint
from ...data import MissingDataError, Splits, split_indices
from ...dense import train_dense
from ...paths import data_dir
from .architecture import alive_units
from .inputs import pruning_set
from .loop import iterative_pruning, records

CIFAR_MEAN = (0.485, 0.456, 0.406)  # the authors normalise CIFAR with ImageNet statistics
CIFAR_STD = (0.229, 0.224, 0.225)


def cifar10_dir(root=None) -> Path:
    """Where torchvision keeps CIFAR-10: `<data>/cifar-10-batches-py`."""
    return Path(root or data_dir()) / "cifar-10-batches-py"


def load_cifar10(root=None, n_val: int = 5000, split_seed: int = 0) -> Splits:
    """CIFAR-10 as normalised in-memory tensors: 45k train / 5k validation (seeded) / 10k test; never downloads."""
    import torchvision  # optional heavy dependency, needed only here

    folder = cifar10_dir(root)
    if not folder.is_dir():
        raise MissingDataError(
            f"CIFAR-10 not found under {folder}; put torchvision's cifar-10-batches-py there"
        )
    mean, std = torch.tensor(CIFAR_MEAN).view(1, 3, 1, 1), torch.tensor(CIFAR_STD).view(1, 3, 1, 1)

    def tensors(train):
        ds = torchvision.datasets.CIFAR10(str(folder.parent), train=train, download=False)
        X = torch.from_numpy(ds.data).permute(0, 3, 1, 2).float() / 255.0
        return (X - mean) / std, torch.tensor(ds.targets)

    X, y = tensors(True)
    tr, va = split_indices(len(y), n_val, split_seed)
    return Splits(train=(X[tr], y[tr]), val=(X[va], y[va]), test=tensors(False))


class CifarAugment(nn.Module):
    """Training-time RandomCrop(32, padding 4, black padding) and horizontal flip on normalised images."""

    def __init__(self, padding: int = 4):
        super().__init__()
        self.padding = padding
        self.register_buffer("fill", -torch.tensor(CIFAR_MEAN) / torch.tensor(CIFAR_STD), persistent=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not self.training:
            return x
        n, c, h, w = x.shape
        p = self.padding
        xp = self.fill.to(x).view(1, c, 1, 1).repeat(n, 1, h + 2 * p, w + 2 * p)
        xp[:, :, p : p + h, p : p + w] = x
        oy = torch.randint(0, 2 * p + 1, (n, 1), device=x.device) + torch.arange(h, device=x.device)
        ox = torch.randint(0, 2 * p + 1, (n, 1), device=x.device) + torch.arange(w, device=x.device)
        i = torch.arange(n, device=x.device)[:, None, None, None]
        ch = torch.arange(c, device=x.device)[None, :, None, None]
        out = xp[i, ch, oy[:, None, :, None], ox[:, None, None, :]]
        flip = torch.rand(n, device=x.device) < 0.5
        return torch.where(flip[:, None, None, None], out.flip(-1), out)

    def extra_repr(self) -> str:
        return f"padding={self.padding}"


def cifar_run(
    name: str,
    splits,
    *,
    dense_epochs: float,
    dense_milestones,
    opt: str,
    lr: float,
    iterations: int,
    epochs: float,
    milestones,
    alpha_conv: float,
    alpha_fc: float,
    n_prune: int = 1000,
    variant: str = "paper",
    seed: int = 0,
    device="cpu",
    model_kwargs: dict | None = None,
    progress_bar: bool = True,
) -> dict:
    """Pretrain a CIFAR network (cached, augmented, final epoch), run NNrelief; the summary numbers."""
    model_kwargs = model_kwargs or {}
    recipe = dict(opt=opt, lr=lr, momentum=0.9, weight_decay=5e-4, batch_size=120, schedule="multistep")
    recipe["milestones"] = list(dense_milestones)
    data_key = {
        "dataset": "cifar10",
        "data": fingerprint(splits.train[0][::97], splits.train[1]),
        "val": fingerprint(splits.val[0][::17], splits.val[1]),
    }
    dense, info = train_dense(
        name, splits, epochs=dense_epochs, recipe=recipe, data_key=data_key, seed=seed, device=device,
        model_kwargs=model_kwargs, init="kaiming_normal", augment=CifarAugment(),
        progress_bar=progress_bar,
    )  # fmt: skip
    prune_X, _ = pruning_set(splits.train, n_prune, seed)
    net, hist = iterative_pruning(
        dense,
        splits.train,
        splits.val,
        iterations=iterations,
        alpha_fc=alpha_fc,
        alpha_conv=alpha_conv,
        prune_X=prune_X,
        epochs=epochs,
        milestones=milestones,
        opt=opt,
        lr=lr,
        variant=variant,
        test=splits.test,
        seed=seed,
        augment=CifarAugment(),
        progress_bar=progress_bar,
        desc=f"NNrelief {name}",
    )
    first, last = hist.iloc[0], hist.iloc[-1]
    return {
        "dense_cache_hit": info["cache_hit"],
        "dense_test_acc": float(first["test_acc"]),
        "test_acc": float(last["test_acc"]),
        "drop_pp": float(100 * (first["test_acc"] - last["test_acc"])),
        "remaining_pct": float(last["params_pct"]),
        "cr": float(last["cr_params"]),
        "flops_structured_reduction": float(last["flops_structured_reduction"]),
        "alive_channels": alive_units(net),
        "iterations": records(hist),
    }
