"""Compaction and sparse inference compute exactly what the masked model computes, with fewer stored numbers."""

import pytest
import torch

from pruning_lib import inference, masks
from pruning_lib.models import MLP, LeNet5, LeNet300100


def _masked_mlp_like(model, seed=0):
    g = torch.Generator().manual_seed(seed)
    layers = masks.prunable_layers(model)
    names = list(layers)
    keep = {n: torch.rand(m.weight.shape, generator=g) < 0.3 for n, m in layers.items()}
    keep[names[0]][:40] = False  # 40 first-layer units with no inputs: constant outputs, folded downstream
    keep[names[1]][:, 40:70] = False  # 30 first-layer units nobody reads
    keep[names[0]][:, :100] = False  # the first 100 inputs are read by no unit
    with torch.no_grad():
        for m in layers.values():
            m.bias.uniform_(-0.5, 0.5)
    return masks.apply_masks(model, keep)


@pytest.mark.parametrize("make", [LeNet300100, lambda: MLP([784, 300, 50, 10], "sigmoid", "sigmoid")])
def test_compact_mlp_is_the_same_function(make):
    torch.manual_seed(0)
    model = _masked_mlp_like(make()).eval()
    x = torch.rand(16, 1, 28, 28)
    small = inference.compact(model)
    assert torch.allclose(small(x), model(x), atol=1e-5)
    assert small.layers[0].out_features <= 300 - 70
    assert small.inputs.numel() <= 784 - 100
    assert torch.allclose(inference.sparse(model)(x), model(x), atol=1e-5)
    assert inference.param_count(small) < sum(p.numel() for p in make().parameters())


def test_compact_lenet5_folds_dead_filters_and_units():
    torch.manual_seed(1)
    model = LeNet5().eval()
    keep = {n: torch.rand(m.weight.shape) < 0.4 for n, m in masks.prunable_layers(model).items()}
    keep["conv1"][:5] = False  # conv1 filters 0-4: zero kernels, constant relu(bias) maps
    keep["conv2"][:, 5:8] = False  # conv1 filters 5-7 read by no conv2 kernel
    keep["conv2"][:10] = False  # conv2 filters 0-9: constant maps folded into fc1
    keep["fc1"][:, 160:240] = False  # conv2 filters 10-14 read by no fc1 unit
    keep["fc1"][:100] = False  # fc1 units 0-99: constant, folded into fc2
    keep["fc2"][:] = True  # (a random fc2 mask would leave a few more units unread by chance)
    keep["fc2"][:, 100:150] = False  # fc1 units 100-149: unread
    with torch.no_grad():
        for m in masks.prunable_layers(model).values():
            m.bias.uniform_(-0.5, 0.5)
    masks.apply_masks(model, keep)
    x = torch.rand(8, 1, 28, 28)
    small = inference.compact(model)
    assert torch.allclose(small(x), model(x), atol=1e-5)
    assert small.conv1.out_channels == 12 and small.conv2.out_channels == 35
    assert small.fc1.out_features == 350
    assert torch.allclose(inference.sparse(model)(x), model(x), atol=1e-5)


def test_unsupported_models():
    with pytest.raises(TypeError, match="compact"):
        inference.compact(torch.nn.Sequential(torch.nn.Linear(2, 2)))
