"""Networks shared by every notebook: LeNet-300-100, LeNet-5 (Caffe variant), MLP, CIFAR VGG-like, ResNet-20."""

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


class Conv2dCL(nn.Conv2d):
    """nn.Conv2d that hands its weight to the convolution in channels-last strides, masked or gated alike.

    A masked or parametrized weight (W * mask) of a one-input-channel conv (LeNet-5's conv1) comes out with NCHW
    strides, which are also "channels-last contiguous" for C = 1, so oneDNN then runs the slow NCHW kernel
    (3.6x slower for conv1 on one thread). The clone costs one copy of the weight, not of the activations.
    """

    def _conv_forward(
        self, input: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor | None
    ) -> torch.Tensor:
        if weight.stride(1) != 1:
            weight = weight.clone(memory_format=torch.channels_last)
        return super()._conv_forward(input, weight, bias)


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
        self.conv1 = Conv2dCL(1, 20, 5)
        self.conv2 = Conv2dCL(20, 50, 5)
        self.fc1 = nn.Linear(800, 500)
        self.fc2 = nn.Linear(500, num_classes)
        # Channels-last conv weights and inputs run ~1.8x faster on a CPU (oneDNN), pooling first included.
        # torch.nn.utils.prune's l1_unstructured and global_unstructured call .view(-1) on the weight, which a
        # channels-last tensor refuses: call .to(memory_format=torch.contiguous_format) on the model first.
        self.to(memory_format=torch.channels_last)

    def features(self, x: torch.Tensor) -> torch.Tensor:
        """The flattened 800-d output of the convolutional stack (conv, ReLU, 2x2 max-pool, twice).

        The pooling runs before the ReLU: max-pooling commutes with a monotone activation, so the function and
        its gradient are those of conv-ReLU-pool, with the ReLU on a quarter of the elements.
        """
        x = F.relu(F.max_pool2d(self.conv1(x.contiguous(memory_format=torch.channels_last)), 2))
        return F.relu(F.max_pool2d(self.conv2(x), 2)).flatten(1)

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


VGG16_CFG = [64, 64, "M", 128, 128, "M", 256, 256, 256, "M", 512, 512, 512, "M", 512, 512, 512, "M"]


class VGGLike(nn.Module):
    """CIFAR VGG-like: VGG-16 convs (bias, BN, ReLU), classifier Dropout-FC512-ReLU-FC (14,982,474 conv+FC params).

    `width` scales every channel count and the hidden FC size (width=1/8 gives a tiny net for tests).
    """

    def __init__(self, num_classes: int = 10, width: float = 1.0, in_channels: int = 3, cfg=None):
        super().__init__()
        layers: list[nn.Module] = []
        c = in_channels
        for v in cfg or VGG16_CFG:
            if v == "M":
                layers.append(nn.MaxPool2d(2))
            else:
                out = max(1, round(v * width))
                layers += [nn.Conv2d(c, out, 3, padding=1), nn.BatchNorm2d(out), nn.ReLU()]
                c = out
        hidden = max(1, round(512 * width))
        self.features = nn.Sequential(*layers)
        self.classifier = nn.Sequential(
            nn.Dropout(), nn.Linear(c, hidden), nn.ReLU(), nn.Linear(hidden, num_classes)
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.classifier(self.features(x).flatten(1))


class ShortcutA(nn.Module):
    """Option-A shortcut (identity, or stride-2 subsampling with planes//4 zero channels each side) x a channel mask."""

    def __init__(self, in_planes: int, planes: int, stride: int = 1):
        super().__init__()
        self.downsample = stride != 1 or in_planes != planes
        self.pad = planes // 4 if self.downsample else 0
        self.register_buffer("mask", torch.ones(planes))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.downsample:
            x = F.pad(x[:, :, ::2, ::2], (0, 0, 0, 0, self.pad, self.pad))
        return x * self.mask.view(1, -1, 1, 1)


class BasicBlock(nn.Module):
    """ResNet basic block: relu(bn2(conv2(relu(bn1(conv1(x))))) + shortcut(x)), bias-free 3x3 convs."""

    def __init__(self, in_planes: int, planes: int, stride: int = 1):
        super().__init__()
        self.conv1 = nn.Conv2d(in_planes, planes, 3, stride=stride, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(planes)
        self.conv2 = nn.Conv2d(planes, planes, 3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(planes)
        self.shortcut = ShortcutA(in_planes, planes, stride)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = F.relu(self.bn1(self.conv1(x)))
        return F.relu(self.bn2(self.conv2(out)) + self.shortcut(x))


class ResNet20(nn.Module):
    """CIFAR ResNet-20 (16/32/64 channels, option-A shortcuts): 268,346 conv+FC parameters, stem included."""

    def __init__(self, num_classes: int = 10, blocks: tuple[int, int, int] = (3, 3, 3)):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 16, 3, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(16)
        in_planes, stages = 16, []
        for planes, n, stride in zip((16, 32, 64), blocks, (1, 2, 2)):
            stage = []
            for s in [stride] + [1] * (n - 1):
                stage.append(BasicBlock(in_planes, planes, s))
                in_planes = planes
            stages.append(nn.Sequential(*stage))
        self.layer1, self.layer2, self.layer3 = stages
        self.linear = nn.Linear(64, num_classes)

    def features(self, x: torch.Tensor) -> torch.Tensor:
        """The 64-d globally average-pooled output of the last stage."""
        out = F.relu(self.bn1(self.conv1(x)))
        out = self.layer3(self.layer2(self.layer1(out)))
        return out.mean(dim=(2, 3))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.linear(self.features(x))


MODELS = {"lenet300": LeNet300100, "lenet5": LeNet5, "vgg_like": VGGLike, "resnet20": ResNet20}


def build_model(name: str, **kwargs) -> nn.Module:
    """A fresh network by name (a key of MODELS), default PyTorch initialisation."""
    if name not in MODELS:
        raise ValueError(f"model {name!r} is not one of {sorted(MODELS)}")
    return MODELS[name](**kwargs)


def kaiming_init(model: nn.Module, seed: int) -> nn.Module:
    """NNrelief's init: kaiming_normal_ on Linear/Conv2d weights (seeded), PyTorch default biases."""
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, nn.Linear | nn.Conv2d):
                m.weight.copy_(nn.init.kaiming_normal_(torch.empty_like(m.weight, device="cpu"), generator=g))
    return model
