"""The iterative loop's inputs: the authors' seeded theta0, the fixed pruning set, rewinding to theta0 x masks."""

from __future__ import annotations

import torch
from torch import nn

from ...masks import refresh
from ...models import build_model, kaiming_init


def theta0(name: str, seed: int, **kwargs) -> nn.Module:
    """A fresh network with the authors' seeded init (default biases drawn after torch.manual_seed(seed))."""
    torch.manual_seed(seed)
    return kaiming_init(build_model(name, **kwargs), seed)


def pruning_set(train, n: int, seed: int = 0):
    """(X, indices): n training images drawn once with a seeded generator (no augmentation)."""
    X = train[0]
    n = min(n, len(X))
    idx = torch.randperm(len(X), generator=torch.Generator().manual_seed(10_000 + seed))[:n]
    return X[idx], idx


def rewind(model: nn.Module, state: dict) -> nn.Module:
    """Weights <- theta0 x masks: copy theta0 into the raw (`*_orig`) parameters, keeping every mask."""
    own = model.state_dict()
    with torch.no_grad():
        for k, v in state.items():
            target = f"{k}_orig" if f"{k}_orig" in own else k
            if target in own and not target.endswith("_mask"):
                own[target].copy_(v)
    return refresh(model)
