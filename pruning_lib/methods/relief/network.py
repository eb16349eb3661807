"""The network as NNrelief sees it: a conv stack then an FC stack (LeNets, VGG-like, MLPs), or ResNet-20 blocks.

The variant switch picks the paper's equations or the authors' code for the cut and the conv scores
(Dekhovich et al. 2024, Sec. 3; the code is github.com/adekhovich/NNrelief).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from ...models import MLP, LeNet5, LeNet300100, ResNet20, VGGLike

VARIANTS = ("paper", "code")


@dataclass
class ConvLayer:
    """A conv layer with its BatchNorm (or None) and the pool that follows its ReLU (or None)."""

    name: str
    conv: nn.Conv2d
    bn: nn.BatchNorm2d | None = None
    pool: nn.Module | None = None


@dataclass
class FCLayer:
    """A Linear layer and the activation after it (ReLU for hidden layers, identity at the output)."""

    name: str
    fc: nn.Linear
    act: Any = None


@dataclass
class Plan:
    """Conv stack then FC stack, in forward order, plus the input shape of one example."""

    convs: list[ConvLayer] = field(default_factory=list)
    fcs: list[FCLayer] = field(default_factory=list)
    input_shape: tuple = ()


def _relu(x):
    return F.relu(x)


def _identity(x):
    return x


def _vgg_plan(model: VGGLike) -> Plan:
    """VGG-like: every conv with its BatchNorm and pool, then the classifier's Linear layers."""
    convs: list[ConvLayer] = []
    for i, m in enumerate(model.features):
        if isinstance(m, nn.Conv2d):
            convs.append(ConvLayer(f"features.{i}", m))
        elif isinstance(m, nn.BatchNorm2d):
            convs[-1].bn = m
        elif isinstance(m, nn.MaxPool2d):
            convs[-1].pool = m
    linears = [(f"classifier.{i}", m) for i, m in enumerate(model.classifier) if isinstance(m, nn.Linear)]
    fcs = [FCLayer(n, m, _relu) for n, m in linears[:-1]] + [FCLayer(*linears[-1], _identity)]
    return Plan(convs, fcs, (model.features[0].in_channels, 32, 32))


def plan(model: nn.Module) -> Plan:
    """The conv/FC plan of LeNet-300-100, LeNet-5, VGG-like or an MLP (ResNet-20 has its own code path)."""
    if isinstance(model, LeNet300100):
        fcs = [FCLayer("fc1", model.fc1, _relu), FCLayer("fc2", model.fc2, _relu)]
        return Plan([], fcs + [FCLayer("fc3", model.fc3, _identity)], (1, 28, 28))
    if isinstance(model, LeNet5):
        convs = [ConvLayer("conv1", model.conv1, None, nn.MaxPool2d(2))]
        convs.append(ConvLayer("conv2", model.conv2, None, nn.MaxPool2d(2)))
        fcs = [FCLayer("fc1", model.fc1, _relu), FCLayer("fc2", model.fc2, _identity)]
        return Plan(convs, fcs, (1, 28, 28))
    if isinstance(model, VGGLike):
        return _vgg_plan(model)
    if isinstance(model, MLP):
        mods = list(model.named_children())
        fcs = [FCLayer(n, m, mods[i + 1][1]) for i, (n, m) in enumerate(mods) if isinstance(m, nn.Linear)]
        return Plan([], fcs, (fcs[0].fc.in_features,))
    raise TypeError(f"NNrelief has no plan for {type(model).__name__}")


def conv_forward(p: Plan, X: torch.Tensor) -> torch.Tensor:
    """X through the plan's conv stack (conv, BN, ReLU, pool), flattened; X itself when there are no convs."""
    A = X
    for L in p.convs:
        A = F.relu(L.bn(L.conv(A)) if L.bn is not None else L.conv(A))
        A = L.pool(A) if L.pool is not None else A
    return A.flatten(1)


def resnet_blocks(model: ResNet20) -> list[tuple[str, nn.Module]]:
    """(qualified name, block) of every basic block, in forward order."""
    return [(f"{s}.{i}", b) for s in ("layer1", "layer2", "layer3") for i, b in enumerate(getattr(model, s))]


def input_shape(model: nn.Module) -> tuple:
    """The shape of one input example of a supported network."""
    return (3, 32, 32) if isinstance(model, ResNet20) else plan(model).input_shape


def variant_options(variant: str, model: nn.Module) -> dict:
    """cut / conv_order / conv_agg of a variant: "paper" (the equations) or "code" (the authors' code)."""
    if variant not in VARIANTS:
        raise ValueError(f"variant={variant!r} is not one of {VARIANTS}")
    if variant == "paper":
        return {"cut": "paper", "conv_order": "mean_of_norm", "conv_agg": "fro"}
    if isinstance(model, VGGLike | ResNet20):
        return {"cut": "code", "conv_order": "norm_of_mean", "conv_agg": "fro"}
    return {"cut": "code", "conv_order": "mean_of_norm", "conv_agg": "l1"}
