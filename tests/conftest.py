"""Shared test settings: headless matplotlib, no progress bars, a private cache and build folder per test."""

import os

import pytest
import torch
from torch import nn

os.environ.setdefault("MPLBACKEND", "Agg")
os.environ["PRUNING_PROGRESS"] = "0"


@pytest.fixture(autouse=True)
def private_dirs(tmp_path, monkeypatch):
    """Every test gets its own cache and build folder, so tests never touch the user's."""
    monkeypatch.setenv("PRUNING_CACHE", str(tmp_path / "cache"))
    monkeypatch.setenv("PRUNING_BUILD", str(tmp_path / "build"))
    return tmp_path


def mnist_or_skip():
    """Skip a test that needs the real MNIST when `make data` has not run (make test always runs it)."""
    from pruning_lib.data import mnist_present

    if not mnist_present():
        pytest.skip("MNIST is not on disk: run `make data`")


def toy_splits(n=256, seed=0):
    """A tiny 3-class task on 1x4x4 inputs: train / validation / test splits."""
    from pruning_lib.data import Splits

    g = torch.Generator().manual_seed(seed)
    X = torch.randn(n, 1, 4, 4, generator=g)
    y = (X.flatten(1)[:, :3].sum(1) > 0).long() + (X.flatten(1)[:, 3] > 0.5).long()
    cut = n // 2
    return Splits(
        train=(X[:cut], y[:cut]), val=(X[cut : cut + 32], y[cut : cut + 32]), test=(X[cut:], y[cut:])
    )


def toy_net(seed=0):
    """A seeded 16-12-3 MLP for `toy_splits`."""
    torch.manual_seed(seed)
    return nn.Sequential(nn.Flatten(), nn.Linear(16, 12), nn.ReLU(), nn.Linear(12, 3))


class ConvBNNet(nn.Module):
    """conv -> BatchNorm -> ReLU -> fc on 1x6x6 inputs: masks on weights, biases and BatchNorm gamma/beta."""

    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(1, 4, 3)
        self.bn = nn.BatchNorm2d(4)
        self.fc = nn.Linear(4 * 4 * 4, 3)

    def forward(self, x):
        return self.fc(torch.relu(self.bn(self.conv(x))).flatten(1))
