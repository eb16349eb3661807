"""Networks shared by every notebook: LeNet-300-100, LeNet-5 (Caffe variant), MLP."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

ACTIVATIONS = {
    "relu": nn.ReLU,
    "sigmoid": nn.Sigmoid,
    "silu": nn.SiLU,
    "tanh": nn.Tanh,
    "identity": nn.Identity,
}


class LeNet300100(nn.Module):
    """LeNet-300-100: 784-300-100-10 fully connected with ReLU (266,610 parameters)."""

    def __init__(self, num_classes: int = 10):
        super().__init__()
        self.fc1 = nn.Linear(784, 300)
        self.fc2 = nn.Linear(300, 100)
        self.fc3 = nn.Linear(100, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x.flatten(1)
        return self.fc3(F.relu(self.fc2(F.relu(self.fc1(x)))))


class LeNet5(nn.Module):
    """LeNet-5, Caffe variant: conv 20@5x5, pool, conv 50@5x5, pool, fc 800-500-10 (431,080 parameters).

    Caffe has no ReLU after the convolutions; ours does (NNrelief's dead-unit rule needs them).
    """

    def __init__(self, num_classes: int = 10):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 20, 5)
        self.conv2 = nn.Conv2d(20, 50, 5)
        self.fc1 = nn.Linear(800, 500)
        self.fc2 = nn.Linear(500, num_classes)

    def features(self, x: torch.Tensor) -> torch.Tensor:
        """The flattened 800-d output of the convolutional stack."""
        x = F.max_pool2d(F.relu(self.conv1(x)), 2)
        return F.max_pool2d(F.relu(self.conv2(x)), 2).flatten(1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc2(F.relu(self.fc1(self.features(x))))


class MLP(nn.Sequential):
    """Fully connected net over `sizes` with one activation between layers and an optional output one."""

    def __init__(self, sizes: list[int], activation: str = "relu", out_activation: str = "identity"):
        for name in (activation, out_activation):
            if name not in ACTIVATIONS:
                raise ValueError(f"activation {name!r} is not one of {sorted(ACTIVATIONS)}")
        if len(sizes) < 2:
            raise ValueError(f"an MLP needs at least an input and an output size, got {sizes}")
        layers: list[nn.Module] = [nn.Flatten()]
        for i, (n_in, n_out) in enumerate(zip(sizes[:-1], sizes[1:])):
            layers.append(nn.Linear(n_in, n_out))
            last = i == len(sizes) - 2
            layers.append(ACTIVATIONS[out_activation if last else activation]())
        super().__init__(*layers)
        self.sizes = list(sizes)


MODELS = {"lenet300": LeNet300100, "lenet5": LeNet5}


def build_model(name: str, **kwargs) -> nn.Module:
    """A fresh network by name ('lenet300', 'lenet5'), default PyTorch initialisation."""
    if name not in MODELS:
        raise ValueError(f"model {name!r} is not one of {sorted(MODELS)}")
    return MODELS[name](**kwargs)
